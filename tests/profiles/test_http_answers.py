"""An HTTP answer's outcome by status, and its wait from Retry-After or the RateLimit fields."""

from __future__ import annotations

import json

import pytest

from harness.api.answer import Outcome
from harness.profiles.http.answers import http_answer, ratelimit_reset_s, retry_after_ns

NS = 1_000_000_000
DATE = "Mon, 07 Dec 2026 21:00:00 GMT"


def _answer(status: int, headers: dict[str, str], wait_from: str = "retry-after") -> object:
    return http_answer(status, headers, 3, throttle_status=429, wait_from=wait_from, recv_wall_ns=0)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.OK),
        (204, Outcome.OK),
        (429, Outcome.THROTTLED),
        (404, Outcome.CLIENT_ERROR),
        (503, Outcome.SERVER_ERROR),
    ],
)
def test_the_outcome_is_the_status_s(status: int, outcome: Outcome) -> None:
    answer = http_answer(status, {}, 0, throttle_status=429, wait_from="none", recv_wall_ns=0)
    assert answer.outcome is outcome
    assert answer.body_valid


def test_a_declared_throttle_status_other_than_429_is_the_throttle() -> None:
    answer = http_answer(503, {}, 0, throttle_status=503, wait_from="none", recv_wall_ns=0)
    assert answer.outcome is Outcome.THROTTLED


def test_retry_after_in_seconds_and_as_an_http_date() -> None:
    assert retry_after_ns("3", 0, None) == 3 * NS
    assert retry_after_ns("Mon, 07 Dec 2026 21:00:02 GMT", 0, DATE) == 2 * NS
    # no Date header: from our receive instant
    then = retry_after_ns("Mon, 07 Dec 2026 21:00:02 GMT", 0, None)
    assert then is not None
    assert then > 2 * NS
    assert retry_after_ns("soon", 0, DATE) is None
    assert retry_after_ns("-1", 0, DATE) is None


@pytest.mark.parametrize(
    ("headers", "reset"),
    [
        ({"ratelimit": "limit=5, remaining=0, reset=3"}, "3"),  # draft-7
        ({"ratelimit": '"default";r=0;t=4'}, "4"),  # draft-8 and later
        ({"ratelimit-reset": "7", "ratelimit-limit": "5"}, "7"),  # draft-6
        ({"ratelimit": "limit=5, remaining=0"}, None),
        ({"ratelimit-reset": "1.5"}, None),
        ({}, None),
    ],
)
def test_the_ratelimit_reset_of_each_draft(headers: dict[str, str], reset: str | None) -> None:
    assert ratelimit_reset_s(headers) == reset


def test_the_wait_is_read_on_throttles_only_and_the_limit_headers_are_kept() -> None:
    headers = {"retry-after": "2", "ratelimit": "limit=5, remaining=0, reset=2", "x-other": "1"}
    throttled = http_answer(
        429, headers, 0, throttle_status=429, wait_from="retry-after", recv_wall_ns=0
    )
    assert (throttled.m_wait, throttled.wait_ns, throttled.wait_sec) == ("2", 2 * NS, 2.0)
    assert json.loads(throttled.m_other) == {
        "retry-after": "2",
        "ratelimit": "limit=5, remaining=0, reset=2",
    }
    admitted = http_answer(
        200, headers, 0, throttle_status=429, wait_from="retry-after", recv_wall_ns=0
    )
    assert admitted.wait_ns is None
    from_reset = http_answer(
        429, headers, 0, throttle_status=429, wait_from="ratelimit-reset", recv_wall_ns=0
    )
    assert from_reset.wait_ns == 2 * NS
