"""KeySender without Locust: each answer (or its absence) classified, timed on fake clocks,
recorded, and reported to Locust's statistics; a fake transport in place of geventhttpclient."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import gevent
import pyarrow as pa
import pytest
from gevent import GreenletExit
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed
from geventhttpclient.useragent import BadStatusCode
from pydantic import SecretStr
from write_fakes import FakeClock

from harness.api.answer import MAX_BODY_BYTES
from harness.load.options import RUN_OPTIONS
from harness.load.settings import run_settings
from harness.locust import sender as sender_module
from harness.locust.protocol import ChatbotAccess
from harness.locust.recorder import Recorder
from harness.locust.sender import KeySender
from harness.run.clock import ClockOffset

API_FIXTURES = Path(__file__).parent.parent / "api" / "fixtures"
OK_BODY = b'{"answer":"hello","citations":[]}'
EXCHANGE_NS = 7_000_000  # the fake exchange's length, before the body is read
READ_NS = 2_000_000  # the fake body read's


class Clocks:
    """A wall and a monotonic clock in ns that move only when the fake transport says."""

    def __init__(self) -> None:
        self.wall = 1_700_000_000_000_000_000
        self.mono = 50_000_000_000

    def advance(self, ns: int) -> None:
        self.wall += ns
        self.mono += ns


class FakeResponse:
    def __init__(self, clocks: Clocks, status: int, body: bytes, cut: BaseException | None) -> None:
        self.status_code = status
        self.content_length = len(body)
        self._chunks = [body[i : i + 65536] for i in range(0, len(body), 65536)]
        self._clocks = clocks
        self._cut = cut
        self.released = False

    def read(self, size: int) -> bytes:
        self._clocks.advance(READ_NS)
        if self._chunks:
            return self._chunks.pop(0)
        if self._cut is not None:
            raise self._cut
        return b""

    def release(self) -> None:
        self.released = True


Exchange = Callable[[], FakeResponse]


class FakeClient:
    """geventhttpclient's ``HTTPClient`` as the sender uses it: one scripted answer per request."""

    def __init__(self, clocks: Clocks) -> None:
        self.clocks = clocks
        self.requests: list[dict[str, Any]] = []
        self.answer: Exchange = lambda: self.respond(200, OK_BODY)

    def respond(self, status: int, body: bytes, cut: BaseException | None = None) -> FakeResponse:
        return FakeResponse(self.clocks, status, body, cut)

    def request(self, method: str, path: str, body: bytes, headers: dict[str, str]) -> FakeResponse:
        self.requests.append({"method": method, "path": path, "body": body, "headers": headers})
        self.clocks.advance(EXCHANGE_NS)
        return self.answer()


class Fixture:
    """A sender of the built-in scenario's first key, its records and its statistics."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timeout_s: float) -> None:
        self.clocks = Clocks()
        self.client = FakeClient(self.clocks)
        client = self.client

        class FakePool:
            def __init__(self, ip: str, **_: object) -> None:
                self.local_ip = ip or "127.0.0.1"

            def get_client(self, url: object) -> FakeClient:
                return client

        monkeypatch.setattr(sender_module, "SourceBoundClientPool", FakePool)
        options: dict[str, object] = {option.name: None for option in RUN_OPTIONS}
        settings = run_settings(
            options, spell=str, run_id="run-1", run_dir=tmp_path, target="http://127.0.0.1:9"
        ).model_copy(update={"request_timeout_s": timeout_s})
        self.slot = slot = settings.slots[0]
        self.handed: list[pa.Table] = []
        recorder = Recorder(
            "w1", ClockOffset(0, 0), self.handed.append, batch_rows=1, monotonic=FakeClock()
        )
        access = ChatbotAccess(chatbot_id="bot-9", token=SecretStr("tok-1"))
        run = SimpleNamespace(
            settings=settings, recorder=recorder, chatbots={slot.case.name: access}
        )
        self.events: list[dict[str, Any]] = []
        request = SimpleNamespace(fire=lambda **event: self.events.append(event))
        user = SimpleNamespace(
            environment=SimpleNamespace(events=SimpleNamespace(request=request)),
            context=dict,
        )
        self.sender = KeySender(
            user,
            run,
            slot,
            slot.keys[0],
            wall_ns=lambda: self.clocks.wall,
            mono_ns=lambda: self.clocks.mono,
        )

    def record(self, index: int = -1) -> dict[str, Any]:
        rows: list[dict[str, Any]] = self.handed[index].to_pylist()
        (row,) = rows
        return row


@pytest.fixture
def sending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fixture:
    return Fixture(tmp_path, monkeypatch, timeout_s=30.0)


def test_a_request_is_timed_from_just_before_it_leaves_to_after_its_whole_answer(
    sending: Fixture,
) -> None:
    before = (sending.clocks.wall, sending.clocks.mono)
    answer = sending.sender.send("hammer", 3, intended_mono_ns=before[1] - 400)
    assert (answer.outcome, answer.http_status) == ("ok", 200)
    row = sending.record()
    elapsed = EXCHANGE_NS + 2 * READ_NS  # the body, then the read that finds its end
    assert (row["send_wall_ns"], row["send_mono_ns"]) == before
    assert row["recv_wall_ns"] - row["send_wall_ns"] == elapsed
    assert row["recv_mono_ns"] - row["send_mono_ns"] == elapsed
    assert row["intended_send_mono_ns"] == before[1] - 400
    assert row["latency_ms"] == elapsed / 1e6
    assert (row["phase"], row["user"], row["chatbot_id"]) == (
        "hammer",
        f"{sending.slot.index}.3",
        "bot-9",
    )
    assert (row["answer_chars"], row["response_bytes"]) == (5, len(OK_BODY))
    (event,) = sending.events
    assert event["response_time"] == elapsed / 1e6
    assert (event["response_length"], event["exception"]) == (len(OK_BODY), None)
    assert event["start_time"] == before[0] / 1e9
    (sent,) = sending.client.requests
    assert sent["headers"]["authorization"] == "Bearer tok-1"
    assert sent["headers"]["accept-encoding"] == "identity"


def test_a_throttling_429_is_answered_not_failed(sending: Fixture) -> None:
    body = (API_FIXTURES / "seed_429_throttling.json").read_bytes()
    sending.client.answer = lambda: sending.client.respond(429, body)
    answer = sending.sender.send("hammer", 0)
    assert (answer.outcome, answer.http_status, answer.body_valid) == ("throttled", 429, True)
    assert sending.record()["reason"] == "ERROR_REASON_PROMPT_THROTTLING"
    assert sending.events[0]["exception"] is None


def test_a_5xx_is_a_server_error_and_a_failure_for_locust(sending: Fixture) -> None:
    sending.client.answer = lambda: sending.client.respond(503, b"")
    answer = sending.sender.send("hammer", 0)
    assert (answer.outcome, answer.http_status) == ("server_error", 503)
    assert isinstance(sending.events[0]["exception"], BadStatusCode)


def raising(error: BaseException) -> Exchange:
    def exchange() -> FakeResponse:
        raise error

    return exchange


@pytest.mark.parametrize(
    ("error", "error_class"),
    [
        (ConnectionRefusedError(111, "Connection refused"), "connect"),
        (HTTPConnectionClosed("closed"), "reset"),
        (HTTPParseError("not HTTP at all"), "protocol"),
        (gevent.Timeout(1.0), "timeout"),  # a socket's own timeout, not the deadline
    ],
)
def test_no_answer_is_a_transport_error_by_its_class(
    sending: Fixture, error: BaseException, error_class: str
) -> None:
    sending.client.answer = raising(error)
    answer = sending.sender.send("hammer", 0)
    assert (answer.outcome, answer.error_class, answer.http_status) == (
        "transport_error",
        error_class,
        0,
    )
    assert sending.record()["error_class"] == error_class
    assert sending.events[0]["exception"] is not None


def test_a_body_cut_short_keeps_its_status_and_is_truncated(sending: Fixture) -> None:
    cut = HTTPParseError("Incomplete response")
    sending.client.answer = lambda: sending.client.respond(200, b'{"answer":', cut)
    answer = sending.sender.send("hammer", 0)
    assert (answer.outcome, answer.error_class, answer.http_status) == ("ok", "truncated", 200)


def test_a_body_past_the_bound_is_not_read_whole(sending: Fixture) -> None:
    response = sending.client.respond(200, b"x" * (MAX_BODY_BYTES + 70_000))
    response.content_length = None  # undeclared: only the read finds it too large
    sending.client.answer = lambda: response
    answer = sending.sender.send("hammer", 0)
    assert answer.error_class == "too_large"
    assert response.released  # the connection is not handed back mid-answer


def test_no_whole_answer_within_the_timeout_is_recorded_as_a_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sending = Fixture(tmp_path, monkeypatch, timeout_s=0.05)

    def never_answers() -> FakeResponse:
        gevent.sleep(60)  # the sender's deadline ends it
        raise AssertionError("the deadline did not fire")

    sending.client.answer = never_answers
    answer = sending.sender.send("hammer", 0)
    assert (answer.outcome, answer.error_class) == ("transport_error", "timeout")
    assert isinstance(sending.events[0]["exception"], TimeoutError)
    # The next request has a deadline of its own (one that had fired is never reused).
    sending.client.answer = lambda: sending.client.respond(200, OK_BODY)
    assert sending.sender.send("hammer", 0).outcome == "ok"


@pytest.mark.parametrize("stop", [GreenletExit(), KeyboardInterrupt()])
def test_a_request_cut_short_by_a_stop_is_recorded_before_the_stop_goes_on(
    sending: Fixture, stop: BaseException
) -> None:
    sending.client.answer = raising(stop)
    with pytest.raises(type(stop)):
        sending.sender.send("hammer", 0)
    row = sending.record()
    assert (row["outcome"], row["error_class"]) == ("transport_error", "interrupted")
    assert sending.events == []  # Locust's statistics never see it: the stop goes on
    assert sending.sender.sent == 1


def test_a_bug_in_the_exchange_is_recorded_as_other_and_raised(sending: Fixture) -> None:
    sending.client.answer = raising(ValueError("a bug"))
    with pytest.raises(ValueError, match="a bug"):
        sending.sender.send("hammer", 0)
    assert sending.record()["error_class"] == "other"
