"""Sending the requests of one key: rotation of devices, addresses and headers; timing; recording.

Every request is timed with this process's monotonic clock just before it is handed to
geventhttpclient (the client of Locust's ``FastHttpUser``) and just after its whole answer is read
(bounded), so the server's decision lies in [send, recv]. The client never retries, nor follows a
redirect. A request cut short by a stop is still recorded, as an ``interrupted`` transport error:
it was sent, and the target may have counted it.

The request goes straight to the connection pool's ``HTTPClient``, not through Locust's
``FastHttpSession.request`` and geventhttpclient's ``UserAgent``: their URL parsing, header
merging, retry and redirect loops and response wrapping are work the recorder does not need
(without them a request and its read took 0.79x the CPU, median of 5 alternating rounds in one
process), and the recorder reports every request to Locust's statistics itself (``request``
event): its response time the whole exchange, its length the bytes read, a failure a status
outside ``ANSWERED`` or no whole answer (a deadline met while the body was read included).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import gevent
from gevent import GreenletExit
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.client import HTTPClient
from geventhttpclient.response import HTTPConnectionClosed, HTTPSocketPoolResponse
from geventhttpclient.url import URL
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
from harness.run.batches import Prefix
from harness.run.records import RequestContext

if TYPE_CHECKING:  # the sender is importable (and testable) without Locust's gevent patching
    from locust import User

    from harness.locust.session import Run

__all__ = ["GEVENT_FAILURES", "KeySender"]

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


def _exchange(
    client: HTTPClient, path: str, body: bytes, headers: dict[str, str], deadline: gevent.Timeout
) -> tuple[Answer, int, BaseException | None]:
    """One request and its answer read bounded: the answer, the bytes read, and what Locust's
    statistics count as its failure (a transport error, or a status not ``ANSWERED``)."""
    try:
        raw = client.request("POST", path, body=body, headers=headers)
    except gevent.Timeout as timeout:
        if timeout is deadline:
            raise  # the whole exchange's deadline: ``send`` records it
        # Locust's failures table groups by repr: a Timeout's names its address, one row each.
        return _failed(timeout), 0, TimeoutError(str(timeout))
    except (OSError, HTTPParseError, HTTPConnectionClosed) as error:
        # The transport's failures (OSError covers refusals, resets, socket and TLS errors).
        # Anything else is a bug or a bad setting: ``send`` records it and lets it go on.
        return _failed(error), 0, error
    status = raw.status_code
    data, size, problem, text = _read(raw)
    failure = None if status in ANSWERED else BadStatusCode(path, code=status)
    if problem:
        return unread_answer(status, problem, text, size), size, failure
    return classify_answer("chat", status, data), size, failure


def _failed(error: BaseException) -> Answer:
    failure = transport_failure(error, GEVENT_FAILURES)
    return transport_answer(failure.error_class, f"{type(error).__name__}: {error}")


class KeySender:
    """Sends the requests of one key of a slot, each recorded; ``sent`` counts them.
    ``wall_ns`` and ``mono_ns``: this process's clocks (a test's fakes)."""

    def __init__(
        self,
        user: User,
        run: Run,
        slot: Slot,
        key: KeyPlan,
        *,
        wall_ns: Callable[[], int] = time.time_ns,
        mono_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.run = run
        self._wall_ns = wall_ns
        self._mono_ns = mono_ns
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
        url = URL(self._host + CHAT_PATH)
        self._path = url.quoted_uri
        self._url = str(url)
        # One client per source address, made (and bound) once: no pool lookup per request.
        self._routes = [(pool.get_client(url), pool) for pool in self._pools]
        self._request_event = user.environment.events.request
        self._user = user
        # One header set per X-Forwarded-For value of the rotation (the client copies it).
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
        http, pool = self._routes[turn % len(self._routes)]
        device_index = self._bodies.device(turn)
        forwarded_for, headers = self._headers[turn % len(self._headers)]
        where = (phase, client, pool, device_index, forwarded_for)
        # The whole exchange has one deadline: a socket timeout alone would let an answer
        # trickling in byte by byte hold a client for ever. A new one each time: reusing one
        # that had fired made the requests after it time out too (tests/cli/test_faults.py).
        deadline = gevent.Timeout(self._timeout_s)
        wall_ns, mono_ns = self._wall_ns, self._mono_ns
        send_wall, send_mono = wall_ns(), mono_ns()
        deadline.start()
        try:
            body = self._bodies.body(turn)
            answer, size, failure = _exchange(http, self._path, body, headers, deadline)
            recv_mono, recv_wall = mono_ns(), wall_ns()
        except BaseException as stop:
            recv_mono, recv_wall = mono_ns(), wall_ns()
            times = (send_wall, recv_wall, send_mono, recv_mono, intended_mono_ns)
            if stop is not deadline:
                # A stop (GreenletExit, or a Ctrl-C raised in this greenlet) or a bug: the
                # request was sent and may have been counted: recorded before the stop goes on.
                interrupted = isinstance(stop, GreenletExit | KeyboardInterrupt | SystemExit)
                answer = transport_answer(
                    ErrorClass.INTERRUPTED if interrupted else ErrorClass.OTHER,
                    "the run stopped before the answer came" if interrupted else repr(stop),
                )
                self._record(where, times, answer)
                raise
            why = "no whole answer within the request timeout"
            answer = transport_answer(ErrorClass.TIMEOUT, why)
            size, failure = 0, TimeoutError(why)  # one row in Locust's failures, not one each
        finally:
            deadline.close()
        self._record(where, (send_wall, recv_wall, send_mono, recv_mono, intended_mono_ns), answer)
        # What Locust's session would have reported: its statistics, its web UI, its CSVs.
        self._request_event.fire(
            request_type="POST",
            name=self.name,
            response_time=(recv_mono - send_mono) / 1e6,
            response_length=size,
            exception=failure,
            context=self._user.context(),
            start_time=send_wall / 1e9,
            url=self._url,
            response=None,
        )
        return answer

    def _record(
        self,
        where: tuple[str, int, SourceBoundClientPool, int, str],
        times: tuple[int, int, int, int, int | None],
        answer: Answer,
    ) -> None:
        phase, client, pool, device_index, forwarded_for = where
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
