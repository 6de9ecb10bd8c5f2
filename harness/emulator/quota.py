"""The daily quota: admissions per chatbot per day of the organisation's time zone.

The day is the calendar date of the decision instant in the zone; it resets at the next local
midnight as a Go server computes it (``time.Date(y, m, d+1, 0, 0, 0, 0, loc)``). Day bounds are
kept as integers so the hot path compares two numbers instead of converting time zones.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from harness.api.timestamps import first_instant_of_day, go_local_midnight, local_date
from harness.emulator.clock import instant_of

__all__ = ["QuotaBook", "QuotaExhausted"]

SECOND_NS = 1_000_000_000


@dataclass(frozen=True, slots=True)
class QuotaExhausted:
    """Why a request is refused: the day's quota is used; when it comes back."""

    limit: int
    reset_at: datetime
    reset_in_ns: int


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * SECOND_NS + moment.microsecond * 1_000


@dataclass(frozen=True, slots=True)
class _Day:
    """One organisation day: ``[start_ns, end_ns)`` and Go's reset instant for it."""

    start_ns: int
    end_ns: int
    reset_at: datetime


class QuotaBook:
    """Per chatbot: the organisation day last counted and how many admissions it has had."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}  # chatbot -> (day start ns, admissions)
        self._current: dict[str, _Day] = {}  # zone name -> the day last seen in it

    def _day(self, now_ns: int, zone: ZoneInfo) -> _Day:
        cached = self._current.get(zone.key)
        if cached is not None and cached.start_ns <= now_ns < cached.end_ns:
            return cached
        today = local_date(instant_of(now_ns), zone)
        tomorrow = today + timedelta(days=1)
        day = _Day(
            _ns(first_instant_of_day(today, zone)),
            _ns(first_instant_of_day(tomorrow, zone)),
            go_local_midnight(tomorrow, zone),
        )
        self._current[zone.key] = day
        return day

    def __len__(self) -> int:
        return len(self._counts)

    def used(self, chatbot_id: str, now_ns: int, zone: ZoneInfo) -> int:
        start, count = self._counts.get(chatbot_id, (-1, 0))
        return count if start == self._day(now_ns, zone).start_ns else 0

    def exhausted(
        self, chatbot_id: str, limit: int, now_ns: int, zone: ZoneInfo
    ) -> QuotaExhausted | None:
        """None while the day has quota left, else the refusal with its reset instant."""
        if self.used(chatbot_id, now_ns, zone) < limit:
            return None
        reset_at = self._day(now_ns, zone).reset_at
        return QuotaExhausted(limit=limit, reset_at=reset_at, reset_in_ns=_ns(reset_at) - now_ns)

    def record(self, chatbot_id: str, now_ns: int, zone: ZoneInfo) -> None:
        used = self.used(chatbot_id, now_ns, zone)
        self._counts[chatbot_id] = (self._day(now_ns, zone).start_ns, used + 1)

    def forget(self, chatbot_id: str) -> None:
        self._counts.pop(chatbot_id, None)
