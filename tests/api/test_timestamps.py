"""RFC 3339 as Go writes it, and the organisation day's next reset, on ordinary and gap days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.api.duration import format_duration
from harness.api.timestamps import (
    TimestampError,
    first_instant_of_day,
    format_rfc3339,
    go_local_midnight,
    load_zone,
    local_date,
    next_reset_candidates,
    parse_rfc3339,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def zone(hours: int, minutes: int = 0) -> timezone:
    return timezone(timedelta(hours=hours, minutes=minutes))


def offset_at(zone_name: str, instant: datetime) -> timedelta:
    offset = instant.astimezone(load_zone(zone_name)).utcoffset()
    assert offset is not None
    return offset


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (utc(2024, 1, 6), "2024-01-06T00:00:00Z"),
        (datetime(2024, 1, 6, tzinfo=zone(8)), "2024-01-06T00:00:00+08:00"),
        (datetime(2024, 3, 10, 1, 2, 3, tzinfo=zone(-5)), "2024-03-10T01:02:03-05:00"),
        (datetime(2024, 1, 1, tzinfo=zone(5, 45)), "2024-01-01T00:00:00+05:45"),
        # time.RFC3339 has no fraction: Go drops it.
        (utc(2024, 7, 29, 15, 51, 28, 71000), "2024-07-29T15:51:28Z"),
        # A zone whose offset is zero now is still written "Z", never "+00:00".
        (datetime(2024, 1, 15, 12, tzinfo=load_zone("Europe/London")), "2024-01-15T12:00:00Z"),
    ],
)
def test_format_is_go_rfc3339(moment: datetime, text: str) -> None:
    assert format_rfc3339(moment) == text


def test_format_refuses_a_naive_datetime() -> None:
    with pytest.raises(TimestampError, match="naive"):
        format_rfc3339(datetime(2024, 1, 6))


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-01-06T00:00:00+08:00", datetime(2024, 1, 6, tzinfo=zone(8))),
        ("2024-07-29T15:51:28.071Z", utc(2024, 7, 29, 15, 51, 28, 71000)),
        ("2024-03-10T01:02:03-05:00", datetime(2024, 3, 10, 1, 2, 3, tzinfo=zone(-5))),
        ("2024-01-01T00:00:00+05:45", datetime(2024, 1, 1, tzinfo=zone(5, 45))),
        # Nanoseconds are cut to microseconds, Python's resolution.
        (
            "2020-08-22T11:27:43.123456789-02:00",
            datetime(2020, 8, 22, 11, 27, 43, 123456, tzinfo=zone(-2)),
        ),
    ],
)
def test_parse_reads_rfc3339_and_keeps_the_offset(text: str, moment: datetime) -> None:
    parsed = parse_rfc3339(text)
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2024-01-06",
        "2024-01-06T00:00:00",  # no offset
        "2024-01-06 00:00:00+08:00",  # space instead of T
        "2024-01-06T00:00:00+0800",  # offset without colon
        "2024-13-01T00:00:00Z",  # month 13
        "2024-02-30T00:00:00Z",  # no such day
        "2024-01-06T24:00:00Z",
        "2024-01-06T00:00:00+24:00",
        "2024-01-06T00:00:00.Z",  # dot without digits
        "1m0s",
    ],
)
def test_parse_rejects_non_rfc3339(text: str) -> None:
    with pytest.raises(TimestampError) as caught:
        parse_rfc3339(text)
    assert repr(text) in str(caught.value)


@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),
        max_value=datetime(9999, 12, 30),
        timezones=st.sampled_from([UTC, zone(8), zone(-3, -30)]),
    ).map(lambda moment: moment.replace(microsecond=0))
)
def test_parse_inverts_format(moment: datetime) -> None:
    parsed = parse_rfc3339(format_rfc3339(moment))
    assert parsed == moment
    assert parsed.utcoffset() == moment.utcoffset()


def test_taipei_reset_matches_the_documented_out_of_quota_example() -> None:
    # The 429 example says reset_at 2024-01-06T00:00:00+08:00, reset_in 11h18m33.091627s:
    # the request was answered at 2024-01-05T12:41:26.908373+08:00.
    zone = load_zone("Asia/Taipei")
    moment = parse_rfc3339("2024-01-05T12:41:26.908373+08:00")
    go_value, first_instant = next_reset_candidates(moment, zone)
    assert go_value == first_instant
    assert format_rfc3339(go_value) == "2024-01-06T00:00:00+08:00"
    reset_in = go_value - moment
    assert format_duration(reset_in // timedelta(microseconds=1) * 1000) == "11h18m33.091627s"


def test_the_organisation_day_is_local_not_utc() -> None:
    zone = load_zone("Asia/Taipei")
    moment = utc(2024, 1, 5, 16, 30)  # 00:30 on the 6th in Taipei
    assert local_date(moment, zone) == date(2024, 1, 6)
    go_value, _ = next_reset_candidates(moment, zone)
    assert format_rfc3339(go_value) == "2024-01-07T00:00:00+08:00"


@pytest.mark.parametrize(
    ("zone_name", "day", "midnight"),
    [
        # DST starts at 02:00 and ends at 02:00 (New York) / 01:00 UTC (London): midnight exists.
        ("America/New_York", date(2024, 3, 10), "2024-03-10T00:00:00-05:00"),
        ("America/New_York", date(2024, 11, 3), "2024-11-03T00:00:00-04:00"),
        ("Europe/London", date(2024, 3, 31), "2024-03-31T00:00:00Z"),
        ("Europe/London", date(2024, 10, 27), "2024-10-27T00:00:00+01:00"),
    ],
)
def test_dst_days_with_a_midnight_agree(zone_name: str, day: date, midnight: str) -> None:
    zone = load_zone(zone_name)
    assert format_rfc3339(go_local_midnight(day, zone)) == midnight
    assert format_rfc3339(first_instant_of_day(day, zone)) == midnight


@pytest.mark.parametrize(
    ("zone_name", "transition", "before", "after", "go_value", "first_instant"),
    [
        # tzdata: Rule Brazil 2018 Nov Sun>=1 0:00 -> DST; the clock jumps 00:00 -> 01:00.
        # Go guesses the pre-transition offset, finds it wrong and lands an hour early.
        (
            "America/Sao_Paulo",
            utc(2018, 11, 4, 3),
            timedelta(hours=-3),
            timedelta(hours=-2),
            "2018-11-03T23:00:00-03:00",
            "2018-11-04T01:00:00-02:00",
        ),
        # tzdata: Rule Cuba 2012-max Mar Sun>=8 0:00s -> DST (2023-03-12).
        (
            "America/Havana",
            utc(2023, 3, 12, 5),
            timedelta(hours=-5),
            timedelta(hours=-4),
            "2023-03-11T23:00:00-05:00",
            "2023-03-12T01:00:00-04:00",
        ),
        # tzdata: Rule Lebanon 1993-max Mar lastSun 0:00 -> DST (2023-03-26). East of UTC the
        # first guess is the post-transition offset and Go lands on the first instant, 01:00.
        (
            "Asia/Beirut",
            utc(2023, 3, 25, 22),
            timedelta(hours=2),
            timedelta(hours=3),
            "2023-03-26T01:00:00+03:00",
            "2023-03-26T01:00:00+03:00",
        ),
    ],
)
def test_days_without_a_midnight(
    zone_name: str,
    transition: datetime,
    before: timedelta,
    after: timedelta,
    go_value: str,
    first_instant: str,
) -> None:
    # The installed tzdata must have the transition this case is about.
    assert offset_at(zone_name, transition - timedelta(seconds=1)) == before
    assert offset_at(zone_name, transition) == after
    zone = load_zone(zone_name)
    day = transition.astimezone(zone).date()
    assert format_rfc3339(go_local_midnight(day, zone)) == go_value
    assert format_rfc3339(first_instant_of_day(day, zone)) == first_instant
    the_day_before_noon = datetime.combine(day - timedelta(days=1), datetime.min.time()).replace(
        hour=12, tzinfo=zone
    )
    candidates = next_reset_candidates(the_day_before_noon, zone)
    assert [format_rfc3339(value) for value in candidates] == [go_value, first_instant]


@pytest.mark.parametrize("name", ["Mars/Olympus_Mons", "", "../../etc/passwd", "asia/taipei "])
def test_unknown_zone_names_say_what_is_expected(name: str) -> None:
    with pytest.raises(TimestampError) as caught:
        load_zone(name)
    message = str(caught.value)
    assert repr(name) in message
    assert "IANA" in message
    assert "Asia/Taipei" in message
