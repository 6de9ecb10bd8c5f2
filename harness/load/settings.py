"""``RunSettings``: everything the Locust processes of a run need to know, secrets aside.

Built once, from the run options (``options.py``): by ``aisk-harness run``, which writes it to
the run directory as ``settings.json`` and hands Locust that one file, or by a plain ``locust -f``
run from its ``--aisk-*`` options when its test starts (so the web UI's form counts). The keys of
every case are planned here, once; the slots and budget shares derive from them on every process
alike (``RunSettings.slots``). API keys never enter it: they travel in the environment.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from harness.api.duration import DurationError, format_duration, parse_duration
from harness.api.timestamps import DEFAULT_ORG_TIMEZONE, TimestampError, load_zone
from harness.errors import ConfigError
from harness.load.budget import RunBudget, SlotShare, split_budget
from harness.load.builtin import scenario_path
from harness.load.fit import Fitted, PlannedAway, fit_keys
from harness.load.keys import KeyPlan, needs_host_addresses, plan_keys, url_host
from harness.load.options import (
    DEFAULT_READY_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT_S,
)
from harness.load.scenario import Scenario, load_scenario, parse_scenario
from harness.load.schedule import Slot, build_slots, slot_sender
from harness.model_files import read_model, write_model

__all__ = [
    "SETTINGS_FILE",
    "RunSettings",
    "planned_over_senders",
    "read_settings",
    "run_settings",
    "scenario_of",
    "with_overrides",
    "write_settings",
]

SETTINGS_FILE = "settings.json"
NS = 1_000_000_000
MAX_LABEL_CHARS = 100


class RunSettings(BaseModel):
    """What a run was asked to do. ``keys``: every case's keys, planned from ``run_id``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    run_id: str = Field(min_length=1)
    run_dir: str
    target: str
    scenario: Scenario
    keys: dict[str, list[KeyPlan]]
    budget: RunBudget
    request_timeout_s: float = Field(gt=0, le=3600)
    ready_timeout_s: float = Field(gt=0)
    org_timezone: str
    forwarded_for: bool = False
    label: str | None = None
    emulator: dict[str, Any] | None = None  # what the embedded emulator was started with
    autostop: bool = False  # quit once every slot has run (aisk-harness run)
    dry_run: bool = False  # set up, judge the set-up, tear down: no load
    live: bool = False  # judge while recording, shown every few seconds (harness.cli.live)
    fail_fast: bool = False  # stop at the first violation the live judge proves
    until_decided: bool = False  # stop each case once decided (run --until decided)
    # A distributed run of workers on other hosts: how many the master waits for, and once they
    # have joined, each one's source addresses, which the IP keys were planned over ({}: not
    # yet; None: IP keys need no worker's address, or there are no workers).
    expect_workers: int | None = Field(default=None, ge=1)
    senders: dict[str, list[str]] | None = None
    # What this host's source addresses could not exercise (``fit.py``): reported as skipped.
    planned_away: list[PlannedAway] = []
    cut: list[str] = []  # the cases run smaller than written, one line each

    @cached_property
    def slots(self) -> list[Slot]:
        """Every slot of the run, the same on every process."""
        return build_slots(self.scenario, self.keys)

    @cached_property
    def slot_senders(self) -> list[str | None]:
        """The worker that must send each slot (it owns the slot's addresses); None: any."""
        return [slot_sender(slot.keys, self.senders) for slot in self.slots]

    @cached_property
    def shares(self) -> list[SlotShare]:
        """Every slot's share of the budget, in slot order."""
        return split_budget(self.slots, self.budget.max_requests, self.budget.max_rps)


def _number(
    values: Mapping[str, Any], name: str, spell: Callable[[str], str], kind: type[float] | type[int]
) -> float | int | None:
    """An optional number option; "" (an empty web form field) is no value."""
    value = values.get(name)
    if value is None or value == "":
        return None
    try:
        number = kind(value)
    except (TypeError, ValueError):
        noun = "a whole number" if kind is int else "a number"
        raise ConfigError(f"{spell(name)} {value!r}: expected {noun}") from None
    if not math.isfinite(number):
        raise ConfigError(f"{spell(name)} {value!r}: expected a finite number")
    return number


def _positive(
    values: Mapping[str, Any],
    name: str,
    spell: Callable[[str], str],
    kind: type[float] | type[int],
    minimum: float,
    what: str,
) -> float | int | None:
    number = _number(values, name, spell, kind)
    if number is not None and not number >= minimum:
        raise ConfigError(f"{spell(name)} {number!r}: expected {what}")
    return number


def _duration_ns(value: object, name: str, spell: Callable[[str], str]) -> int:
    try:
        ns = parse_duration(str(value))
    except DurationError as exc:
        raise ConfigError(f"{spell(name)}: {exc}") from None
    if ns <= 0:
        raise ConfigError(f"{spell(name)} {value!r}: expected a duration above zero")
    return ns


def _label(value: object, spell: Callable[[str], str]) -> str | None:
    """A run's label: one printable line (it names the run in histories and comparisons)."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not 1 <= len(text) <= MAX_LABEL_CHARS or not text.isprintable():
        raise ConfigError(
            f"{spell('label')} {value!r}: expected 1 to {MAX_LABEL_CHARS} printable characters "
            "on one line"
        )
    return text


def with_overrides(
    scenario: Scenario, duration: str | None = None, clients_per_key: int | None = None
) -> Scenario:
    """The scenario with every case's duration and/or clients per key replaced, re-validated."""
    document = scenario.model_dump(mode="json", exclude_none=True)
    if duration:
        document["duration"] = duration
        for case in document["cases"]:
            case.pop("duration", None)
    if clients_per_key is not None:
        for case in document["cases"]:
            case.setdefault("population", {})["users_per_key"] = clients_per_key
    return parse_scenario(document, "command line (--duration/--users)")


def scenario_of(values: Mapping[str, Any], spell: Callable[[str], str]) -> Scenario:
    """The scenario of the ``scenario`` option (default: built-in), with ``duration`` and
    ``users`` applied."""
    scenario = load_scenario(scenario_path(values.get("scenario"), spell("scenario")))
    duration = values.get("duration") or None
    if duration is not None:
        _duration_ns(duration, "duration", spell)
    users = _positive(values, "users", spell, int, 1, "a whole number of at least 1")
    if duration is not None or users is not None:
        scenario = with_overrides(scenario, duration, None if users is None else int(users))
    return scenario


def _planned_keys(
    scenario: Scenario, run_id: str, target: str, forwarded_for: bool, expect_workers: int | None
) -> tuple[Fitted, dict[str, list[str]] | None]:
    """Every case's keys, fitted to this host's source addresses (``fit.py``), and the
    workers' addresses they wait for ({}) in a distributed run."""
    host = url_host(target)
    senders: dict[str, list[str]] | None = None
    if expect_workers is not None and needs_host_addresses(host, forwarded_for):
        senders = {}  # the master plans the IP keys once its workers say what they have
    fitted = fit_keys(
        scenario, run_id, target_host=host, forwarded_for=forwarded_for, senders=senders
    )
    return fitted, senders


def run_settings(
    values: Mapping[str, Any],
    *,
    spell: Callable[[str], str],
    run_id: str,
    run_dir: Path,
    target: str,
    emulator: dict[str, Any] | None = None,
    autostop: bool = False,
    dry_run: bool = False,
    scenario: Scenario | None = None,
    expect_workers: int | None = None,
) -> RunSettings:
    """The settings of a run from its option values (``options.option_values``), validated;
    ``spell`` names an option as the user spelled it (``--max-rps``, ``--aisk-max-rps``).
    ``scenario``: one made in code (the capacity search's), instead of the scenario option's."""
    scenario = scenario or scenario_of(values, spell)
    max_requests = _positive(values, "max-requests", spell, int, 1, "a whole number of at least 1")
    max_rps = _number(values, "max-rps", spell, float)
    if max_rps is not None and not max_rps > 0:
        raise ConfigError(f"{spell('max-rps')} {max_rps!r}: expected requests per second above 0")
    timeout = _number(values, "request-timeout", spell, float)
    timeout = DEFAULT_REQUEST_TIMEOUT_S if timeout is None else timeout
    if not 0 < timeout <= 3600:
        raise ConfigError(
            f"{spell('request-timeout')} {timeout!r}: expected seconds above 0, at most 3600"
        )
    ready_ns = _duration_ns(
        values.get("ready-timeout") or DEFAULT_READY_TIMEOUT, "ready-timeout", spell
    )
    zone = values.get("org-timezone") or DEFAULT_ORG_TIMEZONE
    try:
        load_zone(zone)
    except TimestampError as exc:
        raise ConfigError(f"{spell('org-timezone')}: {exc}") from None
    forwarded_for = bool(values.get("forwarded-for"))
    label = _label(values.get("label"), spell)
    fitted, senders = _planned_keys(scenario, run_id, target, forwarded_for, expect_workers)
    return RunSettings(
        run_id=run_id,
        run_dir=str(run_dir),
        target=target,
        scenario=fitted.scenario,
        keys=fitted.keys,
        planned_away=list(fitted.planned_away),
        cut=list(fitted.cut),
        budget=RunBudget(
            max_requests=None if max_requests is None else int(max_requests),
            max_rps=max_rps,
            duration=format_duration(scenario.duration_ns),
        ),
        request_timeout_s=timeout,
        ready_timeout_s=ready_ns / NS,
        org_timezone=zone,
        forwarded_for=forwarded_for,
        label=label,
        emulator=emulator,
        autostop=autostop,
        dry_run=dry_run,
        expect_workers=expect_workers,
        senders=senders,
    )


def planned_over_senders(settings: RunSettings, senders: dict[str, list[str]]) -> RunSettings:
    """The settings with the IP keys planned over the workers' addresses (a ``ConfigError``
    names the case they are too few for)."""
    keys = plan_keys(
        settings.scenario,
        settings.run_id,
        target_host=url_host(settings.target),
        forwarded_for=settings.forwarded_for,
        senders=senders,
    )
    fields = {**settings.model_dump(mode="json"), "keys": keys, "senders": senders}
    return RunSettings.model_validate(fields)


def write_settings(run_dir: Path, settings: RunSettings) -> Path:
    return write_model(run_dir / SETTINGS_FILE, settings)


def read_settings(path: Path) -> RunSettings:
    return read_model(
        path,
        RunSettings,
        missing=f"no settings file at {str(path)!r}",
        kind="the settings of a run of this harness version",
    )
