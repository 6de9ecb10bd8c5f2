"""An HTTP answer as the run's answer columns: its outcome by status, its wait by header.

Only what a generic HTTP limiter says is read: the status that means "throttled" and the header
the scenario names for the wait. The chatbot API's body contract (gRPC status, metadata) does not
apply, so those columns stay empty and the checks that read them are not applicable to the run.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from email.utils import parsedate_to_datetime

from harness.api.answer import Answer, ErrorClass, Outcome
from harness.api.metadata_columns import NO_METADATA

__all__ = ["LIMIT_HEADERS", "http_answer", "ratelimit_reset_s", "retry_after_ns"]

NS = 1_000_000_000
# The headers kept (raw, as JSON in ``m_other``) for the IETF RateLimit fields and wait checks.
LIMIT_HEADERS = (
    "retry-after",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
)
_SECONDS = re.compile(r"^\s*(\d{1,10})\s*$")
# draft-7's ``reset=N`` parameter (``limit=5, remaining=0, reset=3``) or draft-8's ``;t=N``.
_RESET_PARAM = re.compile(r"(?:^|[,;\s])(?:reset|t)\s*=\s*(\d{1,10})(?![\d.])")


def retry_after_ns(text: str, now_wall_ns: int, date: str | None) -> int | None:
    """``Retry-After``'s delay: delay-seconds, or an HTTP date less the answer's ``Date`` (our
    receive instant when it has none); None when it is neither (RFC 9110 §10.2.3)."""
    seconds = _SECONDS.match(text)
    if seconds:
        return int(seconds.group(1)) * NS
    try:
        then = parsedate_to_datetime(text.strip())
        base = parsedate_to_datetime(date.strip()).timestamp() * NS if date else now_wall_ns
    except (TypeError, ValueError, IndexError):
        return None
    if then.tzinfo is None:
        return None
    return max(0, round(then.timestamp() * NS - base))


def ratelimit_reset_s(headers: Mapping[str, str]) -> str | None:
    """The reset, in seconds as written: the ``RateLimit`` field's (draft-7 ``reset=``, draft-8
    and later ``t=``) or else ``RateLimit-Reset`` (draft-6 and earlier); None when neither."""
    combined = headers.get("ratelimit")
    if combined is not None:
        found = _RESET_PARAM.search(combined)
        if found:
            return found.group(1)
    reset = headers.get("ratelimit-reset")
    if reset is not None and _SECONDS.match(reset):
        return reset.strip()
    return None


def _outcome(status: int, throttle_status: int) -> Outcome:
    if status == throttle_status:
        return Outcome.THROTTLED
    if 200 <= status < 300:
        return Outcome.OK
    if status >= 500:
        return Outcome.SERVER_ERROR
    return Outcome.CLIENT_ERROR


def _wait(
    wait_from: str, headers: Mapping[str, str], recv_wall_ns: int
) -> tuple[str | None, int | None]:
    """The wait's raw text and its value in ns, read where the scenario says."""
    if wait_from == "retry-after":
        text = headers.get("retry-after")
        if text is None:
            return None, None
        return text, retry_after_ns(text, recv_wall_ns, headers.get("date"))
    if wait_from == "ratelimit-reset":
        reset = ratelimit_reset_s(headers)
        return reset, int(reset) * NS if reset is not None else None
    return None, None


def http_answer(
    status: int,
    headers: Mapping[str, str],
    size: int,
    *,
    throttle_status: int,
    wait_from: str,
    recv_wall_ns: int,
) -> Answer:
    """The answer columns of an HTTP answer (``headers`` keyed in lower case). The wait is read
    on throttles only: an admission's reset says when the budget refills, not a wait."""
    outcome = _outcome(status, throttle_status)
    m_wait, wait_ns = None, None
    if outcome is Outcome.THROTTLED:
        m_wait, wait_ns = _wait(wait_from, headers, recv_wall_ns)
    kept = {name: headers[name] for name in LIMIT_HEADERS if name in headers}
    answer = Answer(
        status,
        outcome,
        None,
        None,
        None,
        None,
        True,
        "",
        ErrorClass.NONE,
        size,
        *NO_METADATA,
        "",
        None,
        None,
    )
    return answer._replace(
        m_wait=m_wait,
        wait_ns=wait_ns,
        wait_sec=wait_ns / NS if wait_ns is not None else None,
        m_other=json.dumps(kept, sort_keys=True) if kept else "",
    )
