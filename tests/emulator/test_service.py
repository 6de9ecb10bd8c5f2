"""The emulated API without HTTP: keys, ordering of rate limit and quota, and every seeded fault.

A controlled clock makes each decision exact; chat is a coroutine, run with ``asyncio.run``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr

from harness.emulator import (
    CORRECT,
    FAULTS,
    Algorithm,
    EmulatorConfig,
    EmulatorService,
    ManualClock,
    Policy,
    policy_for,
)
from harness.emulator.chat import Peer

S = 1_000_000_000
KEY = "org-key-7f3a"
START = datetime(2026, 3, 1, 10, 0, tzinfo=ZoneInfo("Asia/Taipei"))
DEVICE = "RATE_LIMIT_VARY_BY_DEVICE_ID"
IP = "RATE_LIMIT_VARY_BY_IP"


class Harness:
    """One service, its clock, and terse ways to create chatbots and chat."""

    def __init__(
        self,
        policy: Policy = CORRECT,
        algorithm: Algorithm = Algorithm.SLIDING_LOG,
        trust_forwarded_for: bool = False,
    ) -> None:
        self.clock = ManualClock(int(START.timestamp()) * S)
        config = EmulatorConfig(
            api_keys=(SecretStr(KEY),),
            algorithm=algorithm,
            policy=policy,
            trust_forwarded_for=trust_forwarded_for,
        )
        self.service = EmulatorService(config, self.clock)
        self.last_chatbot_id = ""

    def chatbot(
        self,
        limit: int | None = 3,
        duration: str = "1m",
        vary_by: str | None = DEVICE,
        quota: int | None = None,
        message: str = "Slow down",
    ) -> str:
        rate: dict[str, Any] = {"enabled": limit is not None}
        if limit is not None:
            rate["setting"] = {"limit": limit, "duration": duration, "throttle_message": message}
            if vary_by is not None:
                rate["setting"]["vary_by"] = vary_by
        body = {
            "chatbot": {
                "name": "probe",
                "setting": {"model": "MODEL_LITE", "response_length": {"enabled": False}},
                "appearance": {"enabled": False},
                "reference": {},
                "rate_limit": rate,
                "quota_limit": {
                    "enabled": quota is not None,
                    **(
                        {"setting": {"limit": quota, "reset": "QUOTA_LIMIT_RESET_DAILY"}}
                        if quota is not None
                        else {}
                    ),
                },
            }
        }
        created = self.service.create_chatbot(KEY, json.dumps(body).encode())
        assert created.status == 200, created.body
        chatbot_id = json.loads(created.body)["chatbot"]["id"]
        self.last_chatbot_id = str(chatbot_id)
        minted = self.service.create_token(f"Bearer {KEY}", chatbot_id, b"{}")
        assert minted.status == 200
        return str(json.loads(minted.body)["token"])

    def chat(
        self,
        token: str,
        device: str | None = "dev-1",
        ip: str = "127.0.0.1",
        xff: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        metadata: dict[str, Any] = {"session_id": "s"}
        if device is not None:
            metadata["device"] = {"id": device, "platform": "ios"}
        raw = json.dumps({"question": "hi", "kb_ids": [], "metadata": metadata}).encode()
        answer = asyncio.run(self.service.chat(f"Bearer {token}", raw, Peer(ip, xff)))
        return answer.status, json.loads(answer.body)

    def statuses(self, token: str, count: int, **kwargs: Any) -> list[int]:
        return [self.chat(token, **kwargs)[0] for _ in range(count)]


def metadata(body: dict[str, Any]) -> dict[str, str]:
    details = body["details"]
    assert len(details) == 1
    return dict(details[0]["metadata"])


def test_vary_by_device_gives_each_device_its_own_budget_whatever_its_ip() -> None:
    h = Harness()
    token = h.chatbot(limit=2, vary_by=DEVICE)
    assert h.statuses(token, 3, device="a", ip="127.0.0.2") == [200, 200, 429]
    assert h.statuses(token, 1, device="a", ip="127.0.0.3") == [429]  # same device, other IP
    assert h.statuses(token, 2, device="b", ip="127.0.0.2") == [200, 200]


def test_vary_by_ip_gives_each_peer_its_own_budget_whatever_the_device() -> None:
    h = Harness()
    token = h.chatbot(limit=2, vary_by=IP)
    assert h.statuses(token, 2, device="a", ip="127.0.0.2") == [200, 200]
    assert h.statuses(token, 1, device="b", ip="127.0.0.2") == [429]  # other device, same IP
    assert h.statuses(token, 1, device="a", ip="127.0.0.3") == [200]


def test_no_vary_by_means_one_budget_for_the_whole_chatbot() -> None:
    h = Harness()
    token = h.chatbot(limit=2, vary_by=None)
    assert [
        h.chat(token, device=d, ip=ip)[0] for d, ip in (("a", "1"), ("b", "2"), ("c", "3"))
    ] == [
        200,
        200,
        429,
    ]


def test_a_request_without_a_device_id_is_keyed_by_its_ip() -> None:
    h = Harness()
    token = h.chatbot(limit=1, vary_by=DEVICE)
    assert h.statuses(token, 2, device=None, ip="127.0.0.2") == [200, 429]
    assert h.statuses(token, 1, device=None, ip="127.0.0.3") == [200]


def test_forwarded_for_is_ignored_unless_trusted() -> None:
    untrusting = Harness()
    token = untrusting.chatbot(limit=1, vary_by=IP)
    assert [untrusting.chat(token, xff=f"10.0.0.{i}")[0] for i in range(3)] == [200, 429, 429]
    trusting = Harness(trust_forwarded_for=True)
    token = trusting.chatbot(limit=1, vary_by=IP)
    assert [trusting.chat(token, xff=f"10.0.0.{i}, 127.0.0.1")[0] for i in range(3)] == [200] * 3


def test_the_throttle_answer_echoes_the_configuration_and_the_exact_wait() -> None:
    h = Harness()
    token = h.chatbot(limit=2, duration="1m", message="請慢一點")
    h.chat(token)
    h.clock.advance(10 * S)
    h.chat(token)
    h.clock.advance(13_418_214_000)
    status, body = h.chat(token)
    assert status == 429
    assert (body["code"], body["message"]) == (8, "throttle")
    assert body["details"][0]["reason"] == "ERROR_REASON_PROMPT_THROTTLING"
    assert body["details"][0]["domain"] == "bv.aisk.v1"
    assert metadata(body) == {
        "duration": "1m0s",
        "limit": "2",
        "throttle_message": "請慢一點",
        "vary_by": DEVICE,
        "wait": "36.581786s",
        "wait_sec": "36.581786",
    }


def test_throttled_requests_do_not_consume_quota() -> None:
    h = Harness()
    token = h.chatbot(limit=2, quota=3)
    assert h.statuses(token, 4) == [200, 200, 429, 429]
    h.clock.advance(60 * S)
    # Had the two throttled requests counted, the quota (3) would already be used up.
    assert h.chat(token)[0] == 200
    status, body = h.chat(token)
    assert status == 429
    assert body["details"][0]["reason"] == "ERROR_REASON_PROMPT_OUT_OF_QUOTA"


def test_rate_limit_is_checked_first_and_a_quota_refusal_consumes_no_rate_budget() -> None:
    h = Harness()
    h.clock.set(datetime(2026, 3, 1, 23, 59, 30, tzinfo=ZoneInfo("Asia/Taipei")))
    token = h.chatbot(limit=2, quota=2)
    assert h.statuses(token, 2, device="a") == [200, 200]
    # Device a is out of both: the throttle answer wins.
    assert h.chat(token, device="a")[1]["message"] == "throttle"
    refusals = [h.chat(token, device="b")[1] for _ in range(2)]
    assert [body["message"] for body in refusals] == ["out of quota"] * 2
    assert metadata(refusals[0])["reset_at"] == "2026-03-02T00:00:00+08:00"
    assert metadata(refusals[0])["reset_in"] == "30s"
    assert metadata(refusals[0])["reset_in_sec"] == "30.000000"
    h.clock.advance(31 * S)  # a new organisation day; b's refusals would still be in its window
    assert h.statuses(token, 2, device="b") == [200, 200]


def _probe_burst(h: Harness) -> Any:
    token = h.chatbot(limit=3)
    return h.statuses(token, 5)


def _probe_two_devices(h: Harness) -> Any:
    token = h.chatbot(limit=2, vary_by=DEVICE)
    return h.statuses(token, 2, device="a", ip="127.0.0.2") + h.statuses(
        token, 2, device="b", ip="127.0.0.2"
    )


def _probe_forwarded_for(h: Harness) -> Any:
    token = h.chatbot(limit=1, vary_by=IP)
    return [h.chat(token, xff=f"10.0.0.{i}")[0] for i in range(3)]


def _probe_recovery(h: Harness) -> Any:
    token = h.chatbot(limit=1, duration="10s")
    h.chat(token)
    h.clock.advance(10 * S)
    return h.chat(token)[0]


def _probe_wait(h: Harness) -> Any:
    token = h.chatbot(limit=1, duration="10s")
    h.chat(token)
    h.clock.advance(2_500_000_000)
    return metadata(h.chat(token)[1])["wait"]


def _probe_retry_while_blocked(h: Harness) -> Any:
    token = h.chatbot(limit=1, duration="10s")
    h.chat(token)
    h.clock.advance(5 * S)
    h.chat(token)  # throttled
    h.clock.advance(5 * S)
    return h.chat(token)[0]


def _probe_status(h: Harness) -> Any:
    token = h.chatbot(limit=1)
    h.chat(token)
    status, body = h.chat(token)
    return status, body["code"]


def _probe_metadata(h: Harness) -> Any:
    token = h.chatbot(limit=1, message="Slow down")
    h.chat(token)
    return metadata(h.chat(token)[1])


def _probe_quota(h: Harness) -> Any:
    token = h.chatbot(limit=None, quota=2)
    return [h.chat(token)[0] for _ in range(3)]


def _probe_quota_day(h: Harness) -> Any:
    # 07:30 in Taipei is 23:30 UTC the day before: the UTC day ends half an hour later.
    h.clock.set(datetime(2026, 3, 2, 7, 30, tzinfo=ZoneInfo("Asia/Taipei")))
    token = h.chatbot(limit=None, quota=1)
    h.chat(token)
    h.clock.advance(3600 * S)
    return h.chat(token)[0]


def _probe_reset_at(h: Harness) -> Any:
    token = h.chatbot(limit=None, quota=1)
    h.chat(token)
    return metadata(h.chat(token)[1])["reset_at"]


def _probe_throttled_quota(h: Harness) -> Any:
    token = h.chatbot(limit=1, quota=2)
    h.statuses(token, 3)
    h.clock.advance(60 * S)
    return h.chat(token)[0]


def _probe_race(h: Harness) -> Any:
    token = h.chatbot(limit=2)
    raw = json.dumps(
        {"question": "hi", "kb_ids": [], "metadata": {"device": {"id": "same"}}}
    ).encode()

    async def together() -> list[int]:
        answers = await asyncio.gather(
            *(h.service.chat(f"Bearer {token}", raw, Peer("127.0.0.1")) for _ in range(6))
        )
        return [answer.status for answer in answers]

    return sorted(asyncio.run(together()))


def _probe_answer(h: Harness) -> Any:
    return h.chat(h.chatbot(limit=1))[1]["answer"]


PROBES: dict[str, Callable[[Harness], Any]] = {
    "admit-one-extra": _probe_burst,
    "admit-one-fewer": _probe_burst,
    "ignore-vary-by": _probe_two_devices,
    "swap-vary-by": _probe_two_devices,
    "trust-forwarded-for": _probe_forwarded_for,
    "long-window": _probe_recovery,
    "short-wait": _probe_wait,
    "floored-wait": _probe_wait,
    "count-throttled": _probe_retry_while_blocked,
    "race-check-record": _probe_race,
    "throttle-503": _probe_status,
    "duration-seconds": _probe_metadata,
    "wait-sec-millis": _probe_metadata,
    "default-throttle-message": _probe_metadata,
    "quota-one-extra": _probe_quota,
    "quota-day-utc": _probe_quota_day,
    "reset-at-utc": _probe_reset_at,
    "throttled-consume-quota": _probe_throttled_quota,
    "empty-answer": _probe_answer,
}


def test_every_fault_has_a_probe_and_there_are_at_least_twelve() -> None:
    assert set(PROBES) == set(FAULTS)
    assert len(FAULTS) >= 12


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_each_fault_changes_what_a_client_observes(name: str) -> None:
    probe = PROBES[name]
    correct, faulty = probe(Harness()), probe(Harness(policy=policy_for(name)))
    assert correct != faulty


def test_the_correct_answers_of_the_probes() -> None:
    assert _probe_burst(Harness()) == [200, 200, 200, 429, 429]
    assert _probe_recovery(Harness()) == 200
    assert _probe_wait(Harness()) == "7.5s"
    assert _probe_retry_while_blocked(Harness()) == 200
    assert _probe_status(Harness()) == (429, 8)
    assert _probe_race(Harness()) == [200, 200, 429, 429, 429, 429]
    assert _probe_reset_at(Harness()) == "2026-03-02T00:00:00+08:00"
    assert _probe_quota_day(Harness()) == 429


def test_an_unknown_fault_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="admit-one-extra"):
        policy_for("no-such-fault")


@pytest.mark.parametrize("algorithm", list(Algorithm))
def test_every_algorithm_serves_the_documented_throttle_shape(algorithm: Algorithm) -> None:
    h = Harness(algorithm=algorithm)
    token = h.chatbot(limit=5, duration="1m")
    statuses = h.statuses(token, 6)
    assert statuses == [200] * 5 + [429]
    _, body = h.chat(token)
    assert set(metadata(body)) == {
        "duration",
        "limit",
        "throttle_message",
        "vary_by",
        "wait",
        "wait_sec",
    }


def test_deleting_a_chatbot_revokes_its_tokens() -> None:
    h = Harness()
    token = h.chatbot()
    assert h.service.delete_chatbot(KEY, h.last_chatbot_id).status == 200
    assert h.chat(token)[0] == 401


def test_the_empty_answer_knob_answers_admitted_chats_with_nothing() -> None:
    """The empty-answer fault's knob, and only for admitted chats (well-formed catches it)."""
    correct, empty = Harness(), Harness(policy=Policy(empty_answer=True))
    correct_status, correct_body = correct.chat(correct.chatbot(limit=1))
    assert correct_status == 200
    assert correct_body["answer"]
    assert correct_body["citations"]
    token = empty.chatbot(limit=1)
    assert empty.chat(token) == (200, {"answer": "", "citations": []})
    status, body = empty.chat(token)
    assert (status, body["message"]) == (429, "throttle")
