"""An http scenario as the run's ``run.json``: each case as the chatbot case it is judged as.

The conformance core reads a run's cases as chatbot configurations (a rate limit of ``limit``
per ``duration``, keyed by ``vary_by``); an http case is one with no chatbot behind it. The checks
that judge what only the chatbot API has are listed as not applicable, with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime

from harness.api.timestamps import DEFAULT_ORG_TIMEZONE
from harness.load.keys import KeyPlan
from harness.load.scenario import (
    Case,
    Hammer,
    Paced,
    Polite,
    Population,
    RateLimitSpec,
    Scenario,
    VaryMode,
)
from harness.profiles.http.scenario import HttpCase, HttpScenario
from harness.profiles.http.sender import HttpKey
from harness.run.plan import CasePlan, RunPlan

__all__ = ["NOT_APPLICABLE", "PROFILE", "http_keys", "http_plan"]

PROFILE = "http"
NS = 1_000_000_000
NOT_APPLICABLE = {
    "well-formed": "the chatbot API's body contract (gRPC status, ErrorInfo); an HTTP "
    "target's answers are judged by their status only",
    "throttle-metadata": "the chatbot API's 429 metadata; an HTTP target's wait is judged by "
    "wait-honesty",
    "quota": "the chatbot API's daily quota",
    "settings-roundtrip": "the chatbot API's settings; an HTTP target's policy is declared",
    "access": "the chatbot API's tokens and API keys",
}
NO_WAIT = "the scenario says the target reports no wait (throttle.wait = 'none')"
_VARY: dict[str, VaryMode] = {"source-address": "ip", "header": "device", "none": "none"}


def http_keys(scenario: HttpScenario) -> dict[str, list[HttpKey]]:
    """Every case's keys: a header value each, or a loopback source address each (127.0.0.2
    onwards across the cases, so that no two keys share an address)."""
    keys: dict[str, list[HttpKey]] = {}
    next_address = 2
    for case in scenario.cases:
        made = []
        for index in range(case.keys):
            value, source = "", ""
            if case.key.by == "source-address":
                value = source = f"127.0.0.{next_address}"
                next_address += 1
            elif case.key.by == "header":
                value = f"{case.name}-k{index}"
            judged = value if case.policy.vary == "key" else ""
            made.append(HttpKey(case.name, index, value, source, judged))
        keys[case.name] = made
    return keys


def _case(case: HttpCase, duration: str) -> Case:
    vary = _VARY[case.key.by] if case.policy.vary == "key" else "none"
    behaviour: Hammer | Paced | Polite = Hammer(kind="hammer")
    if case.rate is not None:
        behaviour = Paced(kind="paced", rate=case.rate)
    elif case.behaviour == "polite":
        behaviour = Polite(kind="polite")
    return Case(
        name=case.name,
        behaviour=behaviour,
        population=Population(keys=case.keys, users_per_key=case.clients_per_key),
        rate_limit=RateLimitSpec(
            limit=case.policy.limit, duration=case.policy.window, vary_by=vary
        ),
        duration=case.duration or duration,
        max_requests_per_key=case.max_requests_per_key,
    )


def _key_plan(key: HttpKey) -> KeyPlan:
    sources = (key.source_ip,) if key.source_ip else ()
    return KeyPlan(key.case, key.index, key.judged, sources, (), (), ("", "", ""))


def _not_applicable(scenario: HttpScenario) -> dict[str, str]:
    skipped = dict(NOT_APPLICABLE)
    if all(case.throttle.wait == "none" for case in scenario.cases):
        skipped["wait-honesty"] = NO_WAIT
    return skipped


def http_plan(
    scenario: HttpScenario,
    keys: dict[str, list[HttpKey]],
    *,
    run_id: str,
    target: str,
    versions: dict[str, str],
) -> RunPlan:
    """``run.json`` of an http run, its keys as ``http_keys`` made them."""
    retry_after = any(case.throttle.wait != "none" for case in scenario.cases)
    return RunPlan(
        run_id=run_id,
        created_at=datetime.now(UTC).isoformat(),
        target=target,
        embedded_emulator=False,
        org_timezone=DEFAULT_ORG_TIMEZONE,
        scenario=Scenario(
            name=scenario.name,
            duration=scenario.duration,
            cases=[_case(case, scenario.duration) for case in scenario.cases],
        ),
        cases=[
            CasePlan(
                case=_case(case, scenario.duration),
                chatbot_id="",
                duration_ns=scenario.case_duration_ns(case),
                keys=[_key_plan(key) for key in keys[case.name]],
            )
            for case in scenario.cases
        ],
        versions=versions,
        profile=PROFILE,
        not_applicable=_not_applicable(scenario),
        # Retry-After and RateLimit-Reset both count whole seconds.
        wait_resolution_ns=NS if retry_after else None,
        declared_family=scenario.cases[0].policy.family,
    )
