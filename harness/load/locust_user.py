"""The Locust user of the harness: one user per slot (a key and the clients sharing it).

Every request is timed with this process's monotonic clock just before it is handed to the HTTP
client and just after its whole answer is read, so the server's decision lies in [send, recv].
The fast HTTP client never retries. A request cut short by a stop is still recorded, as an
``interrupted`` transport error: it was sent, and the target may have counted it.
"""

from __future__ import annotations

from locust import User, task
from locust.contrib.fasthttp import FastHttpSession, FastResponse
from locust.exception import StopUser

import socket
import time
from collections.abc import Callable
from functools import partial
from typing import Any, NamedTuple

import gevent
from gevent import GreenletExit
from gevent.pool import Group
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed
from geventhttpclient.useragent import BadStatusCode

from harness.api.client import CHAT_PATH
from harness.api.duration import parse_duration
from harness.load.budget import SlotAllowance
from harness.load.chat_body import chat_bodies
from harness.load.classify import (
    INTERRUPTED,
    MAX_BODY_BYTES,
    Answer,
    classify_answer,
    transport_answer,
    unread_answer,
)
from harness.load.keys import KeyPlan
from harness.load.locust_pool import SourceBoundClientPool
from harness.load.locust_state import LoadState, state_of
from harness.load.row_buffer import Prefix, RequestContext
from harness.load.scenario import Burst, Paced, Polite
from harness.load.schedule import Slot

__all__ = ["KeyUser"]

NS = 1_000_000_000


def cause(error: BaseException | None) -> BaseException | None:
    """The failure itself: geventhttpclient wraps that of its last (only) try in RetriesExceeded."""
    original = getattr(error, "original", None)
    return original if isinstance(original, BaseException) else error


def error_class(error: BaseException | None) -> str:
    """What kind of transport failure a request met (the ``error_class`` column)."""
    error = cause(error)
    if isinstance(error, gevent.Timeout | socket.timeout | TimeoutError):
        return "timeout"
    if isinstance(error, ConnectionRefusedError):
        return "connect"
    if isinstance(error, ConnectionResetError | BrokenPipeError | HTTPConnectionClosed):
        return "reset"  # HTTPConnectionClosed: reset or closed before the first byte of an answer
    if isinstance(error, HTTPParseError):
        # Also what a connection closed before the end of the answer raises.
        return "truncated" if "Incomplete response" in str(error) else "protocol"
    return "other"


class _KeySender:
    """Sends the requests of one key: rotation of devices/IPs/headers, timing, recording."""

    def __init__(self, user: KeyUser, state: LoadState, slot: Slot, key: KeyPlan) -> None:
        self.state = state
        self.slot = slot
        self.key = key
        setup = state.setup_for(slot.case.name)
        self.chatbot_id = setup.chatbot_id
        self.name = f"chat {slot.case.name}"
        self._auth = f"Bearer {setup.token.get_secret_value()}"
        self._bodies = chat_bodies(key, f"{state.run_id}-{slot.index}")
        concurrency = max(slot.clients, getattr(slot.case.behaviour, "size", 1))
        self._pools = [
            SourceBoundClientPool(
                ip,
                concurrency=concurrency,
                connection_timeout=state.request_timeout_s,
                network_timeout=state.request_timeout_s,
            )
            for ip in (key.source_ips or ("",))
        ]
        self._sessions = [
            FastHttpSession(
                state.host,
                request_event=user.environment.events.request,
                user=user,
                client_pool=pool,
                max_retries=0,
            )
            for pool in self._pools
        ]
        for session in self._sessions:
            # Every status reaches us with its body unread (read bounded in ``_classify``);
            # Locust's failure column still counts what ``_AnsweredResponse`` says failed.
            setattr(session.client, "valid_response_codes", ANY_STATUS)  # noqa: B010 (class var)
            setattr(session.client, "response_type", _AnsweredResponse)  # noqa: B010 (class var)
            # No cookies: the clients of a key share a session, and a cookie one of them got
            # would make them all one browser to the target. (It also saves two jar walks.)
            session.client.cookiejar = None
        self._routes = list(zip(self._sessions, self._pools, strict=True))
        # One header set per X-Forwarded-For value of the rotation (the session copies it).
        self._headers = [
            (forwarded_for, self._headers_with(forwarded_for))
            for forwarded_for in (key.forwarded_fors or ("",))
        ]
        self.sent = 0
        self._prefixes: dict[tuple[str, int, int, str, str], Prefix] = {}

    def _headers_with(self, forwarded_for: str) -> dict[str, str]:
        # identity: a body is read raw and bounded, never inflated (a compression bomb).
        headers = {
            "authorization": self._auth,
            "content-type": "application/json",
            "accept-encoding": "identity",
        }
        if forwarded_for:
            headers["x-forwarded-for"] = forwarded_for
        return headers

    def prewarm(self, connections: int) -> None:
        for pool in self._pools:
            pool.prewarm(self.state.host, connections)

    def send(self, phase: str, client: int) -> Answer:
        turn = self.sent
        self.sent = turn + 1
        session, pool = self._routes[turn % len(self._routes)]
        device_index = turn % len(self._bodies)
        forwarded_for, headers = self._headers[turn % len(self._headers)]
        # The whole exchange has one deadline: a socket timeout alone would let an answer
        # trickling in byte by byte hold a client for ever. A new one each time: reusing one
        # that had fired made the requests after it time out too (tests/cli/test_faults.py).
        deadline = gevent.Timeout(self.state.request_timeout_s)
        send_wall, send_mono = time.time_ns(), time.monotonic_ns()
        deadline.start()
        try:
            response = session.request(
                "POST", CHAT_PATH, name=self.name, data=self._bodies[device_index],  # type: ignore[arg-type]
                headers=headers, stream=True,
            )  # fmt: skip
            answer = _classify(response)
            recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
        except BaseException as stop:
            recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
            if stop is not deadline:
                # A stop (GreenletExit, or a Ctrl-C raised in this greenlet) or a bug: the
                # request was sent and may have been counted: recorded before the stop goes on.
                interrupted = isinstance(stop, GreenletExit | KeyboardInterrupt | SystemExit)
                answer = transport_answer(
                    INTERRUPTED if interrupted else "other",
                    "the run stopped before the answer came" if interrupted else repr(stop),
                )
                self._record(phase, client, pool, device_index, forwarded_for,
                             (send_wall, recv_wall, send_mono, recv_mono), answer)  # fmt: skip
                raise
            answer = transport_answer("timeout", "no whole answer within the request timeout")
        finally:
            deadline.close()
        self._record(phase, client, pool, device_index, forwarded_for,
                     (send_wall, recv_wall, send_mono, recv_mono), answer)  # fmt: skip
        return answer

    def _record(
        self,
        phase: str,
        client: int,
        pool: SourceBoundClientPool,
        device_index: int,
        forwarded_for: str,
        times: tuple[int, int, int, int],
        answer: Answer,
    ) -> None:
        # A client's prefix repeats request after request: built once per combination.
        cache_key = (phase, client, device_index, pool.local_ip, forwarded_for)
        recorder = self.state.recorder
        prefix = self._prefixes.get(cache_key)
        if prefix is None:
            context = RequestContext(
                self.slot.case.name,
                self.chatbot_id,
                self.slot.case.vary_mode,
                self.key.key,
                pool.local_ip,
                self.key.device_ids[device_index],
                forwarded_for,
                f"{self.slot.index}.{client}",
            )
            prefix = self._prefixes[cache_key] = recorder.prefix("chat", phase, context)
        recorder.record(prefix, *times, answer)


# Statuses Locust counts as answered rather than failed: a 429 is the target doing its job.
# Bodies are judged by the checks, not by Locust's failure column.
ANSWERED = frozenset(range(200, 300)) | {429}
ANY_STATUS = frozenset(range(100, 600))


class _AnsweredResponse(FastResponse):
    """Fails in Locust's statistics exactly when the status is not ``ANSWERED``.

    The client itself accepts every status, so that it hands the answer over unread instead of
    closing the connection on a 5xx; this keeps Locust's failure column as it was.
    """

    def raise_for_status(self) -> None:
        super().raise_for_status()  # type: ignore[no-untyped-call]
        if self.status_code not in ANSWERED:
            raise BadStatusCode(self.url, code=self.status_code)


def _classify(response: Any) -> Answer:
    status = response.status_code or 0
    if status == 0:
        error = cause(response.error)
        return transport_answer(error_class(error), f"{type(error).__name__}: {error}")
    body = read_bounded(response._response, MAX_BODY_BYTES)
    if body.problem:
        return unread_answer(status, body.problem, body.error, body.size)
    return classify_answer("chat", status, body.data)


class Body(NamedTuple):
    """An answer's body as read: ``problem`` too_large or truncated when not read whole."""

    data: bytes
    size: int
    problem: str = ""
    error: str = ""


def read_bounded(raw: Any, limit: int) -> Body:
    """The body of a geventhttpclient response, read up to ``limit`` bytes and no further.

    Past the bound the connection is closed (an unfinished message never goes back to the
    pool), so memory stays bounded whatever the target sends or declares. A body the connection
    cut short (reset, closed, a socket timeout) is ``truncated``; the status still stands.
    """
    declared = raw.content_length
    if declared is not None and declared > limit:
        raw.release()
        return Body(b"", declared, "too_large", f"body of {declared} bytes declared (> {limit})")
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= limit:
            chunk = raw.read(min(65536, limit + 1 - size))
            if not chunk:
                return Body(b"".join(chunks), size)
            chunks.append(chunk)
            size += len(chunk)
    except (OSError, HTTPParseError) as error:
        return Body(b"", size, "truncated", f"{type(error).__name__}: {error}")
    raw.release()
    return Body(b"", limit, "too_large", f"body larger than {limit} bytes")


class KeyUser(User):
    """Claims one slot and runs its behaviour to the end, then stops."""

    abstract = False

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        self._load = state_of(environment)

    @task
    def run_slot(self) -> None:
        slot = self._load.claim_slot()
        if slot is None:
            raise StopUser
        deadline = time.monotonic_ns() + slot.duration_ns
        allowance = SlotAllowance(self._load.shares[slot.index])
        behaviour = slot.case.behaviour
        if isinstance(behaviour, Burst):
            self._burst(slot, behaviour, allowance, deadline)
        else:
            sender = _KeySender(self, self._load, slot, slot.keys[0])
            limit = slot.case.max_requests_per_key

            def more() -> bool:
                return sender.sent < limit and time.monotonic_ns() < deadline

            def go() -> bool:
                """``more()``, and the slot's budget lets one more request go (now)."""
                return more() and _gate(allowance, deadline) > 0

            loop: Callable[[int], None]
            if isinstance(behaviour, Paced):
                start = time.monotonic_ns()
                interval_ns = NS / behaviour.rate

                def loop(client: int) -> None:
                    turn = client
                    while more():
                        due = start + int(turn * interval_ns)
                        pause = (due - time.monotonic_ns()) / NS
                        if pause > 0:
                            gevent.sleep(pause)
                        if not go():
                            return
                        sender.send("paced", client)
                        turn += slot.clients

            elif isinstance(behaviour, Polite):
                margin_s = _seconds(behaviour.retry_margin)

                def loop(client: int) -> None:
                    phase = "polite"
                    while go():
                        answer = sender.send(phase, client)
                        phase = "polite"
                        if answer.outcome == "throttled" and answer.wait_ns is not None:
                            pause = answer.wait_ns / NS + margin_s
                            if time.monotonic_ns() + pause * NS >= deadline:
                                return
                            gevent.sleep(pause)
                            phase = "polite-retry"

            else:

                def loop(client: int) -> None:
                    while go():
                        sender.send("hammer", client)

            _together(loop, slot.clients)
        raise StopUser

    def _burst(self, slot: Slot, burst: Burst, allowance: SlotAllowance, deadline_ns: int) -> None:
        interval_s = _seconds(burst.interval)
        start = time.monotonic()
        for repetition, key in enumerate(slot.keys):
            sender = _KeySender(self, self._load, slot, key)
            if burst.concurrent:
                sender.prewarm(burst.size)
            pause = start + repetition * interval_s - time.monotonic()
            if pause > 0:
                gevent.sleep(pause)
            size = _gate(allowance, deadline_ns, burst.size)
            if size == 0:
                return  # the slot's time or its share of the budget is spent
            if burst.concurrent:
                _together(partial(sender.send, "burst"), size)
            else:
                for _ in range(size):
                    sender.send("burst", 0)


def _gate(allowance: SlotAllowance, deadline_ns: int, requests: int = 1) -> int:
    """Take ``requests`` from the slot's share and wait until its pacer lets them go.

    Returns how many may be sent now: 0 once the share is spent or the pacer's instant falls
    after the slot's deadline. The wait is re-checked on the monotonic clock, since gevent's
    timers run on the loop's cached time and may wake early.
    """
    now_ns = time.monotonic_ns()
    granted, due = allowance.take(now_ns, requests)
    if granted == 0 or due >= deadline_ns:
        return 0
    if due > now_ns:  # unpaced, or the pacer has room: no wait, no second reading of the clock
        while (pause := due - time.monotonic_ns()) > 0:
            gevent.sleep(pause / NS)
    return granted


def _seconds(go_duration: str) -> float:
    return parse_duration(go_duration) / NS


def _together(work: Callable[[int], Any], clients: int) -> None:
    """Run ``work(client)`` for each client at once; a stop kills all (each records its cut)."""
    if clients == 1:
        work(0)
        return
    group = Group()
    try:
        for client in range(clients):
            group.spawn(work, client)
        group.join(raise_error=True)
    finally:
        group.kill(block=True)
