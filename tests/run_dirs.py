"""Synthetic run directories (for compare, history and their commands), handed out as fixtures
by ``tests/conftest.py`` and importable as a module (``from run_dirs import ...``).

A run is written as ``aisk-harness run`` writes one: ``run.json`` through ``write_plan``, records
through ``RecordSink``, ``verdict.json`` through ``write_verdict``, and for a capacity search
``capacity.json`` and ``capacity_steps.json``. Latencies are given per case in send order.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from testkit import record_of

from harness.api.answer import Answer
from harness.capacity.result import CapacityResult, Slo, StepResult, write_result
from harness.conformance.findings import Outcome
from harness.conformance.verdict import CheckResult, Status, Verdict, write_verdict
from harness.load.scenario import Case, Scenario
from harness.run.plan import CasePlan, RunPlan, write_plan
from harness.run.records import Record, records_to_table
from harness.run.sink import RecordSink
from harness.run.step_log import StepLog, StepSpan, write_step_log

START_NS = 1_800_000_000_000_000_000
GAP_NS = 10_000_000  # between two sends of a case


def case_config(name: str, **changes: Any) -> Case:
    document: dict[str, Any] = {
        "name": name,
        "behaviour": {"kind": "hammer"},
        "population": {"keys": 2, "users_per_key": 2},
        "rate_limit": {"limit": 5, "duration": "1s", "vary_by": "device"},
    }
    document.update(changes)
    return Case.model_validate(document)


def chat_record(index: int, case: str, sent_ns: int, latency_ms: float, outcome: str,
                phase: str = "hammer") -> Record:  # fmt: skip
    received = sent_ns + round(latency_ms * 1e6)
    status = {"ok": 200, "throttled": 429, "out_of_quota": 429, "server_error": 500}.get(outcome, 0)
    answer = Answer._make([status, outcome, None, None, None, None, True, "", "", 10,
                           *(None,) * 17, "", "", None, None])  # fmt: skip
    request = {
        "request_id": f"local-{index}", "process": "local", "kind": "chat", "phase": phase,
        "case": case, "chatbot_id": "bot", "key_mode": "device", "key": "d",
        "source_ip": "127.10.0.1", "device_id": "d", "forwarded_for": "", "user": "u",
        "send_wall_ns": sent_ns, "recv_wall_ns": received, "send_mono_ns": sent_ns,
        "recv_mono_ns": received, "clock_offset_ns": 0, "clock_offset_err_ns": 0,
    }  # fmt: skip
    return record_of(request, answer)


def verdict(outcomes: Mapping[str, Outcome] | None = None, algorithm: str = "sliding-log",
            parameters: dict[str, object] | None = None) -> Verdict:  # fmt: skip
    """A verdict with the given check outcomes (every other check of a few: pass)."""
    chosen = {"well-formed": Outcome.PASS, "over-admission": Outcome.PASS,
              "wait-honesty": Outcome.INCONCLUSIVE, **(outcomes or {})}  # fmt: skip
    checks = [
        CheckResult(
            id=name,
            title=name.replace("-", " "),
            outcome=outcome,
            summary=f"{name} {outcome.value}",
            evidence=[],
        )
        for name, outcome in chosen.items()
    ]
    failed = any(outcome is Outcome.FAIL for outcome in chosen.values())
    status = Status.NOT_CONFORMANT if failed else Status.CONFORMANT
    return Verdict(status=status, conformant=not failed, target="http://127.0.0.1:9",
                   algorithm=algorithm,
                   algorithm_reason="because", algorithm_parameters=parameters or {},
                   checks=checks)  # fmt: skip


def write_run(
    run_dir: Path,
    latencies: Mapping[str, Sequence[float]],
    *,
    refused: Mapping[str, Sequence[float]] | None = None,
    judged: Verdict | None = None,
    label: str | None = None,
    created_at: str = "2026-11-25T00:00:00+00:00",
    cases: Sequence[Case] | None = None,
) -> Path:
    """A run whose case ``c`` answered ``latencies[c]`` (ms, admitted) and refused
    ``refused[c]`` (ms, throttled), interleaved in send order."""
    run_dir.mkdir(parents=True, exist_ok=True)
    configured = list(cases) if cases is not None else [case_config(n) for n in latencies]
    plan = RunPlan(
        run_id=run_dir.name, created_at=created_at, target="http://127.0.0.1:9",
        embedded_emulator=True, emulator={"latency": "20ms"}, org_timezone="Asia/Taipei",
        scenario=Scenario(cases=configured),
        cases=[CasePlan(case=c, chatbot_id="bot", duration_ns=1, keys=[]) for c in configured],
        label=label,
    )  # fmt: skip
    write_plan(run_dir, plan)
    records: list[Record] = []
    for case, values in latencies.items():
        answers = [(float(v), "ok") for v in values]
        throttles = [(float(v), "throttled") for v in (refused or {}).get(case, ())]
        mixed = [item for pair in zip(answers, throttles, strict=False) for item in pair]
        mixed += answers[len(throttles) :] + throttles[len(answers) :]
        for position, (latency, outcome) in enumerate(mixed):
            sent = START_NS + position * GAP_NS
            records.append(chat_record(len(records), case, sent, latency, outcome))
    sink = RecordSink(run_dir, "local")
    sink.write(records_to_table(records))
    sink.close()
    if judged is not None:
        write_verdict(run_dir, judged)
    return run_dir


def write_capacity_run(
    run_dir: Path,
    rates: Sequence[float],
    capacity_step: int | None,
    *,
    step_s: float = 4.0,
    latency_ms: float = 40.0,
    slo: Slo | None = None,
) -> Path:
    """A capacity search whose step ``i`` (``2·(i+1)`` users) answered ``rates[i]`` req/s,
    evenly spaced; the steps up to ``capacity_step`` are within the SLO."""
    case = Case.model_validate(
        {"name": "capacity", "behaviour": {"kind": "hammer"}, "population": {"keys": 8}}
    )
    write_run(run_dir, {}, cases=[case])
    step_ns = round(step_s * 1e9)
    latency_ns = round(latency_ms * 1e6)
    spans, steps, records = [], [], []
    for index, rate in enumerate(rates):
        start = START_NS + index * step_ns
        spans.append(
            StepSpan(index=index, users=2 * (index + 1), start_ns=start, end_ns=start + step_ns)
        )
        count = round(rate * step_s)
        for k in range(count):
            done = start + round((k + 0.5) * step_ns / count)
            records.append(
                chat_record(len(records), "capacity", done - latency_ns, latency_ms, "ok")
            )
        within = capacity_step is not None and index <= capacity_step
        steps.append(
            StepResult(
                index=index, offered=2.0 * (index + 1), offered_unit="users",
                start_ns=start + step_ns // 4, end_ns=start + step_ns, requests=count, errors=0,
                throughput_rps=rate, error_rate=0.0, p50_s=latency_ms / 1e3,
                p95_s=latency_ms / 1e3, p99_s=latency_ms / 1e3, within_slo=within,
            )
        )  # fmt: skip
    sink = RecordSink(run_dir, "local")
    sink.write(records_to_table(records))
    sink.close()
    users = [span.users for span in spans]
    write_step_log(run_dir, StepLog(step_duration_ns=step_ns, planned_users=users, steps=spans))
    result = CapacityResult(
        target="http://127.0.0.1:9", model="closed", model_note="closed loop",
        slo=slo or Slo(p95_s=2.0, max_error_rate=0.01), steps=steps,
        capacity_rps=rates[capacity_step] if capacity_step is not None else None,
        capacity_step=capacity_step, knee_rps=None, knee_step=None, errors_begin_step=None,
        sentence="s",
    )  # fmt: skip
    write_result(run_dir, result)
    return run_dir


def normal_ms(mean: float, size: int = 2000, seed: int = 0, spread: float = 0.05) -> np.ndarray:
    """Latencies around ``mean`` ms (lognormal, ``spread`` relative), reproducible."""
    rng = np.random.default_rng(seed)
    return mean * rng.lognormal(0.0, spread, size)
