"""The live judgement as OpenTelemetry metrics, exported over OTLP by the live judge.

Exported from the live judge's child process (``harness.cli.live``), never from the sending
process: each round's ``LiveJudgement`` becomes the value of a few observable gauges, read by
the SDK's periodic reader and pushed to an OTLP/HTTP collector. Switched on by the standard
variables ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`` (the
exporter reads them itself, with its headers and timeouts); ``docs/guides/live.md`` shows a
collector → Prometheus → Grafana recipe. The values are of the complete prefix the judge saw,
a request timeout behind the load: counts, never a request's content or a secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

from opentelemetry.metrics import CallbackOptions, Meter, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource

from harness.conformance import Outcome
from harness.conformance.live import LiveJudgement

__all__ = ["ENDPOINT_VARIABLES", "LiveMetrics", "metrics_with", "otlp_metrics"]

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
EXPORT_INTERVAL_MS = 5_000
# A check's state as a number a dashboard can colour: proven violation highest.
STATE = {"pass": 0, "waiting": 1, "unproven-failure": 2, "violation": 3}


def _state(outcome: Outcome, proven: bool) -> int:
    if proven:
        return STATE["violation"]
    if outcome is Outcome.FAIL:
        return STATE["unproven-failure"]
    return STATE["pass"] if outcome is Outcome.PASS else STATE["waiting"]


class LiveMetrics:
    """Gauges over the latest judgement (``update`` sets it; the reader observes it)."""

    def __init__(self, meter: Meter, run_id: str) -> None:
        self._run = {"aisk.run_id": run_id}
        self._latest: LiveJudgement | None = None
        meter.create_observable_gauge(
            "aisk.chats",
            [self._chats],
            unit="{request}",
            description="load chats judged so far, by case and outcome (admitted: ok)",
        )
        meter.create_observable_gauge(
            "aisk.late_sends",
            [self._late],
            unit="{request}",
            description="open-model sends that left late, by case",
        )
        meter.create_observable_gauge(
            "aisk.check.state",
            [self._states],
            description="each check: 0 pass, 1 waiting, 2 failing not yet proven, 3 violation",
        )
        meter.create_observable_gauge(
            "aisk.check.keys_with_power",
            [self._power],
            unit="{key}",
            description="keys each check has judged with power",
        )
        meter.create_observable_gauge(
            "aisk.cases_decided",
            [self._decided],
            unit="{case}",
            description="cases every check has power on, or with a proven violation",
        )

    def update(self, judgement: LiveJudgement) -> None:
        self._latest = judgement

    def _attributes(self, **more: str) -> Mapping[str, str]:
        return {**self._run, **more}

    def _chats(self, options: CallbackOptions) -> Iterable[Observation]:
        latest = self._latest
        answers = latest.answers if latest is not None else {}
        return [
            Observation(count, self._attributes(case=case, outcome=outcome))
            for (case, outcome), count in sorted(answers.items())
        ]

    def _late(self, options: CallbackOptions) -> Iterable[Observation]:
        late = self._latest.late if self._latest is not None else {}
        return [Observation(n, self._attributes(case=case)) for case, n in sorted(late.items())]

    def _states(self, options: CallbackOptions) -> Iterable[Observation]:
        checks = self._latest.checks if self._latest is not None else ()
        return [
            Observation(
                _state(check.result.outcome, check.proof is not None),
                self._attributes(check=check.result.id),
            )
            for check in checks
        ]

    def _power(self, options: CallbackOptions) -> Iterable[Observation]:
        checks = self._latest.checks if self._latest is not None else ()
        return [
            Observation(check.result.keys_with_power, self._attributes(check=check.result.id))
            for check in checks
            if check.result.keys_with_power is not None
        ]

    def _decided(self, options: CallbackOptions) -> Iterable[Observation]:
        latest = self._latest
        return [] if latest is None else [Observation(len(latest.decided), self._attributes())]


def otlp_metrics(run_id: str) -> tuple[LiveMetrics, MeterProvider] | None:
    """Metrics pushed over OTLP/HTTP when an endpoint is set in the environment; else None."""
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return None
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(), export_interval_millis=EXPORT_INTERVAL_MS
    )
    return metrics_with(reader, run_id)


def metrics_with(reader: MetricReader, run_id: str) -> tuple[LiveMetrics, MeterProvider]:
    """``LiveMetrics`` read by ``reader`` (an in-memory one in the tests)."""
    resource = Resource.create({"service.name": "aisk-harness"})
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    return LiveMetrics(provider.get_meter("aisk-harness.live"), run_id), provider
