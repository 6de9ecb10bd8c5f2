"""The ``http`` profile's load: closed-loop clients on threads, every request a record.

No Locust: an HTTP limiter's limits are reached by a few clients per key, and a key carried by
its source address needs only the client's socket bound to it (127.0.0.x on loopback). Each
client is one thread with its own connection; the clock is read around each exchange only, so
the records' [send, receive] intervals hold the server's instant as the checks assume.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from harness.api.answer import Answer, transport_answer
from harness.api.transport import transport_failure
from harness.profiles.http.answers import http_answer
from harness.profiles.http.scenario import HttpCase
from harness.run.clock import ClockOffset
from harness.run.records import Origin, Record, RequestContext, Times

__all__ = ["HttpKey", "Recorder", "key_mode", "send_case"]

PROCESS = "local"  # one sending process: the records' ``process``
RETRY_PHASE = "polite-retry"  # a request sent right after a reported wait (as the chatbot's)
_NO_OFFSET = ClockOffset(0, 0)


@dataclass(frozen=True, slots=True)
class HttpKey:
    """One key of a case: the value the limiter should count by, and how it is carried."""

    case: str
    index: int
    value: str  # the header's value, the source address, or "" (no key)
    source_ip: str  # the address the client binds ("" for the system's choice)
    judged: str  # the records' ``key``: the value, or "" where the policy does not vary


def key_mode(case: HttpCase) -> str:
    """The records' ``key_mode`` of a case: ip (source address), header, or none."""
    return {"source-address": "ip", "header": "header", "none": "none"}[case.key.by]


class Recorder:
    """The run's records as the clients make them, numbered in one sequence (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: list[Record] = []

    def add(self, context: RequestContext, phase: str, times: Times, answer: Answer) -> None:
        with self._lock:
            origin = Origin(f"{PROCESS}-{len(self._records)}", PROCESS, "chat", phase)
            self._records.append(Record(origin, context, times, _NO_OFFSET, answer))

    def records(self) -> list[Record]:
        with self._lock:
            return list(self._records)


def _fill(template: str, key: HttpKey, seq: int) -> str:
    # replace, not str.format: a JSON body's own braces stay as they are
    return template.replace("{key}", key.value).replace("{seq}", str(seq))


def _exchange(client: httpx.Client, case: HttpCase, key: HttpKey, seq: int) -> tuple[Times, Answer]:
    request = case.request
    headers = {name: _fill(value, key, seq) for name, value in request.headers.items()}
    if case.key.by == "header" and case.key.header:
        headers[case.key.header] = key.value
    body = _fill(request.body, key, seq).encode() if request.body else None
    send_wall, send_mono = time.time_ns(), time.monotonic_ns()
    try:
        response = client.request(request.method, request.path, headers=headers, content=body)
        recv_wall, recv_mono = time.time_ns(), time.monotonic_ns()
    except httpx.HTTPError as exc:
        recv_wall, recv_mono = time.time_ns(), time.monotonic_ns()
        failure = transport_failure(exc)
        times = Times(send_wall, recv_wall, send_mono, recv_mono)
        return times, transport_answer(failure.error_class, failure.label)
    times = Times(send_wall, recv_wall, send_mono, recv_mono)
    answer = http_answer(
        response.status_code,
        {name.lower(): value for name, value in response.headers.items()},
        len(response.content),
        throttle_status=case.throttle.status,
        wait_from=case.throttle.wait,
        recv_wall_ns=recv_wall,
    )
    return times, answer


@dataclass(frozen=True, slots=True)
class _Client:
    target: str
    case: HttpCase
    key: HttpKey
    number: int
    deadline_mono_ns: int
    budget: int  # requests this client may send at most
    timeout_s: float

    def run(self, recorder: Recorder, stop: threading.Event) -> None:
        case, key = self.case, self.key
        transport = httpx.HTTPTransport(local_address=key.source_ip or None)
        context = RequestContext(
            case.name,
            "",
            key_mode(case),
            key.judged,
            key.source_ip,
            "",
            "",
            f"{case.name}/{key.index}/{self.number}",
        )
        pace_ns = int(1e9 * case.clients_per_key / case.rate) if case.rate is not None else 0
        start = time.monotonic_ns()
        phase: str = case.behaviour
        with httpx.Client(base_url=self.target, transport=transport, timeout=self.timeout_s) as c:
            for seq in range(self.budget):
                if pace_ns:
                    due = start + seq * pace_ns
                    if stop.wait(max(0, due - time.monotonic_ns()) / 1e9):
                        return
                if stop.is_set() or time.monotonic_ns() >= self.deadline_mono_ns:
                    return
                times, answer = _exchange(c, case, key, seq)
                recorder.add(context, phase, times, answer)
                phase = case.behaviour
                if case.behaviour == "polite" and answer.wait_ns is not None:
                    # sleep the reported wait, then retry: what wait-honesty judges
                    if stop.wait(answer.wait_ns / 1e9):
                        return
                    phase = RETRY_PHASE


def send_case(
    target: str,
    case: HttpCase,
    keys: list[HttpKey],
    duration_ns: int,
    recorder: Recorder,
    stop: threading.Event,
    timeout_s: float,
) -> list[threading.Thread]:
    """Start the case's clients (``clients_per_key`` per key); the caller joins the threads."""
    deadline = time.monotonic_ns() + duration_ns
    budget = -(-case.max_requests_per_key // case.clients_per_key)
    threads = []
    for key in keys:
        for number in range(case.clients_per_key):
            client = _Client(target, case, key, number, deadline, budget, timeout_s)
            thread = threading.Thread(
                target=client.run, args=(recorder, stop), name=f"{case.name}-{key.index}-{number}"
            )
            thread.start()
            threads.append(thread)
    return threads
