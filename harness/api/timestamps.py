"""Go ``time.Time`` RFC 3339 text and the organisation day.

``reset_at`` is written by a Go server with ``time.Format(time.RFC3339)`` in the organisation's
zone: ``Z`` for a zero offset (never ``+00:00``), no fraction. The next reset is Go's
``time.Date(y, m, d+1, 0, 0, 0, 0, loc)``, whose answer on a day without a local midnight differs
from "the first instant of the new local day"; both are computed here so the checker can accept
either.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_ORG_TIMEZONE",
    "TimestampError",
    "first_instant_of_day",
    "format_rfc3339",
    "go_local_midnight",
    "load_zone",
    "local_date",
    "next_reset_candidates",
    "parse_rfc3339",
]

# The organisation's time zone when nobody says otherwise: its quota day starts at local midnight
# (the service's documented examples are in Taipei time). The emulator and the harness both take it.
DEFAULT_ORG_TIMEZONE = "Asia/Taipei"

# RFC 3339 as Go's time.Parse(time.RFC3339, ...) accepts it: optional fraction, Z or ±hh:mm.
_RFC3339 = re.compile(
    r"^(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})[Tt](?P<h>\d{2}):(?P<mi>\d{2}):(?P<s>\d{2})"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<tz>[Zz]|[+-]\d{2}:\d{2})$"
)


class TimestampError(ValueError):
    """A text that is not an RFC 3339 timestamp, or an unknown time zone name."""


def load_zone(name: str) -> ZoneInfo:
    """The IANA zone called ``name``, with an error that says what is expected."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimestampError(
            f"unknown time zone {name!r}: expected an IANA zone name such as 'Asia/Taipei'"
        ) from None


def format_rfc3339(moment: datetime) -> str:
    """Go's ``t.Format(time.RFC3339)``: seconds precision, ``Z`` iff the offset is zero."""
    if moment.tzinfo is None:
        raise TimestampError("cannot format a naive datetime as RFC 3339: give it a time zone")
    offset = moment.utcoffset() or timedelta(0)
    # Not strftime("%Y"): glibc writes year 999 as "999", Go as "0999".
    stamp = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}"
        f"T{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if offset == timedelta(0):
        return stamp + "Z"
    total = int(offset.total_seconds())
    sign = "+" if total > 0 else "-"
    hours, minutes = divmod(abs(total) // 60, 60)
    return f"{stamp}{sign}{hours:02d}:{minutes:02d}"


def parse_rfc3339(text: str) -> datetime:
    """Parse RFC 3339 (as Go's ``time.RFC3339`` layout reads it) into an aware datetime (µs)."""
    match = _RFC3339.match(text)
    if match is None:
        raise TimestampError(
            f"invalid timestamp {text!r}: expected RFC 3339 such as '2024-01-06T00:00:00+08:00'"
        )
    tz_text = match["tz"]
    if tz_text in ("Z", "z"):
        zone: tzinfo = UTC
    else:
        sign = 1 if tz_text[0] == "+" else -1
        hours, minutes = int(tz_text[1:3]), int(tz_text[4:6])
        if hours > 23 or minutes > 59:
            raise TimestampError(f"invalid UTC offset in timestamp {text!r}")
        zone = _fixed_zone(sign * (hours * 60 + minutes))
    frac = (match["frac"] or "").ljust(6, "0")[:6]
    try:
        return datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            int(match["h"]),
            int(match["mi"]),
            int(match["s"]),
            int(frac),
            tzinfo=zone,
        )
    except ValueError as exc:
        raise TimestampError(f"invalid timestamp {text!r}: {exc}") from None


def _fixed_zone(minutes: int) -> tzinfo:
    from datetime import timezone

    return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The calendar date of ``moment`` in ``zone``: the organisation day a request falls in."""
    return moment.astimezone(zone).date()


def _offset_at(utc_seconds: int, zone: ZoneInfo) -> int:
    instant = datetime.fromtimestamp(utc_seconds, UTC)
    offset = instant.astimezone(zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def go_local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """Go's ``time.Date(day.year, day.month, day.day, 0, 0, 0, 0, zone)``.

    Go reads the wall clock as if it were UTC, looks up that instant's offset, and looks again at
    the corrected instant if the first guess was in another zone period. On a day whose midnight
    does not exist this lands an hour early or late depending on the direction of the guess.
    """
    wall = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
    guess = _offset_at(wall, zone)
    offset = guess
    if guess != 0:
        corrected = _offset_at(wall - guess, zone)
        if corrected != guess:
            offset = corrected
    return datetime.fromtimestamp(wall - offset, UTC).astimezone(zone)


def first_instant_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The earliest instant whose local date in ``zone`` is ``day`` (00:00, or later in a gap)."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    # zoneinfo resolves a non-existent wall time with fold=0 using the offset before the gap, which
    # can land on the previous day; step forward to the first instant that really is on ``day``.
    instant = start.astimezone(UTC)
    if instant.astimezone(zone).date() < day:
        probe = instant
        while probe.astimezone(zone).date() < day:
            probe += timedelta(minutes=15)
        low, high = probe - timedelta(minutes=15), probe
        while high - low > timedelta(seconds=1):
            mid = low + (high - low) / 2
            if mid.astimezone(zone).date() < day:
                low = mid
            else:
                high = mid
        instant = high
    return instant.astimezone(zone)


def next_reset_candidates(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The two acceptable daily resets after ``moment``: Go's value and the first local instant.

    They differ only on the rare days whose local midnight does not exist.
    """
    tomorrow = local_date(moment, zone) + timedelta(days=1)
    return go_local_midnight(tomorrow, zone), first_instant_of_day(tomorrow, zone)
