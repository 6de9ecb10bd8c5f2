"""The ``http`` profile's scenario file: per case, the request, its keys, the declared policy and
how a throttle and its wait are recognised.

TOML, validated here; every problem is one line naming the field (``cases[0].policy.limit``).
Durations are Go duration strings ("1s", "1m30s") as in the chatbot scenario.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.api.duration import parse_duration
from harness.errors import ConfigError
from harness.load.go_duration import GoDuration
from harness.model_files import format_validation_error

__all__ = [
    "HttpCase",
    "HttpScenario",
    "KeyCarrier",
    "Policy",
    "RequestSpec",
    "Throttle",
    "load_http_scenario",
    "parse_http_scenario",
]

_CASE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_HEADER = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")  # an RFC 9110 token
# Keys by source address: 127.0.0.2 onwards (127.0.0.1 stays the harness's own).
MAX_SOURCE_KEYS = 250


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RequestSpec(_Strict):
    """The request every client of the case sends; ``body`` and header values are templates in
    which ``{key}`` is the key's value and ``{seq}`` the client's request number."""

    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"] = "GET"
    path: str = "/"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str = ""

    @field_validator("path")
    @classmethod
    def _absolute(cls, path: str) -> str:
        if not path.startswith("/"):
            raise ValueError("must start with '/' (a path on the target)")
        return path

    @field_validator("headers")
    @classmethod
    def _tokens(cls, headers: dict[str, str]) -> dict[str, str]:
        for name in headers:
            if not _HEADER.match(name):
                raise ValueError(f"{name!r} is not a header name")
        return headers


class KeyCarrier(_Strict):
    """How a key reaches the limiter: the source address (127.0.0.2, .3, ... on loopback), a
    header's value, or nothing (one budget for every request)."""

    by: Literal["source-address", "header", "none"] = "header"
    header: str | None = None

    @model_validator(mode="after")
    def _header_named(self) -> KeyCarrier:
        if self.by == "header" and not (self.header and _HEADER.match(self.header)):
            raise ValueError("by = 'header' needs 'header', the header name that carries the key")
        if self.by != "header" and self.header is not None:
            raise ValueError(f"'header' is only for by = 'header' (not {self.by!r})")
        return self


class Policy(_Strict):
    """The declared policy: at most ``limit`` admissions per ``window`` and key.

    A leaky bucket (nginx ``limit_req rate=R burst=B``, GCRA) is declared as ``limit = B + 1`` per
    ``window = (B + 1) / R``: a bucket of B + 1 that refills one request every 1/R, which is the
    token bucket the checks already hold "``limit`` per ``window``" to (docs/guides/any-http.md).
    """

    limit: int = Field(ge=1, le=2**31 - 1)
    window: GoDuration
    vary: Literal["key", "none"] = "key"
    # The family the limiter is meant to be; the checks then hold the trace to that family's
    # own bounds unless the trace refutes it (None: identified from the trace alone).
    family: (
        Literal[
            "token-bucket",
            "sliding-log",
            "fixed-window",
            "anchored-window",
            "sliding-window-counter",
        ]
        | None
    ) = None

    @property
    def window_ns(self) -> int:
        return parse_duration(self.window)


class Throttle(_Strict):
    """How a throttle is recognised (its status) and where its wait is read: ``Retry-After``
    (delay-seconds or an HTTP date), ``RateLimit-Reset`` / the ``RateLimit`` field's reset
    (seconds), or nowhere (``none``: the target says no wait, as nginx's ``limit_req``)."""

    status: int = Field(default=429, ge=400, le=599)
    wait: Literal["none", "retry-after", "ratelimit-reset"] = "retry-after"


class HttpCase(_Strict):
    """One declared limit, driven by ``keys`` keys with ``clients_per_key`` closed-loop clients
    each (``hammer``: send on every answer; ``paced``: ``rate`` requests per second and key;
    ``polite``: as hammer, but after a throttle sleep its reported wait and retry)."""

    name: str
    request: RequestSpec = Field(default_factory=RequestSpec)
    key: KeyCarrier = Field(default_factory=KeyCarrier)
    policy: Policy
    throttle: Throttle = Field(default_factory=Throttle)
    keys: int = Field(default=1, ge=1, le=MAX_SOURCE_KEYS)
    clients_per_key: int = Field(default=1, ge=1, le=64)
    behaviour: Literal["hammer", "paced", "polite"] = "hammer"
    rate: float | None = Field(default=None, gt=0, le=10_000)
    duration: GoDuration | None = None
    max_requests_per_key: int = Field(default=5_000, ge=1, le=1_000_000)

    @field_validator("name")
    @classmethod
    def _slug(cls, name: str) -> str:
        if not _CASE_NAME.match(name):
            raise ValueError("must be lowercase letters, digits and '-', 1 to 63 characters")
        return name

    @model_validator(mode="after")
    def _coherent(self) -> HttpCase:
        if (self.behaviour == "paced") != (self.rate is not None):
            raise ValueError("'rate' (requests per second and key) is for behaviour = 'paced' only")
        if self.behaviour == "polite" and self.throttle.wait == "none":
            raise ValueError("behaviour = 'polite' needs a wait to sleep: set throttle.wait")
        if self.key.by == "none" and self.policy.vary == "key":
            raise ValueError("policy.vary = 'key' needs keys: set key.by, or policy.vary = 'none'")
        if self.key.by == "none" and self.keys != 1:
            raise ValueError("keys > 1 needs key.by ('source-address' or 'header')")
        return self


class HttpScenario(_Strict):
    """Cases run side by side, each for ``duration`` unless it sets its own."""

    name: str = "http"
    duration: GoDuration = "10s"
    cases: list[HttpCase] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> HttpScenario:
        names = [case.name for case in self.cases]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"case name {twice[0]!r} is used twice; names must be unique")
        families = {case.policy.family for case in self.cases}
        if len(families) > 1:
            raise ValueError("policy.family: one family for every case of a run (or none)")
        sources = sum(case.keys for case in self.cases if case.key.by == "source-address")
        if sources > MAX_SOURCE_KEYS:
            raise ValueError(
                f"{sources} source-address keys in all: at most {MAX_SOURCE_KEYS} (127.0.0.2 on)"
            )
        return self

    def case_duration_ns(self, case: HttpCase) -> int:
        return parse_duration(case.duration or self.duration)


def parse_http_scenario(document: dict[str, Any], source: str = "scenario") -> HttpScenario:
    try:
        return HttpScenario.model_validate(document)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None


def load_http_scenario(path: Path) -> HttpScenario:
    """Read and validate an http scenario file; every problem is named in the ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read scenario file {str(path)!r}: {exc.strerror}") from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_http_scenario(document, str(path))
