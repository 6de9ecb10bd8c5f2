"""The baseline user: Locust's fast HTTP client posting prompts:chat, nothing recorded."""

from locust import FastHttpUser, constant, task

import json
import os

BODY = json.dumps(
    {
        "question": "How many messages may I send?",
        "kb_ids": [],
        "metadata": {"session_id": "bench", "device": {"id": "bench-bare", "platform": "ios"}},
    }
)


class BareChatUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def chat(self) -> None:
        self.client.post(
            "/bv/aisk/v1/prompts:chat",
            data=BODY,
            headers={
                "authorization": f"Bearer {os.environ['BENCH_TOKEN']}",
                "content-type": "application/json",
            },
        )
