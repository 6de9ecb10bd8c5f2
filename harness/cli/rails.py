"""Safety rails of ``aisk-harness run``: budgets, the remote-target guard, and what is shown first.

Before any load, ``run`` prints where it sends (the target, and which organisation's key, as a
short fingerprint: the chat API has no endpoint that names the organisation) and what the run may
cost per case. A target outside loopback needs ``--allow-remote``; the check resolves the host
name and happens before any connection is made.
"""

from __future__ import annotations

import hashlib
import math
from typing import Any
from urllib.parse import urlsplit

from harness.api.duration import format_duration
from harness.cli.calibrate import CALIBRATION_CHATS, Calibration
from harness.errors import ConfigError
from harness.load.estimate import CaseEstimate, estimate_cases
from harness.load.keys import is_loopback_host, url_host
from harness.load.power_plan import power_warnings
from harness.load.reach import Reach, reach
from harness.load.samples import PLANNING_SPREAD, PlannedPower, planned_power
from harness.load.scenario import Case
from harness.load.settings import RunSettings

__all__ = [
    "add_allow_remote_option",
    "check_target",
    "compare_power",
    "key_fingerprint",
    "print_estimate",
    "print_target",
]

# The threshold the plan sizes against: compare's default --max-p95-increase.
COMPARE_THRESHOLD = 0.10
NS = 1_000_000_000


def add_allow_remote_option(parser: Any) -> None:
    """The one rail of every command that sends load (``run``, ``capacity``)."""
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --target outside loopback (127.0.0.0/8, ::1, localhost)",
    )


def _is_loopback(host: str) -> bool:
    try:
        return is_loopback_host(host)
    except (OSError, UnicodeError) as exc:
        raise ConfigError(f"--target: cannot resolve host {host!r}: {exc}") from None


def check_target(target: str, allow_remote: bool) -> None:
    """A target outside loopback is refused unless ``--allow-remote`` says it is meant."""
    parts = urlsplit(target)
    if parts.username is not None or parts.password is not None:
        # Never echoed: the URL itself holds the secret.
        raise ConfigError("--target: credentials in the URL are refused; use AISK_API_KEY")
    host = parts.hostname
    if not host:
        raise ConfigError(f"--target {target!r}: expected a URL with a host name")
    if not allow_remote and not _is_loopback(host):
        raise ConfigError(
            f"--target {target!r} is not on loopback: pass --allow-remote to send load there"
        )


def key_fingerprint(api_key: str) -> str:
    """A short, non-reversible name for a key: enough to tell two keys apart, useless to use."""
    return "sha256:" + hashlib.sha256(api_key.encode()).hexdigest()[:12]


def print_target(host: str, api_key: str, embedded: bool) -> None:
    """Where the load goes, and with whose key (as a fingerprint), before any load."""
    if embedded:
        where = "embedded emulator"
    else:
        where = "loopback" if _is_loopback(url_host(host)) else "remote"
    print(f"target: {host} ({where})")
    print(
        f"organisation: the one of API key {key_fingerprint(api_key)} "
        "(the chat API has no endpoint that names it)"
    )


CAPPED = "*"  # a ceiling that is only the case's max_requests_per_key


def compare_power(estimate: CaseEstimate, case: Case, reached: Reach | None) -> PlannedPower:
    """What two runs of this case would let ``compare`` resolve of its admitted p95. Its
    admitted answers come at the pace its keys offer (an open key's schedule; a closed loop's at
    the calibrated answer time; unknown uncalibrated: the most it may send), never faster than
    its limit lets a conformant target admit, and never more than its quota."""
    seconds = estimate.duration_ns / NS
    pace = estimate.max_requests / seconds if seconds > 0 else 0.0
    if reached is not None and reached.offered_rps is not None:
        pace = min(pace, reached.offered_rps * estimate.keys)
    rate = case.rate_limit
    if rate is not None:
        limiter_keys = 1 if case.vary_mode == "none" else estimate.keys
        pace = min(pace, limiter_keys * rate.limit * NS / rate.duration_ns)
    answers = min(estimate.max_admitted, int(pace * seconds))
    return planned_power(answers, seconds, COMPARE_THRESHOLD, pace=pace)


def _power_cell(power: PlannedPower, quota: int | None) -> str:
    if power.enough(COMPARE_THRESHOLD):
        return f"±{power.resolution * 100:.1f} %"
    if power.seconds_needed is None or power.needed is None:
        return "too few: no answers"
    if quota is not None and power.needed > quota:
        return f"too few: {power.needed} > its quota"
    return f"too few: {power.needed} in {format_duration(math.ceil(power.seconds_needed) * NS)}"


def print_estimate(settings: RunSettings, calibration: Calibration | None) -> list[str]:
    """The budget and, per case, the most the run may send and a conformant target may admit,
    what its keys offer per second and need in flight at the calibrated answer time; returns the
    warnings (cases that cannot reach their limit on this target, checks the scenario cannot
    give power against the smallest violation), printed after the table."""
    estimates = estimate_cases(settings.slots, settings.shares, settings.request_timeout_s)
    max_requests, max_rps = settings.budget.max_requests, settings.budget.max_rps
    caps = [
        f"at most {max_requests} chat requests" if max_requests else "no request cap",
        f"{max_rps:g} requests/s" if max_rps else "no rate cap",
    ]
    longest = max((e.duration_ns for e in estimates), default=0)
    print(f"budget: {', '.join(caps)}, {format_duration(longest)} of load")
    if calibration is not None:
        refused = "-" if calibration.refused_s is None else f"{calibration.refused_s:.3g} s"
        print(
            f"calibration: an admitted answer took {calibration.admitted_s:.3g} s, a refusal "
            f"{refused} ({CALIBRATION_CHATS} chats on a chatbot made for them)"
        )
    cases = {case.name: case for case in settings.scenario.cases}
    rows = [
        (
            "case",
            "behaviour",
            "keys",
            "requests ≤",
            "admitted ≤",
            "quota/day",
            "offers/s",
            "in flight",
            "compare p95",
        )
    ]
    warnings: list[str] = []
    for e in estimates:
        quota = "-" if e.quota is None else str(e.quota)
        if e.may_exhaust_quota:
            quota += " (may run out)"
        offers, in_flight = "-", "-"
        reached = None
        if calibration is not None:
            reached = reach(cases[e.case], calibration.admitted_s)
            offers = "-" if reached.offered_rps is None else f"{reached.offered_rps:.3g}"
            in_flight = str(reached.in_flight)
            warnings += [reached.warning] if reached.warning else []
        rows.append(
            (
                e.case,
                e.behaviour,
                str(e.keys),
                f"{e.max_requests}{CAPPED if e.capped else ''}",
                str(e.max_admitted),
                quota,
                offers,
                in_flight,
                _power_cell(compare_power(e, cases[e.case], reached), e.quota),
            )
        )
    total_requests = sum(e.max_requests for e in estimates)
    total_admitted = sum(e.max_admitted for e in estimates)
    rows.append(("total", "", "", str(total_requests), str(total_admitted), "", "", "", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  "
            + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    print(
        f"  (compare p95: what `compare` of two such runs resolves of a case's p95 of admitted "
        f"answers, for its default ±{COMPARE_THRESHOLD * 100:g} %, latencies assumed lognormal "
        f"σ {PLANNING_SPREAD:g}; too few: the answers it needs, and the load that takes)"
    )
    if any(e.capped for e in estimates):
        print(
            f"  {CAPPED} only max_requests_per_key bounds a closed loop that is never held back "
            "(no schedule, wait or budget): set it in the case, or --max-requests"
        )
    for line in settings.cut:
        print(f"fitted to the source addresses: {line}")
    for away in settings.planned_away:
        print(f"planned away: {away.describe()}")
    # What the scenario cannot give the checks that look for one request too many.
    warnings += [f"no power: {line}" for line in power_warnings(settings.scenario)]
    for warning in warnings:
        print(f"warning: {warning}")
    return warnings
