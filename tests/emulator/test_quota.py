"""The daily quota rolls over at local midnight, in a fixed-offset zone and across DST."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from harness.emulator.quota import QuotaBook

S = 1_000_000_000
TAIPEI = ZoneInfo("Asia/Taipei")
NEW_YORK = ZoneInfo("America/New_York")


def ns(moment: datetime) -> int:
    return int(moment.timestamp()) * S + moment.microsecond * 1000


def test_the_quota_refuses_after_limit_and_resets_at_the_next_local_midnight() -> None:
    book = QuotaBook()
    evening = ns(datetime(2026, 3, 1, 23, 59, 59, 500_000, tzinfo=TAIPEI))
    for _ in range(2):
        assert book.exhausted("bot", 2, evening, TAIPEI) is None
        book.record("bot", evening, TAIPEI)
    refusal = book.exhausted("bot", 2, evening, TAIPEI)
    assert refusal is not None
    assert refusal.reset_at == datetime(2026, 3, 2, tzinfo=TAIPEI)
    assert refusal.reset_at.utcoffset() == TAIPEI.utcoffset(datetime(2026, 3, 2))
    assert refusal.reset_in_ns == S // 2
    midnight = ns(datetime(2026, 3, 2, tzinfo=TAIPEI))
    assert book.exhausted("bot", 2, midnight - 1, TAIPEI) is not None
    assert book.exhausted("bot", 2, midnight, TAIPEI) is None
    assert book.used("bot", midnight, TAIPEI) == 0


def test_the_day_is_the_organisation_day_not_the_utc_day() -> None:
    utc = ZoneInfo("UTC")
    book = QuotaBook()
    book.record("bot", ns(datetime(2026, 3, 1, 15, 30, tzinfo=utc)), TAIPEI)  # 23:30 in Taipei
    # One UTC hour later, the same UTC day, it is a new organisation day.
    assert book.used("bot", ns(datetime(2026, 3, 1, 16, 30, tzinfo=utc)), TAIPEI) == 0
    book.record("bot", ns(datetime(2026, 3, 1, 16, 30, tzinfo=utc)), TAIPEI)  # 00:30 in Taipei
    # The next UTC day is still the same organisation day.
    assert book.used("bot", ns(datetime(2026, 3, 2, 0, 30, tzinfo=utc)), TAIPEI) == 1


def test_a_spring_forward_day_lasts_23_hours_and_a_fall_back_day_25() -> None:
    book = QuotaBook()
    for day, hours in ((datetime(2026, 3, 8), 23), (datetime(2026, 11, 1), 25)):
        start = ns(day.replace(tzinfo=NEW_YORK))
        book.record(f"bot{hours}", start, NEW_YORK)
        refusal = book.exhausted(f"bot{hours}", 1, start, NEW_YORK)
        assert refusal is not None
        assert refusal.reset_in_ns == hours * 3600 * S
        assert refusal.reset_at.hour == 0


def test_forgetting_a_chatbot_clears_its_count() -> None:
    book = QuotaBook()
    now = ns(datetime(2026, 3, 1, 12, tzinfo=TAIPEI))
    book.record("bot", now, TAIPEI)
    book.forget("bot")
    assert book.used("bot", now, TAIPEI) == 0
