"""Planning a scenario onto the source addresses there are: what one host can exercise, it does.

Against a remote target an IP key is a real address of a host that sends (``keys.py``); a CI
runner usually has one. Rather than refuse the scenario, each case that keys by IP or rotates
IPs gets what fits: fewer keys, fewer rotated addresses or burst repetitions, down to the least
that still tests what the case is for. What cannot run on the addresses there are is planned
away, each as a ``PlannedAway``: the check part it was for and why (``needs 2 source addresses,
this host has 1``), which the plan prints and the verdict reports as skipped (never passed).
The same rule holds for the built-in scenario and a user's own: the plan says what was cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

from pydantic import BaseModel, ConfigDict

from harness.errors import ConfigError
from harness.load.keys import THIS_HOST, KeyPlan, local_source_addresses, plan_keys
from harness.load.scenario import Burst, Case, Scenario

__all__ = ["Fitted", "PlannedAway", "fit_keys"]


class PlannedAway(BaseModel):
    """A part of a check no case could exercise from the addresses there were: ``check`` (a
    check's id), the ``case`` meant for it, ``what`` it would have shown, and ``reason``."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    check: str
    case: str
    what: str
    reason: str  # "needs 2 source addresses, this host has 1"

    def describe(self) -> str:
        return f"{self.check} ({self.what}, case {self.case!r}): skipped: {self.reason}"


@dataclass(frozen=True, slots=True)
class Fitted:
    """The scenario as it will run, its keys, what was planned away and what was cut."""

    scenario: Scenario
    keys: dict[str, list[KeyPlan]]
    planned_away: tuple[PlannedAway, ...] = ()
    cut: tuple[str, ...] = ()  # "case 'ip-open': 1 key of 4 keys (source addresses: ...)"


def _needs_ips(case: Case) -> bool:
    return case.vary_mode == "ip" or case.population.rotate == "ip"


def _with(
    case: Case, keys: int, rotate_values: int | None = None, repeat: int | None = None
) -> Case:
    population: dict[str, int] = {"keys": keys}
    if rotate_values is not None:
        population["rotate_values"] = rotate_values
    changes: dict[str, object] = {"population": case.population.model_copy(update=population)}
    if repeat is not None:
        assert isinstance(case.behaviour, Burst)
        changes["behaviour"] = case.behaviour.model_copy(update={"repeat": repeat})
    return case.model_copy(update=changes)


def _smaller(case: Case) -> Iterator[Case]:
    """The case with fewer keys, then (one key) fewer rotated addresses or repetitions: each
    still tests what the case is for, largest first, each needing no more addresses than the
    one before (so the ones that fit are a suffix: ``_largest`` bisects)."""
    for keys in range(case.population.keys - 1, 0, -1):
        yield _with(case, keys)
    if case.population.rotate == "ip":
        for values in range(case.population.rotate_values - 1, 1, -1):
            yield _with(case, 1, rotate_values=values)
    if isinstance(case.behaviour, Burst):
        for repeat in range(case.behaviour.repeat - 1, 0, -1):
            yield _with(case, 1, repeat=repeat)


Planner = Callable[[Scenario], dict[str, list[KeyPlan]]]


def _largest(candidates: list[Case], fits: Callable[[Case], bool]) -> Case | None:
    """The first candidate that fits, by bisection: those that fit are a suffix."""
    low, high = 0, len(candidates)  # every candidate before ``low`` does not fit
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if fits(candidates[middle]) else (middle + 1, high)
    return candidates[low] if low < len(candidates) else None


def _fits(cases: list[Case], scenario: Scenario, planner: Planner) -> bool:
    try:
        planner(scenario.model_copy(update={"cases": cases}))
    except ConfigError:
        return False
    return True


def _lost(original: Case, fitted: Case | None, sources: str) -> list[PlannedAway]:
    """The parts of checks the fitted case (None: none fits) no longer exercises."""
    name = original.name
    if original.population.rotate == "ip" and fitted is None:
        what = "one device seen from several IPs keeps one budget"
        return [
            PlannedAway(
                check="vary-isolation",
                case=name,
                what=what,
                reason=f"needs 2 source addresses, {sources}",
            )
        ]
    if fitted is None:
        check = "over-admission"
        if isinstance(original.behaviour, Burst):
            check = "concurrency" if original.behaviour.concurrent else "burst"
        what = "keys by source IP"
        reason = f"needs 1 source address, {sources}"
        return [PlannedAway(check=check, case=name, what=what, reason=reason)]
    distinct = original.population.rotate == "none" and original.vary_mode == "ip"
    if distinct and original.population.keys > 1 and fitted.population.keys == 1:
        what = "distinct IP keys keep their own budgets"
        return [
            PlannedAway(
                check="vary-isolation",
                case=name,
                what=what,
                reason=f"needs 2 source addresses, {sources}",
            )
        ]
    return []


def _sources(senders: Mapping[str, Sequence[str]]) -> str:
    if list(senders) == [THIS_HOST]:
        count = len(senders[THIS_HOST])
        return f"this host has {count}"
    return f"the workers have {sum(len(a) for a in senders.values())}"


def fit_keys(
    scenario: Scenario,
    run_id: str,
    *,
    target_host: str,
    forwarded_for: bool = False,
    senders: Mapping[str, Sequence[str]] | None = None,
) -> Fitted:
    """``plan_keys`` on the scenario as the source addresses allow it (module docstring)."""
    try:
        keys = plan_keys(
            scenario, run_id, target_host=target_host, forwarded_for=forwarded_for, senders=senders
        )
        return Fitted(scenario, keys)
    except ConfigError:
        pass  # too few addresses for some case (the only refusal of ``plan_keys``): fit them
    if senders is None:
        senders = {THIS_HOST: local_source_addresses()}
    planner: Planner = partial(
        plan_keys,
        run_id=run_id,
        target_host=target_host,
        forwarded_for=forwarded_for,
        senders=senders,
    )
    sources = _sources(senders)
    cases: list[Case] = []
    away: list[PlannedAway] = []
    cut: list[str] = []
    for case in scenario.cases:
        if not _needs_ips(case) or _fits([*cases, case], scenario, planner):
            cases.append(case)
            continue
        fitted = _largest(
            list(_smaller(case)), lambda smaller: _fits([*cases, smaller], scenario, planner)
        )
        away += _lost(case, fitted, sources)
        if fitted is None:
            cut.append(f"case {case.name!r}: not run (source addresses: {sources})")
            continue
        cases.append(fitted)
        cut.append(
            f"case {case.name!r}: {_shape(fitted)} of {_shape(case)} (source addresses: {sources})"
        )
    if not cases:
        raise ConfigError(
            f"no case of the scenario can run from the source addresses there are ({sources})"
        )
    fitted_scenario = scenario.model_copy(update={"cases": cases})
    keys = planner(fitted_scenario)
    return Fitted(fitted_scenario, keys, tuple(away), tuple(cut))


def _shape(case: Case) -> str:
    """'4 keys', '1 key rotating 2 IPs', '1 key, 3 bursts': what a fitted case sends."""
    keys = case.population.keys
    text = f"{keys} key{'s' if keys != 1 else ''}"
    if case.population.rotate == "ip":
        text += f" rotating {case.population.rotate_values} IPs"
    if isinstance(case.behaviour, Burst):
        text += f", {case.behaviour.repeat} bursts"
    return text
