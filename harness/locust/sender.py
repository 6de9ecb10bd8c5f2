"""Sending the requests of one key: rotation of devices, addresses and headers; timing; recording.

Every request is timed with this process's monotonic clock just before it is handed to Locust's
fast HTTP client and just after its whole answer is read (bounded), so the server's decision lies
in [send, recv]. The client never retries. A request cut short by a stop is still recorded, as an
``interrupted`` transport error: it was sent, and the target may have counted it.
"""

from __future__ import annotations

from locust import User
from locust.contrib.fasthttp import FastHttpSession, FastResponse

import time

import gevent
from gevent import GreenletExit
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.response import HTTPConnectionClosed, HTTPSocketPoolResponse
from geventhttpclient.useragent import BadStatusCode

from harness.api.answer import (
    MAX_BODY_BYTES,
    Answer,
    ErrorClass,
    classify_answer,
    transport_answer,
    unread_answer,
)
from harness.api.client import CHAT_PATH
from harness.api.transport import TransportFailure, read_bounded, transport_failure
from harness.load.chat_body import ChatBodies
from harness.load.keys import KeyPlan
from harness.load.schedule import Slot, slot_connections
from harness.locust.pool import SourceBoundClientPool
from harness.locust.session import Run
from harness.run.batches import Prefix
from harness.run.records import RequestContext

__all__ = ["GEVENT_FAILURES", "KeySender", "cause"]

# geventhttpclient's own failures, in the vocabulary of every client (harness.api.transport).
GEVENT_FAILURES: tuple[TransportFailure, ...] = (
    TransportFailure(gevent.Timeout, ErrorClass.TIMEOUT, "timeout"),
    # Reset or closed before the first byte of an answer.
    TransportFailure(HTTPConnectionClosed, ErrorClass.RESET, "connection closed"),
    # Also what a connection closed before the end of the answer raises.
    TransportFailure(
        HTTPParseError, ErrorClass.TRUNCATED, "answer cut short", "Incomplete response"
    ),
    TransportFailure(HTTPParseError, ErrorClass.PROTOCOL, "not HTTP"),
)

# Statuses Locust counts as answered rather than failed: a 429 is the target doing its job.
# Bodies are judged by the checks, not by Locust's failure column.
ANSWERED = frozenset(range(200, 300)) | {429}
ANY_STATUS = frozenset(range(100, 600))


def cause(error: BaseException | None) -> BaseException | None:
    """The failure itself: geventhttpclient wraps that of its last (only) try in RetriesExceeded."""
    original = getattr(error, "original", None)
    return original if isinstance(original, BaseException) else error


class _AnsweredResponse(FastResponse):
    """Fails in Locust's statistics exactly when the status is not ``ANSWERED``.

    The client itself accepts every status, so that it hands the answer over unread instead of
    closing the connection on a 5xx; this keeps Locust's failure column as it was.
    """

    def raise_for_status(self) -> None:
        super().raise_for_status()  # type: ignore[no-untyped-call]
        if self.status_code not in ANSWERED:
            raise BadStatusCode(self.url, code=self.status_code)


def _read(raw: HTTPSocketPoolResponse) -> tuple[bytes, int, ErrorClass, str]:
    """The body of a response, read bounded; past the bound the connection is closed (an
    unfinished message never goes back to the pool). A body the connection cut short is
    ``truncated``; the status still stands."""
    try:
        body = read_bounded(iter(lambda: raw.read(65536), b""), MAX_BODY_BYTES, raw.content_length)
    except (OSError, HTTPParseError) as error:
        return b"", 0, ErrorClass.TRUNCATED, f"{type(error).__name__}: {error}"
    if body.problem:
        raw.release()
    return body.data, body.size, body.problem, body.error


def _classify(response: FastResponse) -> Answer:
    status = response.status_code or 0
    raw = response._response
    if status == 0 or raw is None:
        error = cause(getattr(response, "error", None))
        failure = transport_failure(error, GEVENT_FAILURES) if error else None
        error_class = failure.error_class if failure else ErrorClass.OTHER
        return transport_answer(error_class, f"{type(error).__name__}: {error}")
    data, size, problem, text = _read(raw)
    if problem:
        return unread_answer(status, problem, text, size)
    return classify_answer("chat", status, data)


class KeySender:
    """Sends the requests of one key of a slot, each recorded; ``sent`` counts them."""

    def __init__(self, user: User, run: Run, slot: Slot, key: KeyPlan) -> None:
        self.run = run
        self.slot = slot
        self.key = key
        self._recorder = run.recorder
        self.chatbot_id = run.chatbots[slot.case.name].chatbot_id
        self.name = f"chat {slot.case.name}"
        self._timeout_s = run.settings.request_timeout_s
        self._host = run.settings.target
        chat = run.settings.scenario.chat_of(slot.case)
        self._bodies = ChatBodies(key, f"{run.settings.run_id}-{slot.index}", chat)
        concurrency = slot_connections(slot)
        self._pools = [
            SourceBoundClientPool(
                ip,
                concurrency=concurrency,
                connection_timeout=self._timeout_s,
                network_timeout=self._timeout_s,
            )
            for ip in (key.source_ips or ("",))
        ]
        self._sessions = [
            FastHttpSession(
                self._host,
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
        token = run.chatbots[slot.case.name].token.get_secret_value()
        self._headers = [
            (forwarded_for, _headers(token, forwarded_for))
            for forwarded_for in (key.forwarded_fors or ("",))
        ]
        self.sent = 0
        self._prefixes: dict[tuple[str, int, int, str, str], Prefix] = {}

    def prewarm(self, connections: int) -> None:
        for pool in self._pools:
            pool.prewarm(self._host, connections)

    def send(self, phase: str, client: int, intended_mono_ns: int | None = None) -> Answer:
        """One request, recorded; ``intended_mono_ns``: when an open schedule meant it to leave."""
        turn = self.sent
        self.sent = turn + 1
        session, pool = self._routes[turn % len(self._routes)]
        device_index = self._bodies.device(turn)
        forwarded_for, headers = self._headers[turn % len(self._headers)]
        # The whole exchange has one deadline: a socket timeout alone would let an answer
        # trickling in byte by byte hold a client for ever. A new one each time: reusing one
        # that had fired made the requests after it time out too (tests/cli/test_faults.py).
        deadline = gevent.Timeout(self._timeout_s)
        send_wall, send_mono = time.time_ns(), time.monotonic_ns()
        deadline.start()
        try:
            response = session.request(
                "POST",
                CHAT_PATH,
                name=self.name,
                data=self._bodies.body(turn),  # type: ignore[arg-type]
                headers=headers,
                stream=True,
            )
            answer = _classify(response)
            recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
        except BaseException as stop:
            recv_mono, recv_wall = time.monotonic_ns(), time.time_ns()
            if stop is not deadline:
                # A stop (GreenletExit, or a Ctrl-C raised in this greenlet) or a bug: the
                # request was sent and may have been counted: recorded before the stop goes on.
                interrupted = isinstance(stop, GreenletExit | KeyboardInterrupt | SystemExit)
                answer = transport_answer(
                    ErrorClass.INTERRUPTED if interrupted else ErrorClass.OTHER,
                    "the run stopped before the answer came" if interrupted else repr(stop),
                )
                self._record(
                    phase,
                    client,
                    pool,
                    device_index,
                    forwarded_for,
                    (send_wall, recv_wall, send_mono, recv_mono, intended_mono_ns),
                    answer,
                )
                raise
            answer = transport_answer(
                ErrorClass.TIMEOUT, "no whole answer within the request timeout"
            )
        finally:
            deadline.close()
        self._record(
            phase,
            client,
            pool,
            device_index,
            forwarded_for,
            (send_wall, recv_wall, send_mono, recv_mono, intended_mono_ns),
            answer,
        )
        return answer

    def _record(
        self,
        phase: str,
        client: int,
        pool: SourceBoundClientPool,
        device_index: int,
        forwarded_for: str,
        times: tuple[int, int, int, int, int | None],
        answer: Answer,
    ) -> None:
        # A client's prefix repeats request after request: built once per combination.
        cache_key = (phase, client, device_index, pool.local_ip, forwarded_for)
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
            prefix = self._prefixes[cache_key] = self._recorder.prefix("chat", phase, context)
        self._recorder.record(prefix, *times, answer)


def _headers(token: str, forwarded_for: str) -> dict[str, str]:
    # identity: a body is read raw and bounded, never inflated (a compression bomb).
    headers = {
        "authorization": f"Bearer {token}",
        "content-type": "application/json",
        "accept-encoding": "identity",
    }
    if forwarded_for:
        headers["x-forwarded-for"] = forwarded_for
    return headers
