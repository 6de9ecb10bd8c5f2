"""Scenario files: a list of cases, each a chatbot configuration, a population and a behaviour.

A scenario is TOML, validated here; errors name the field (``cases[2].rate_limit.limit``) and say
what is expected. Durations are Go duration strings ("2s", "1m30s") like the API's own.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from harness.api.chatbot import RateLimitVaryBy
from harness.api.duration import parse_duration
from harness.errors import ConfigError
from harness.load.chat_spec import ChatSpec, resolve_questions_files
from harness.load.go_duration import GoDuration
from harness.load.stages import Stage, Think, staged_arrivals
from harness.model_files import format_validation_error

__all__ = [
    "Behaviour",
    "Burst",
    "Case",
    "Hammer",
    "Open",
    "Paced",
    "Polite",
    "Population",
    "QuotaSpec",
    "RateLimitSpec",
    "Scenario",
    "default_scenario_path",
    "load_scenario",
    "parse_scenario",
]

INT32_MAX = 2**31 - 1
NS = 1_000_000_000
VaryMode = Literal["ip", "device", "none"]
VARY_BY_ENUM: dict[str, RateLimitVaryBy] = {
    "ip": RateLimitVaryBy.IP,
    "device": RateLimitVaryBy.DEVICE_ID,
    "none": RateLimitVaryBy.UNSPECIFIED,
}


def _ns(text: str) -> int:
    return parse_duration(text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RateLimitSpec(_Strict):
    """The chatbot's rate limit: ``limit`` messages per ``duration``, keyed by ``vary_by``."""

    limit: int = Field(ge=1, le=INT32_MAX)
    duration: GoDuration
    vary_by: VaryMode = "none"
    throttle_message: str = Field(default="Too many messages in a row", min_length=1)

    @property
    def duration_ns(self) -> int:
        return _ns(self.duration)

    @property
    def api_vary_by(self) -> RateLimitVaryBy:
        """``vary_by`` as the API's enum (UNSPECIFIED for none)."""
        return VARY_BY_ENUM[self.vary_by]


class QuotaSpec(_Strict):
    """The chatbot's daily quota (``QUOTA_LIMIT_RESET_DAILY``) in messages."""

    limit: int = Field(ge=1, le=INT32_MAX)


class Population(_Strict):
    """How many distinct keys (IPs or device ids) a case uses, and concurrent clients per key.

    ``rotate`` varies the attribute that is *not* the key across ``rotate_values`` values, to prove
    the target keys by the right thing: one device seen from several IPs, one IP with several
    device ids, or one IP sending several spoofed X-Forwarded-For values.
    """

    keys: int = Field(default=1, ge=1, le=10_000)
    users_per_key: int = Field(default=1, ge=1, le=1_000)
    rotate: Literal["none", "device", "ip", "forwarded_for"] = "none"
    rotate_values: int = Field(default=4, ge=2, le=250)


class Hammer(_Strict):
    """Each client sends as soon as its answer arrives (after ``think``, if given); with
    ``stages`` the clients at work ramp between the stages' targets (``harness.load.stages``)."""

    kind: Literal["hammer"]
    stages: list[Stage] | None = Field(default=None, min_length=1, max_length=100)
    think: Think | None = None


class Paced(_Strict):
    """Each key sends ``rate`` requests per second in all, on a fixed schedule."""

    kind: Literal["paced"]
    rate: float = Field(gt=0, le=100_000)


class Polite(_Strict):
    """On a throttle, a client sleeps the reported ``wait`` (plus ``retry_margin``) and retries."""

    kind: Literal["polite"]
    retry_margin: GoDuration | Literal["0s"] = "0s"


class Burst(_Strict):
    """``size`` requests at once on a fresh key, ``repeat`` times, ``interval`` apart.

    ``concurrent = false`` sends them back to back instead, each after the previous answer.
    Every repetition uses new keys, so every burst meets a fresh budget.
    """

    kind: Literal["burst"]
    size: int = Field(ge=1, le=10_000)
    repeat: int = Field(default=1, ge=1, le=1_000)
    interval: GoDuration = "1s"
    concurrent: bool = True


class Open(_Strict):
    """Arrivals on a schedule that does not wait for answers (an open model, as k6's
    constant-arrival-rate): ``rate`` requests per second for the key, or ``over`` times the case's
    limit per duration, spaced evenly or as a Poisson process. At most ``max_in_flight`` requests
    are in flight for the key; an arrival that finds them all busy waits for one up to
    ``max_delay`` (it leaves late) and is dropped past it (k6's dropped_iterations).

    Closed loops offer at most clients / latency: against a language model answering in seconds
    they never reach a limit. An open key reaches ``over`` times its limit whatever the latency.
    """

    kind: Literal["open"]
    rate: float | None = Field(default=None, gt=0, le=100_000)
    over: float | None = Field(default=None, gt=0, le=1_000)
    stages: list[Stage] | None = Field(default=None, min_length=1, max_length=100)
    start_rate: float = Field(default=0.0, ge=0, le=100_000)  # where the first stage ramps from
    arrivals: Literal["constant", "poisson"] = "constant"
    max_in_flight: int = Field(default=64, ge=1, le=10_000)
    max_delay: GoDuration = "1s"

    @model_validator(mode="after")
    def _one_rate(self) -> Open:
        if sum(given is not None for given in (self.rate, self.over, self.stages)) != 1:
            raise ValueError(
                "give exactly one of 'rate' (per second), 'over' (times the limit) "
                "and 'stages' (a rate that ramps)"
            )
        return self


Behaviour = Annotated[Hammer | Paced | Polite | Burst | Open, Field(discriminator="kind")]
BEHAVIOUR_KINDS = ("hammer", "paced", "polite", "burst", "open")

_CASE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Case(_Strict):
    """One chatbot configuration, driven by one population with one behaviour."""

    name: str
    behaviour: Behaviour
    population: Population = Population()
    rate_limit: RateLimitSpec | None = None
    quota: QuotaSpec | None = None
    duration: GoDuration | None = None
    max_requests_per_key: int = Field(default=1_000_000, ge=1)
    chat: ChatSpec | None = None  # what its chats ask (default: the scenario's [chat])
    # An existing chatbot (run --chatbot): judged as it is, never made, changed or deleted.
    chatbot_id: str | None = Field(default=None, min_length=1, max_length=200)
    # The resolution the service promises its waits in ("1s": whole seconds); wait-honesty then
    # fails only errors beyond it. None: the scenario's, else the waits are held exact.
    wait_granularity: GoDuration | None = None

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _CASE_NAME.match(name):
            raise ValueError("must be lowercase letters, digits and '-', 1 to 63 characters")
        return name

    @model_validator(mode="after")
    def _coherent(self) -> Case:
        rotate = self.population.rotate
        mode = self.rate_limit.vary_by if self.rate_limit else "none"
        if rotate == "device" and mode == "device":
            raise ValueError("population.rotate = 'device' cannot vary the key itself (vary_by)")
        if rotate == "ip" and mode == "ip":
            raise ValueError("population.rotate = 'ip' cannot vary the key itself (vary_by)")
        if isinstance(self.behaviour, Open) and self.behaviour.over and self.rate_limit is None:
            raise ValueError("behaviour.over needs a rate_limit to be over (or give 'rate')")
        stages = self.behaviour.stages if isinstance(self.behaviour, Hammer) else None
        if stages and max(s.target for s in stages) > self.population.users_per_key:
            raise ValueError(
                "behaviour.stages: a target above population.users_per_key (the clients a key has)"
            )
        return self

    @property
    def vary_mode(self) -> VaryMode:
        return self.rate_limit.vary_by if self.rate_limit else "none"

    @property
    def arrival_rate(self) -> float | None:
        """An open case's arrivals per second and key (None for the closed behaviours)."""
        behaviour = self.behaviour
        if not isinstance(behaviour, Open):
            return None
        if behaviour.rate is not None:
            return behaviour.rate
        if behaviour.stages is not None:
            return staged_arrivals(behaviour.stages, behaviour.start_rate)
        assert self.rate_limit is not None  # checked when the case was read
        assert behaviour.over is not None
        return behaviour.over * self.rate_limit.limit * NS / self.rate_limit.duration_ns

    @property
    def concurrent_burst(self) -> bool:
        """A burst whose requests leave together (rather than back to back)."""
        return isinstance(self.behaviour, Burst) and self.behaviour.concurrent


class Scenario(_Strict):
    """A list of cases run side by side, each for ``duration`` unless it sets its own."""

    name: str = "scenario"
    duration: GoDuration = "60s"
    cases: list[Case] = Field(min_length=1)
    chat: ChatSpec = Field(default_factory=ChatSpec)
    # Every case's wait granularity unless the case declares its own (see ``Case``).
    wait_granularity: GoDuration | None = None

    @model_validator(mode="after")
    def _unique_names(self) -> Scenario:
        seen: set[str] = set()
        for case in self.cases:
            if case.name in seen:
                raise ValueError(f"case name {case.name!r} is used twice; names must be unique")
            seen.add(case.name)
        return self

    def chat_of(self, case: Case) -> ChatSpec:
        return case.chat or self.chat

    def wait_granularity_ns(self, case: Case) -> int:
        """The resolution the case's waits are promised in, in ns (0: exact)."""
        declared = case.wait_granularity or self.wait_granularity
        return _ns(declared) if declared else 0

    def case_duration_ns(self, case: Case) -> int:
        return _ns(case.duration or self.duration)

    @property
    def duration_ns(self) -> int:
        return max(self.case_duration_ns(case) for case in self.cases)


def parse_scenario(document: dict[str, Any], source: str = "scenario") -> Scenario:
    try:
        return Scenario.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, BEHAVIOUR_KINDS)) from None


def load_scenario(path: Path) -> Scenario:
    """Read and validate a scenario file; every problem is named in the ConfigError."""
    try:
        # utf-8-sig: a byte order mark, which some editors write, is accepted (TOML has none).
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ConfigError(f"cannot read scenario file {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
            "save the scenario as UTF-8"
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    resolve_questions_files(document, path)
    return parse_scenario(document, str(path))


def default_scenario_path() -> Path:
    """The built-in scenario shipped with the package."""
    return Path(__file__).with_name("scenarios") / "default.toml"
