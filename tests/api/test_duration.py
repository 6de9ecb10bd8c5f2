"""The Go duration codec against Go's own test vectors (golang/go src/time/time_test.go)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.api.duration import (
    MAX_DURATION_NS,
    MIN_DURATION_NS,
    DurationError,
    format_duration,
    format_seconds,
    parse_duration,
)

NS = 1
US = 1_000 * NS
MS = 1_000 * US
S = 1_000 * MS
M = 60 * S
H = 60 * M

# durationTests: Duration.String(); TestDurationString also checks "-"+str for every positive d.
DURATION_STRING = [
    ("0s", 0),
    ("1ns", 1 * NS),
    ("1.1µs", 1100 * NS),
    ("2.2ms", 2200 * US),
    ("3.3s", 3300 * MS),
    ("4m5s", 4 * M + 5 * S),
    ("4m5.001s", 4 * M + 5001 * MS),
    ("5h6m7.001s", 5 * H + 6 * M + 7001 * MS),
    ("8m0.000000001s", 8 * M + 1 * NS),
    ("2562047h47m16.854775807s", (1 << 63) - 1),
    ("-2562047h47m16.854775808s", -(1 << 63)),
]

# parseDurationTests: ParseDuration(in) == want.
PARSE_VALID = [
    # simple
    ("0", 0),
    ("5s", 5 * S),
    ("30s", 30 * S),
    ("1478s", 1478 * S),
    # sign
    ("-5s", -5 * S),
    ("+5s", 5 * S),
    ("-0", 0),
    ("+0", 0),
    # decimal
    ("5.0s", 5 * S),
    ("5.6s", 5 * S + 600 * MS),
    ("5.s", 5 * S),
    (".5s", 500 * MS),
    ("1.0s", 1 * S),
    ("1.00s", 1 * S),
    ("1.004s", 1 * S + 4 * MS),
    ("1.0040s", 1 * S + 4 * MS),
    ("100.00100s", 100 * S + 1 * MS),
    # different units
    ("10ns", 10 * NS),
    ("11us", 11 * US),
    ("12\u00b5s", 12 * US),  # U+00B5 micro sign
    ("12\u03bcs", 12 * US),  # U+03BC Greek mu
    ("13ms", 13 * MS),
    ("14s", 14 * S),
    ("15m", 15 * M),
    ("16h", 16 * H),
    # composite durations
    ("3h30m", 3 * H + 30 * M),
    ("10.5s4m", 4 * M + 10 * S + 500 * MS),
    ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
    ("1h2m3s4ms5us6ns", 1 * H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS),
    ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
    # large value
    ("52763797000ns", 52763797000 * NS),
    # more than 9 digits after decimal point, golang.org/issue/6617
    ("0.3333333333333333333h", 20 * M),
    # 1<<53+1 cannot be stored precisely in a float64
    ("9007199254740993ns", ((1 << 53) + 1) * NS),
    # largest duration that can be represented by int64 in nanoseconds
    ("9223372036854775807ns", (1 << 63) - 1),
    ("9223372036854775.807us", (1 << 63) - 1),
    ("9223372036s854ms775us807ns", (1 << 63) - 1),
    ("-9223372036854775808ns", -(1 << 63)),
    ("-9223372036854775.808us", -(1 << 63)),
    ("-9223372036s854ms775us808ns", -(1 << 63)),
    # largest negative round trip value, golang.org/issue/48629
    ("-2562047h47m16.854775808s", -(1 << 63)),
    # huge string; golang.org/issue/15011
    ("0.100000000000000000000h", 6 * M),
    # the first overflow check in leadingFraction
    ("0.830103483285477580700h", 49 * M + 48 * S + 372539827 * NS),
]

# Not in Go's table: the same bounds written in milliseconds, traced through Go's ParseDuration
# by hand (9223372036854 * 1e6 + uint64(float64(775807) * (1e6 / 1e6))).
PARSE_VALID_MS_BOUNDS = [
    ("9223372036854.775807ms", (1 << 63) - 1),
    ("-9223372036854.775808ms", -(1 << 63)),
]

# parseDurationErrorTests (the invalid-UTF-8 byte strings have no Python str equivalent), plus a
# sign or a dot alone.
PARSE_INVALID = [
    "",
    "3",
    "-",
    "s",
    ".",
    "-.",
    ".s",
    "+.s",
    "1d",
    "\ufffd",
    "\ufffd hello \ufffd world",
    # overflow
    "9223372036854775810ns",
    "9223372036854775808ns",
    "-9223372036854775809ns",
    "9223372036854776us",
    "3000000h",
    "9223372036854775.808us",
    "9223372036854ms775us808ns",
    # not in Go's table, rejected by the same code path as "-" and "-."
    "+",
    "+.",
]


@pytest.mark.parametrize(("text", "ns"), DURATION_STRING)
def test_format_matches_go_duration_string(text: str, ns: int) -> None:
    assert format_duration(ns) == text
    if ns > 0:
        assert format_duration(-ns) == "-" + text


@pytest.mark.parametrize(("text", "ns"), PARSE_VALID + PARSE_VALID_MS_BOUNDS)
def test_parse_matches_go_parse_duration(text: str, ns: int) -> None:
    assert parse_duration(text) == ns


@pytest.mark.parametrize("text", PARSE_INVALID)
def test_parse_rejects_what_go_rejects(text: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    # Like Go's error, the message quotes the input.
    assert repr(text) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1m0s", 60 * S),
        ("36.581786s", 36_581_786 * US),
        ("11h18m33.091627s", 11 * H + 18 * M + 33 * S + 91_627 * US),
        ("500ms", 500 * MS),
        ("1.5µs", 1_500 * NS),
    ],
)
def test_documented_metadata_values_are_canonical(text: str, ns: int) -> None:
    assert parse_duration(text) == ns
    assert format_duration(ns) == text


def test_go_prints_only_the_micro_sign() -> None:
    assert format_duration(parse_duration("12\u03bcs")) == "12\u00b5s"


def test_configured_durations_read_like_go() -> None:
    # The chatbot setting holds "1s" or "1m"; the 429 metadata echoes the canonical form.
    assert format_duration(parse_duration("1m")) == "1m0s"
    assert format_duration(parse_duration("1s")) == "1s"


def test_format_rejects_values_outside_int64() -> None:
    with pytest.raises(DurationError):
        format_duration(MAX_DURATION_NS + 1)
    with pytest.raises(DurationError):
        format_duration(MIN_DURATION_NS - 1)


@given(st.integers(min_value=MIN_DURATION_NS, max_value=MAX_DURATION_NS))
def test_parse_inverts_format_for_every_int64(ns: int) -> None:
    assert parse_duration(format_duration(ns)) == ns


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (36_581_786_000, "36.581786"),
        (40_713_091_627_000, "40713.091627"),
        (0, "0.000000"),
        (1, "0.000000"),
        # %f rounds the exact float64: 5e-07 is 4.99999...e-07, 1.5e-06 is 1.50000...04e-06.
        (500 * NS, "0.000000"),
        (1_500 * NS, "0.000002"),
        (-1_500 * MS, "-1.500000"),
        (60 * S, "60.000000"),
    ],
)
def test_format_seconds_is_go_percent_f_of_seconds(ns: int, text: str) -> None:
    assert format_seconds(ns) == text
