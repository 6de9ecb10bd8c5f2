"""The chat path of the emulated API (chatbot token): ``POST /bv/aisk/v1/prompts:chat``.

A chat waits its decision delay, then is decided: the token, the body, the chatbot's training
(a chatbot not ready refuses with 400, code 9), the rate limit (a throttled request consumes
nothing), the daily quota (a refused request consumes nothing either); then the admission is
recorded in both, with no ``await`` between the check and the record, so concurrent requests
cannot both take the last slot. Only then does the answer take its time (``delays.py``): a refusal
its latency, an admission its latency and the model's, in one of ``max_concurrency`` slots when
the model has a limit (an overloaded model, whose queue is full, refuses with 503 before anything
counts). With a real engine (``engines.py``) the library decides the rate limit instead, at the
same instant, checking and counting in its one call (so a request the quota or a full model
queue then refuses has used rate budget, as on a service that limits before it counts quota).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC
from typing import Any

from harness.api.chat import ChatRequest
from harness.api.chatbot import ChatbotStatus, RateLimitVaryBy
from harness.api.status import GrpcCode
from harness.emulator import answers
from harness.emulator.answers import Answer
from harness.emulator.engines import EngineError, RealEngine
from harness.emulator.limiter import KeyState, Rule, TableFullError
from harness.emulator.policy import KeyMode
from harness.emulator.state import EmulatorState
from harness.emulator.store import ChatbotEntry, Limits
from harness.emulator.validation import chat_violations, validated

__all__ = ["CITATIONS", "ChatPath", "Peer"]

# The yield a racy server makes between its check and its record (a store round trip).
RACE_WINDOW_NS = 10_000_000

CITATIONS: list[dict[str, Any]] = [
    {
        "type": "SOURCE_TYPE_WEBSITE",
        "web_link": {
            "url": "https://example.com/help/rate-limits",
            "title": "Rate limits",
            "thumbnail_url": "https://example.com/help/rate-limits.png",
        },
        "source_id": "emulated-web-1",
    },
    {
        "type": "SOURCE_TYPE_VOD",
        "vod": {
            "contents": [
                {
                    "content": "Limits are counted per device.",
                    "period": {"start_time": "12.5", "end_time": "18"},
                }
            ],
            "resource_id": "emulated-vod-1",
            "name": "Getting started",
            "thumbnail_url": "https://example.com/vod/1.png",
            "duration_in_second": 93.5,
        },
        "source_id": "emulated-vod-1",
    },
]


_CITATIONS_JSON = answers.encode(CITATIONS)


@dataclass(frozen=True, slots=True)
class Peer:
    """Where a chat request came from, as the HTTP layer saw it."""

    host: str
    forwarded_for: str | None = None


class ChatPath(EmulatorState):
    """The chat: decided at one instant, answered after the delays."""

    def _client_ip(self, peer: Peer) -> str:
        trusted = self.config.trust_forwarded_for or self.policy.forwarded_for_always_trusted
        if trusted and peer.forwarded_for:
            first = peer.forwarded_for.split(",")[0].strip()
            if first:
                return first
        return peer.host

    def _rate_key(self, limits: Limits, request: ChatRequest, peer: Peer) -> str:
        if self.policy.key_mode is KeyMode.CHATBOT:
            return ""
        vary_by = limits.vary_by
        if self.policy.key_mode is KeyMode.SWAPPED:
            vary_by = {
                RateLimitVaryBy.IP: RateLimitVaryBy.DEVICE_ID,
                RateLimitVaryBy.DEVICE_ID: RateLimitVaryBy.IP,
            }.get(vary_by, vary_by)
        ip = self._client_ip(peer)
        if vary_by is RateLimitVaryBy.IP:
            return "ip:" + ip
        if vary_by is RateLimitVaryBy.DEVICE_ID:
            device = request.metadata.device if request.metadata else None
            # Decision: a request without a device id is keyed by its IP, never unlimited.
            return "device:" + device.id if device is not None and device.id else "ip:" + ip
        return ""

    async def refuse_chat(self, answer: Answer, peer: Peer) -> Answer:
        """A chat the HTTP layer refused before the service could read it: as slow as any other."""
        self.stats.peers.add(peer.host)
        await self.delays.before_decision()
        self.stats.rejected += 1
        await self.delays.refusal()
        return answer

    async def chat(self, authorization: str | None, raw: bytes, peer: Peer) -> Answer:
        self.stats.peers.add(peer.host)
        await self.delays.before_decision()
        decided = self._chat_decision(authorization, raw, peer)
        if isinstance(decided, Answer):
            await self.delays.refusal()
            return decided
        request, admit = decided
        if self.policy.race_check_record:
            await self.delays.pause(RACE_WINDOW_NS)
        gate = self.gate
        if gate is not None and gate.full():
            self.stats.overloaded += 1
            await self.delays.refusal()
            return answers.error_answer(
                GrpcCode.UNAVAILABLE,
                f"the model is overloaded: {gate.limit} answers in progress and "
                f"{gate.waiting} waiting; retry later",
            )
        admit()
        if gate is None:
            await self.delays.admitted()
        else:
            start_ns = end_ns = await gate.enter(self.delays.now_ns())
            try:
                end_ns = start_ns + self.delays.admitted_ns()
                await self.delays.until(end_ns)
            finally:
                # An answer cut short (cancelled) frees its slot now, not at its planned end.
                gate.leave(min(end_ns, self.delays.now_ns()))
        if self.policy.empty_answer:
            return answers.chat_answer("", b"[]")
        return answers.chat_answer(
            f"(emulated) You asked: {request.question[:200]}", _CITATIONS_JSON
        )

    def _chat_decision(
        self, authorization: str | None, raw: bytes, peer: Peer
    ) -> Answer | tuple[ChatRequest, Callable[[], None]]:
        """The refusal, or the request and the function that records its admission."""
        entry = self.store.chatbot_of_token(authorization)
        if entry is None:
            return self.unauthenticated()
        request, violations = validated(raw, ChatRequest, chat_violations)
        if request is None:
            return self._rejected(violations)
        self.stats.questions.add(request.question)
        for kb_id in request.kb_ids:
            self.stats.kb_ids.add(kb_id)
        now_ns = self.clock.now_ns()
        status = self.config.training.status_at(entry.created_ns, now_ns)
        if status is not ChatbotStatus.READY:
            self.stats.not_ready += 1
            return answers.not_ready(status)
        decided = self._decide(entry, request, peer, now_ns)
        return decided if isinstance(decided, Answer) else (request, decided)

    def _decide(
        self, entry: ChatbotEntry, request: ChatRequest, peer: Peer, now_ns: int
    ) -> Answer | Callable[[], None]:
        """The limits' refusal, or the function that records the admission."""
        limits = entry.limits
        state = self._rate_decision(entry, request, peer, now_ns)
        if isinstance(state, Answer):
            return state
        zone = self._quota_zone
        if limits.quota is not None:
            refusal = self.quota.exhausted(
                entry.id, limits.quota + self.policy.quota_offset, now_ns, zone
            )
            if refusal is not None:
                self.stats.out_of_quota += 1
                if self.policy.reset_at_in_utc:
                    refusal = replace(refusal, reset_at=refusal.reset_at.astimezone(UTC))
                return answers.out_of_quota(replace(refusal, limit=limits.quota))

        def admit() -> None:
            # Racy servers record at a later instant; a correct one records at the decision's.
            at = self.clock.now_ns() if self.policy.race_check_record else now_ns
            if state is not None:
                state.record(at)
            # A racy server may admit after the chatbot was deleted: count nothing for it then,
            # so a deleted chatbot leaves no quota book behind.
            if limits.quota is not None and self.store.get(entry.id) is entry:
                self.quota.record(entry.id, at, zone)
            self.stats.admitted += 1

        return admit

    def _rate_decision(
        self, entry: ChatbotEntry, request: ChatRequest, peer: Peer, now_ns: int
    ) -> Answer | KeyState | None:
        """The rate limit's refusal, or the key's state to record an admission in (None: no
        rate limit, or a real engine, which counted the admission as it decided)."""
        limits = entry.limits
        if limits.rate_limit is None:
            return None
        rule = Rule(
            max(1, limits.rate_limit + self.policy.limit_offset),
            limits.duration_ns * self.policy.duration_factor,
        )
        key = (entry.id, self._rate_key(limits, request, peer))
        if self.engine is not None:
            return self._ask_engine(self.engine, entry, key, rule)
        try:
            state = self.limiter.state(key, rule, now_ns)
        except TableFullError as exc:
            self.stats.rejected += 1
            return answers.capacity_exhausted(
                "rate_limit_keys",
                self.limiter.max_keys,
                f"{exc}, the most this emulator keeps: no new key until some go idle",
            )
        wait_ns = state.wait(now_ns)
        return self._throttle(entry, state, now_ns, wait_ns) if wait_ns > 0 else state

    def _ask_engine(
        self, engine: RealEngine, entry: ChatbotEntry, key: tuple[str, str], rule: Rule
    ) -> Answer | None:
        """The real engine's throttle (its own wait), None when it admitted (and counted) the
        request, or a 503 when its store has failed (the first failure is kept for the server)."""
        try:
            decision = engine.hit("/".join(key), rule)
        except EngineError as exc:
            self.stats.rejected += 1
            if self.engine_failure is None:
                self.engine_failure = str(exc)
                if self.on_engine_failure is not None:
                    self.on_engine_failure(self.engine_failure)
            return answers.error_answer(
                GrpcCode.UNAVAILABLE, "the rate limiter's store is unavailable; retry later"
            )
        if decision.admitted:
            return None
        return self._throttle(entry, None, self.clock.now_ns(), decision.wait_ns)

    def _throttle(
        self, entry: ChatbotEntry, state: KeyState | None, now_ns: int, wait_ns: int
    ) -> Answer:
        limits = entry.limits
        assert limits.rate_limit is not None  # only a rate-limited chatbot is throttled
        self.stats.throttled += 1
        if self.policy.count_throttled and state is not None:
            state.record(now_ns)
        if self.policy.quota_counts_throttled and limits.quota is not None:
            self.quota.record(entry.id, now_ns, self._quota_zone)
        return answers.throttled(
            policy=self.policy,
            limit=limits.rate_limit,
            duration_ns=limits.duration_ns,
            throttle_message=limits.throttle_message,
            vary_by=limits.vary_by.value,
            true_wait_ns=wait_ns,
        )
