"""The live judgement as OpenTelemetry metrics, read back with the SDK's in-memory reader."""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from harness.cli.live_metrics import STATE, metrics_with, otlp_metrics
from harness.conformance.findings import Evidence, Outcome
from harness.conformance.live import LiveCheck, LiveJudgement
from harness.conformance.verdict import CheckResult


def check(check_id: str, outcome: Outcome, power: int | None, proven: bool = False) -> LiveCheck:
    result = CheckResult(
        id=check_id,
        title=check_id,
        outcome=outcome,
        summary="s",
        evidence=[],
        keys_with_power=power,
        keys_without_power=None if power is None else 1,
    )
    proof = Evidence("kind", "device-open", "key", ("r1",), "at most 5", "6") if proven else None
    return LiveCheck(result, proof, frozenset({"quota-open"}) if power == 0 else frozenset())


def points(reader: InMemoryMetricReader) -> dict[str, list[tuple[dict[str, Any], float]]]:
    data = reader.get_metrics_data()
    assert data is not None
    found: dict[str, list[tuple[dict[str, Any], float]]] = {}
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                found[metric.name] = [
                    (dict(point.attributes or {}), point.value)  # type: ignore[union-attr]
                    for point in metric.data.data_points
                ]
    return found


def test_each_round_is_exported_as_gauges_of_chats_checks_and_decided_cases() -> None:
    reader = InMemoryMetricReader()
    metrics, provider = metrics_with(reader, "run-7")
    metrics.update(
        LiveJudgement(
            cutoff=0,
            judged=30,
            checks=(
                check("over-admission", Outcome.FAIL, 4, proven=True),
                check("quota", Outcome.INCONCLUSIVE, 0),
                check("well-formed", Outcome.PASS, None),
            ),
            cases=frozenset({"device-open", "quota-open"}),
            answers={("device-open", "ok"): 10, ("device-open", "throttled"): 12},
            late={"device-open": 2},
        )
    )
    found = points(reader)
    run = {"aisk.run_id": "run-7"}
    assert sorted(found["aisk.chats"], key=str) == [
        ({**run, "case": "device-open", "outcome": "ok"}, 10),
        ({**run, "case": "device-open", "outcome": "throttled"}, 12),
    ]
    assert found["aisk.late_sends"] == [({**run, "case": "device-open"}, 2)]
    states = {attrs["check"]: value for attrs, value in found["aisk.check.state"]}
    assert states == {
        "over-admission": STATE["violation"],
        "quota": STATE["waiting"],
        "well-formed": STATE["pass"],
    }
    power = {attrs["check"]: value for attrs, value in found["aisk.check.keys_with_power"]}
    assert power == {"over-admission": 4, "quota": 0}
    # device-open has a proof, quota-open waits for the quota check's power.
    assert found["aisk.cases_decided"] == [(run, 1)]
    provider.shutdown()


def test_no_endpoint_in_the_environment_means_no_export(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", raising=False)
    assert otlp_metrics("run-7") is None
