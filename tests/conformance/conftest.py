"""Builders for the conformance tests, handed out as fixtures (not imported).

Without ``__init__.py`` files every ``conftest.py`` of the tree is the same module name, so
``from conftest import ...`` is fragile; a fixture that returns the builder is not. The fixtures
are session-scoped: they hold only pure functions, and Hypothesis tests may use them.

``Simulator`` plays a target: each request has a true server instant τ, the emulator's own limiter
state decides it in τ order, and the record's [send, recv] interval contains τ, as the harness
would have seen it. Answers go through the emulator's answer builder and the load package's
classifier, so the records carry exactly what a real run's records carry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from testkit import record_of

from harness.api.answer import Answer, ErrorClass, classify_answer, transport_answer
from harness.conformance.buckets import Bucket, buckets
from harness.conformance.spec import CaseSpec, CheckInput, RateSpec, Tolerance
from harness.emulator.answers import throttled
from harness.emulator.limiter import FixedWindow, KeyState, Rule, SlidingLog, TokenBucket
from harness.emulator.policy import CORRECT, Policy
from harness.run.records import Record, records_to_table

WALL_BASE_NS = 1_700_000_000_000_000_000
DEVICE_VARY = "RATE_LIMIT_VARY_BY_DEVICE_ID"


class AnchoredWindow:
    """Research §1.1: a window of ``duration`` opens at the first admission after the last one
    closed (Redis INCR + EXPIRE). Conformant, but not one of the emulator's families."""

    def __init__(self, rule: Rule) -> None:
        self._rule = rule
        self._start: int | None = None
        self._count = 0

    def _roll(self, now_ns: int) -> None:
        if self._start is not None and now_ns >= self._start + self._rule.duration_ns:
            self._start, self._count = None, 0

    def wait(self, now_ns: int) -> int:
        self._roll(now_ns)
        if self._start is None or self._count < self._rule.limit:
            return 0
        return self._start + self._rule.duration_ns - now_ns

    def record(self, now_ns: int) -> None:
        self._roll(now_ns)
        if self._start is None:
            self._start = now_ns
        self._count += 1

    def idle(self, now_ns: int) -> bool:
        self._roll(now_ns)
        return self._start is None


FAMILIES: dict[str, Callable[[Rule], KeyState]] = {
    "sliding-log": SlidingLog,
    "fixed-window": FixedWindow,
    "token-bucket": TokenBucket,
    "anchored-window": AnchoredWindow,
}

OK_ANSWER = classify_answer("chat", 200, b'{"answer":"hi","citations":[]}')


RECORD_DEFAULTS: dict[str, object] = {
    "request_id": "local-0", "process": "local", "kind": "chat", "phase": "hammer",
    "case": "case", "chatbot_id": "bot-1", "key_mode": "device", "key": "dev-1",
    "source_ip": "127.10.0.1", "device_id": "dev-1", "forwarded_for": "", "user": "user-0",
    "clock_offset_ns": 0, "clock_offset_err_ns": 0,
}  # fmt: skip


def build_record(**changes: Any) -> Record:
    """A chat request answered 200 at mono [10 ms, 15 ms], with ``changes`` applied."""
    send, recv = changes.pop("send_mono_ns", 10_000_000), changes.pop("recv_mono_ns", 15_000_000)
    answer: Answer = changes.pop("answer", OK_ANSWER)
    times = {"send_wall_ns": WALL_BASE_NS + send, "recv_wall_ns": WALL_BASE_NS + recv,
             "send_mono_ns": send, "recv_mono_ns": recv}  # fmt: skip
    return record_of({**RECORD_DEFAULTS, **times}, answer, **changes)


def to_frame(records: Iterable[Record]) -> pd.DataFrame:
    """The records as ``read_records`` gives them back (through Arrow, nullable ints as floats)."""
    frame: pd.DataFrame = records_to_table(list(records)).to_pandas()
    return frame


def rate_case(
    name: str = "case",
    limit: int = 3,
    duration_ns: int = 1_000_000_000,
    *,
    behaviour: str = "hammer",
    concurrent: bool = False,
    rotate: str = "none",
    keys: int = 1,
    vary_by: str = DEVICE_VARY,
    quota: int | None = None,
    message: str = "slow down",
) -> CaseSpec:
    rate = RateSpec(limit, duration_ns, message, vary_by)
    return CaseSpec(name, f"bot-{name}", rate, quota, behaviour, concurrent, rotate, keys)


def check_input(
    records: pd.DataFrame | Iterable[Record],
    cases: Sequence[CaseSpec],
    zone: str = "Asia/Taipei",
    tolerance: Tolerance | None = None,
    second_org: bool = True,
) -> CheckInput:
    frame = records if isinstance(records, pd.DataFrame) else to_frame(records)
    return CheckInput(
        frame, {c.name: c for c in cases}, ZoneInfo(zone), second_org, tolerance or Tolerance()
    )


# One request: the server decides it at τ; the client saw [τ - before, τ + after].
Sent = tuple[int, int, int]  # (tau, before, after)
# A sending process: its name, how far its wall clock is behind the master's, and the offset it
# measured for that (``estimate``, within ``error`` of the truth), as a worker records them.
Clock = tuple[str, int, int, int]  # (process, shift, estimate, error)


@dataclass(frozen=True)
class Simulator:
    """A target with one limiter family and, optionally, one fault (see module docstring)."""

    family: str
    limit: int
    duration_ns: int
    real_limit: int | None = None  # the limit the limiter really applies (fault: limit+1)
    real_duration_ns: int | None = None  # the window it really applies (fault: a longer one)
    count_throttled: bool = False  # fault: a throttle is recorded as an admission
    policy: Policy = field(default=CORRECT)  # wait_factor, formats...
    skew: float = 0.0  # the server's clock rate relative to the client's, minus 1 (ρ)

    def state(self) -> KeyState:
        duration = self.real_duration_ns or self.duration_ns
        return FAMILIES[self.family](Rule(self.real_limit or self.limit, duration))

    def answers(self, taus: Sequence[int]) -> list[tuple[Answer, int | None]]:
        """Each request's answer (in the given order) and the true wait of a throttle."""
        state = self.state()
        decided: dict[int, tuple[Answer, int | None]] = {}
        anchor = min(taus, default=0)
        for index in sorted(range(len(taus)), key=lambda i: (taus[i], i)):
            now = anchor + round((taus[index] - anchor) * (1 + self.skew))  # the server's clock
            wait = state.wait(now)
            if wait == 0:
                state.record(now)
                decided[index] = (OK_ANSWER, None)
                continue
            if self.count_throttled:
                state.record(now)
            answer = throttled(
                policy=self.policy, limit=self.limit, duration_ns=self.duration_ns,
                throttle_message="slow down", vary_by=DEVICE_VARY, true_wait_ns=wait,
            )  # fmt: skip
            decided[index] = (classify_answer("chat", answer.status, answer.body), wait)
        return [decided[i] for i in range(len(taus))]

    def records(
        self,
        sent: Sequence[Sent],
        case: str = "case",
        key: str = "dev-1",
        phase: str = "hammer",
        clocks: Sequence[Clock] | None = None,
    ) -> list[Record]:
        """The records of ``sent``; with ``clocks``, each request comes from its own process
        whose wall clock is ``shift`` behind the master's, measured as ``estimate ± error``."""
        out = []
        decided = self.answers([tau for tau, _, _ in sent])
        for n, ((tau, before, after), (answer, _)) in enumerate(zip(sent, decided, strict=True)):
            record = build_record(
                request_id=f"{case}/{key}-{n}",
                case=case,
                chatbot_id=f"bot-{case}",
                key=key,
                device_id=key,
                phase=phase,
                answer=answer,
                send_mono_ns=tau - before,
                recv_mono_ns=tau + after,
            )
            if clocks is not None:
                process, shift, estimate, error = clocks[n]
                record = record.replace(
                    process=process,
                    send_wall_ns=record.times.send_wall_ns - shift,
                    recv_wall_ns=record.times.recv_wall_ns - shift,
                    clock_offset_ns=estimate,
                    clock_offset_err_ns=error,
                )
            out.append(record)
        return out


def only_bucket(data: CheckInput) -> Bucket:
    found = list(buckets(data))
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="session")
def make_record() -> Callable[..., Record]:
    return build_record


@pytest.fixture(scope="session")
def make_frame() -> Callable[[Iterable[Record]], pd.DataFrame]:
    return to_frame


@pytest.fixture(scope="session")
def make_case() -> Callable[..., CaseSpec]:
    return rate_case


@pytest.fixture(scope="session")
def make_input() -> Callable[..., CheckInput]:
    return check_input


@pytest.fixture(scope="session")
def simulator() -> Callable[..., Simulator]:
    return Simulator


@pytest.fixture(scope="session")
def bucket_of() -> Callable[[CheckInput], Bucket]:
    return only_bucket


@pytest.fixture(scope="session")
def transport() -> Answer:
    return transport_answer(ErrorClass.TIMEOUT, "read timed out")
