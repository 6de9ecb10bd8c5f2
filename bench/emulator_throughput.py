"""prompts:chat on the emulator vs a bare JSON endpoint on the same stack, both driven by wrk.

The emulator answers with limits enabled but never reached (so the limiter and the quota run on
every request). The figure that matters is the ratio, measured in one run on one machine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from bench.targets import BENCH_KEY
from harness.api.client import AiskClient
from harness.load.chatbots import chatbot_for_case
from harness.load.scenario import parse_scenario

WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = '{body}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["authorization"] = "Bearer {token}"
"""


@contextmanager
def target(kind: str, cpus: set[int] | None = None) -> Iterator[str]:
    """A target server in its own process (pinned to ``cpus`` if given); yields its base URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.targets", kind],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=None if cpus is None else partial(os.sched_setaffinity, 0, cpus),
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


# The chatbot every benchmark posts to: limits on (so the limiter and quota run), never reached.
BENCH_SCENARIO = """
name = "bench"
duration = "{seconds}s"

[[cases]]
name = "bench-hammer"
behaviour = {{ kind = "hammer" }}
population = {{ keys = {keys}, users_per_key = {clients} }}
rate_limit = {{ limit = 2147483647, duration = "1s", vary_by = "device" }}
quota = {{ limit = 2147483647 }}
"""


def chatbot_token(base_url: str) -> str:
    """Create the bench case's chatbot and mint a token for it (the same as the harness would)."""
    text = BENCH_SCENARIO.format(seconds=1, keys=1, clients=1)
    case = parse_scenario(tomllib.loads(text), "bench scenario").cases[0]
    with AiskClient(base_url, BENCH_KEY) as client:
        chatbot = client.create_chatbot(chatbot_for_case(case, "bench"))
        assert chatbot.id is not None
        return client.create_chatbot_token(chatbot.id).get_secret_value()


def wrk(base_url: str, token: str, seconds: int, connections: int) -> dict[str, Any]:
    request = {
        "question": "How many messages may I send?",
        "kb_ids": [],
        "metadata": {"session_id": "bench", "device": {"id": "bench-device", "platform": "ios"}},
    }
    with tempfile.TemporaryDirectory() as folder:
        script = Path(folder, "post.lua")
        script.write_text(WRK_SCRIPT.format(body=json.dumps(request), token=token))
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                str(script),
                "--latency",
                f"{base_url}/bv/aisk/v1/prompts:chat",
            ],
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 30,
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    p99 = re.search(r"99%\s+(\S+)", out)
    return {
        "rps": rps,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p99": p99.group(1) if p99 else "?",
    }


def run(seconds: int = 10, connections: int = 32) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    results: dict[str, Any] = {"seconds": seconds, "connections": connections}
    with target("bare") as url:
        results["bare"] = wrk(url, "unused", seconds, connections)
    with target("emulator") as url:
        results["emulator"] = wrk(url, chatbot_token(url), seconds, connections)
    results["ratio"] = results["emulator"]["rps"] / results["bare"]["rps"]
    return results
