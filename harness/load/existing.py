"""Cases for chatbots that already exist (``run --chatbot ID``): judged as configured, unchanged.

Before a release the limits to verify are often those of chatbots configured in the console. The
harness reads each one's settings (GET) and derives the cases its ``vary_by`` allows, every case
on that one chatbot with keys of its own (fresh device ids, addresses not shared with another
case of the chatbot), so that no two cases meet in one budget:

- by device id: an open key pushed past its limit, polite clients, a concurrent burst on fresh
  keys, and a device seen from several addresses (one budget);
- by IP: open keys, polite clients, an address with several devices, spoofed X-Forwarded-For;
- chatbot-wide (no ``vary_by``): one open case (every request of the chatbot is one budget, so
  one case only; wait-honesty then has no polite client and says so).

A chatbot without a rate limit has nothing to judge here. Its daily quota is carried for the
settings round trip but not judged: what it admitted earlier today is unknown, so a refusal
"too early" would prove nothing. The run's admissions count against it: ``quota_burn`` bounds them.
"""

from __future__ import annotations

import math
from typing import Any

from harness.api.chatbot import Chatbot, RateLimitVaryBy
from harness.api.duration import parse_duration
from harness.errors import ConfigError
from harness.load.estimate import admission_bound
from harness.load.scenario import Burst, Scenario, parse_scenario

__all__ = ["DEFAULT_DURATION_S", "quota_burn", "quota_of", "scenario_for_chatbots"]

DEFAULT_DURATION_S = 40
NS = 1_000_000_000
_VARY = {RateLimitVaryBy.IP: "ip", RateLimitVaryBy.DEVICE_ID: "device"}


def quota_of(chatbot: Chatbot) -> int | None:
    quota = chatbot.quota_limit
    if quota is None or not quota.enabled or quota.setting is None:
        return None
    return int(quota.setting.limit)


def _rate_limit(chatbot_id: str, chatbot: Chatbot) -> dict[str, Any]:
    rate = chatbot.rate_limit
    if rate is None or not rate.enabled or rate.setting is None:
        raise ConfigError(
            f"--chatbot {chatbot_id}: its rate limit is not enabled; nothing to judge"
        )
    setting = rate.setting
    vary = _VARY.get(RateLimitVaryBy(setting.vary_by), "none")
    spec: dict[str, Any] = {"limit": setting.limit, "duration": setting.duration, "vary_by": vary}
    if not setting.throttle_message:
        # What its throttles should then say is not documented: no check could hold them to it.
        raise ConfigError(
            f"--chatbot {chatbot_id}: its rate limit has no throttle_message; "
            "give it one to judge it (the checks hold throttles to it)"
        )
    spec["throttle_message"] = setting.throttle_message
    return spec


def _cases(
    prefix: str, chatbot_id: str, rate: dict[str, Any], window_s: float, quota: int | None
) -> list[dict[str, Any]]:
    def case(name: str, behaviour: dict[str, Any], **population: Any) -> dict[str, Any]:
        made = {
            "name": f"{prefix}-{name}",
            "behaviour": behaviour,
            "population": population,
            "rate_limit": rate,
            "chatbot_id": chatbot_id,
        }
        return {**made, "quota": {"limit": quota}} if quota is not None else made

    open_key = {"kind": "open", "over": 3, "max_in_flight": 32}
    polite = case("polite", {"kind": "polite"}, keys=1, users_per_key=5)
    burst_size = min(10_000, max(2 * int(rate["limit"]), int(rate["limit"]) + 5))
    interval = f"{max(1, math.ceil(window_s))}s"
    burst = {"kind": "burst", "size": burst_size, "repeat": 2, "interval": interval}
    if rate["vary_by"] == "device":
        return [
            case("device-open", open_key, keys=2),
            polite,
            case("concurrent-burst", burst),
            case("device-seen-from-many-ips", open_key, keys=1, rotate="ip", rotate_values=3),
        ]
    if rate["vary_by"] == "ip":
        return [
            case("ip-open", open_key, keys=2),
            polite,
            case("ip-with-many-devices", open_key, keys=1, rotate="device", rotate_values=3),
            case(
                "ip-spoofed-forwarded-for",
                open_key,
                keys=1,
                rotate="forwarded_for",
                rotate_values=3,
            ),
        ]
    return [case("chatbot-open", open_key, keys=1)]


def scenario_for_chatbots(
    chatbots: list[tuple[str, Chatbot]], duration: str | None = None
) -> Scenario:
    """The cases of every existing chatbot (``c1-...``, ``c2-...``, in the order given); the run
    lasts ``duration``, or long enough for two of the longest window (at least 40 s)."""
    cases: list[dict[str, Any]] = []
    longest_s = 0.0
    for number, (chatbot_id, chatbot) in enumerate(chatbots, 1):
        rate = _rate_limit(chatbot_id, chatbot)
        window_s = parse_duration(str(rate["duration"])) / NS
        longest_s = max(longest_s, window_s)
        cases += _cases(f"c{number}", chatbot_id, rate, window_s, quota_of(chatbot))
    run_s = max(DEFAULT_DURATION_S, math.ceil(2 * longest_s))
    document = {"name": "existing-chatbots", "duration": duration or f"{run_s}s", "cases": cases}
    return parse_scenario(document, "the chatbots' settings")


def quota_burn(scenario: Scenario, chatbot_id: str) -> int:
    """At most how many chats of the run the chatbot can admit: per key, the limit for every
    window the key's time spans, and one more window for a window that straddles the start."""
    admitted = 0
    for case in scenario.cases:
        if case.chatbot_id != chatbot_id or case.rate_limit is None:
            continue
        keys = case.population.keys
        if isinstance(case.behaviour, Burst):
            keys *= case.behaviour.repeat
        if case.rate_limit.vary_by == "none":
            keys = 1
        rate = case.rate_limit
        span_ns = scenario.case_duration_ns(case)
        admitted += admission_bound(rate.limit, rate.duration_ns, keys, span_ns)
    return admitted
