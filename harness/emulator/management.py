"""The management calls of the emulated API (organisation API key): create, read and delete a
chatbot, mint its tokens.

A chatbot is stored as the wire body create answered (``status``, ``character_count`` and the
stamps added) with its limits read once; a read reports the end of its training, if it has one.
"""

from __future__ import annotations

from harness.api.chatbot import ChatbotBody, ChatbotStatus, RateLimitVaryBy
from harness.api.duration import parse_duration
from harness.api.status import GrpcCode
from harness.api.timestamps import format_rfc3339
from harness.emulator import answers
from harness.emulator.answers import Answer
from harness.emulator.clock import instant_of
from harness.emulator.state import EmulatorState
from harness.emulator.store import ChatbotEntry, Limits
from harness.emulator.validation import TokenRequest, chatbot_violations, parse, validated

__all__ = ["Management"]


def _stamp(now_ns: int) -> str:
    """``created_at`` / ``updated_at`` as the documented example writes them (milliseconds, Z)."""
    stamp = instant_of(now_ns)
    return format_rfc3339(stamp).removesuffix("Z") + f".{stamp.microsecond // 1000:03d}Z"


def _created(body: ChatbotBody, now_ns: int, status: ChatbotStatus) -> dict[str, object]:
    wire = body.chatbot.to_wire()
    text = _stamp(now_ns)
    wire.update(status=status.value, character_count="0", created_at=text, updated_at=text)
    return wire


def _limits(body: ChatbotBody) -> Limits:
    rate, quota = body.chatbot.rate_limit, body.chatbot.quota_limit
    rate_setting = rate.setting if rate is not None and rate.enabled else None
    quota_setting = quota.setting if quota is not None and quota.enabled else None
    return Limits(
        rate_limit=rate_setting.limit if rate_setting else None,
        duration_ns=parse_duration(rate_setting.duration) if rate_setting else 0,
        throttle_message=rate_setting.throttle_message if rate_setting else "",
        vary_by=RateLimitVaryBy(rate_setting.vary_by)
        if rate_setting
        else RateLimitVaryBy.UNSPECIFIED,
        quota=quota_setting.limit if quota_setting else None,
    )


class Management(EmulatorState):
    """The chatbot calls: each answers 401, 403 or 404 before it touches anything."""

    def _owned(self, authorization: str | None, chatbot_id: str) -> ChatbotEntry | Answer:
        org = self.store.org_of(authorization)
        if org is None:
            return self.unauthenticated()
        entry = self.store.get(chatbot_id)
        if entry is None:
            return answers.error_answer(GrpcCode.NOT_FOUND, f"chatbot {chatbot_id!r} not found")
        if entry.org != org:
            return answers.error_answer(
                GrpcCode.PERMISSION_DENIED, "the chatbot belongs to another organisation"
            )
        return entry

    def create_chatbot(self, authorization: str | None, raw: bytes) -> Answer:
        org = self.store.org_of(authorization)
        if org is None:
            return self.unauthenticated()
        body, violations = validated(raw, ChatbotBody, chatbot_violations)
        if body is None:
            return self._rejected(violations)
        most = self.config.max_chatbots_per_org
        if self.store.count(org) >= most:
            self.stats.rejected += 1
            return answers.capacity_exhausted(
                "chatbots",
                most,
                f"the organisation has {most} chatbots, the most this emulator keeps: "
                "delete some first",
            )
        now_ns = self.clock.now_ns()
        status = self.config.training.status_at(now_ns, now_ns)
        entry = self.store.add(org, _created(body, now_ns, status), _limits(body), now_ns)
        return answers.ok({"chatbot": entry.wire})

    def _view(self, entry: ChatbotEntry) -> dict[str, object]:
        """The chatbot as GET answers it now: the end of its training updated it."""
        training = self.config.training
        status = training.status_at(entry.created_ns, self.clock.now_ns())
        if training.duration_ns == 0 or status is ChatbotStatus.TRAINING:
            return entry.wire
        ended = _stamp(training.ends_ns(entry.created_ns))
        return {**entry.wire, "status": status.value, "updated_at": ended}

    def get_chatbot(self, authorization: str | None, chatbot_id: str) -> Answer:
        entry = self._owned(authorization, chatbot_id)
        return entry if isinstance(entry, Answer) else answers.ok({"chatbot": self._view(entry)})

    def delete_chatbot(self, authorization: str | None, chatbot_id: str) -> Answer:
        entry = self._owned(authorization, chatbot_id)
        if isinstance(entry, Answer):
            return entry
        self.store.remove(entry)
        self.limiter.forget_chatbot(entry.id)
        self.quota.forget(entry.id)
        return answers.ok({})

    def create_token(self, authorization: str | None, chatbot_id: str, raw: bytes) -> Answer:
        entry = self._owned(authorization, chatbot_id)
        if isinstance(entry, Answer):
            return entry
        if raw.strip():
            _, violations = parse(raw, TokenRequest)
            if violations:
                return answers.invalid_argument(violations)
        return answers.ok({"token": self.store.mint(entry)})
