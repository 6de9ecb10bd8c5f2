"""An open-model sweep's capacity section: its rate steps charted, and its report built."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.capacity import CapacityResult, Slo, StepResult, read_result, write_result
from harness.capacity.open_result import open_result
from harness.capacity.repeats import combine
from harness.errors import ConfigError
from harness.report.build import build_report
from harness.report.capacity_chart import capacity_figure
from harness.report.open_sweep import models_figure, open_steps_frame

SLO = Slo(p95_s=2.0, max_error_rate=0.01)


def step(
    index: int, offered: float, *, unit: str = "req/s", throughput: float | None = None,
    p95: float = 0.05, error_rate: float = 0.0, bound: bool = False,
) -> StepResult:  # fmt: skip
    done = min(offered, 98.0) if throughput is None else throughput
    return StepResult(
        index=index, offered=offered, offered_unit=unit, start_ns=index, end_ns=index + 1,  # type: ignore[arg-type]
        requests=100, errors=round(error_rate * 100), throughput_rps=done, error_rate=error_rate,
        p50_s=p95 / 2, p95_s=p95, p99_s=p95 * 1.2,
        within_slo=p95 <= SLO.p95_s and error_rate <= SLO.max_error_rate,
        label="synchronous" if unit == "users" else f"{offered:g}rps", sent_rps=offered,
        goodput_rps=done, p95_sent_s=0.04, generator_bound=bound,
        generator_cpu_percent=99.0 if bound else 20.0, generator_process="local",
    )  # fmt: skip


def sweep() -> list[StepResult]:
    repeated = combine([step(4, 90, p95=0.05), step(5, 90, p95=0.07)], 0.01, 2.0)
    return [step(2, 120, p95=0.12, error_rate=0.2), step(3, 60), repeated,
            step(6, 400, bound=True), step(7, 105, p95=0.12, error_rate=0.05)]  # fmt: skip


def result() -> CapacityResult:
    baselines = [step(0, 1, unit="users", throughput=24.0),
                 step(1, 16, unit="users", throughput=97.0)]  # fmt: skip
    return open_result("http://127.0.0.1:1", SLO, baselines, sweep(), "constant")


def test_the_frame_holds_the_rate_steps_in_rate_order() -> None:
    capacity = result()
    frame = open_steps_frame(capacity)
    assert list(frame["offered"]) == [60, 90, 105, 120, 400]
    assert list(frame["repeats"].fillna(1)) == [1, 2, 1, 1, 1]
    assert list(frame["generator_bound"]) == [False, False, False, False, True]


def test_the_figure_draws_completed_latency_and_errors_against_the_rate() -> None:
    figure = capacity_figure(result())
    completed, latency, errors = figure.axes
    assert completed.get_ylabel() == "completed (req/s)"
    assert latency.get_ylabel() == "latency (s)"
    assert errors.get_xlabel() == "offered arrival rate (req/s; open model)"
    labels = {text.get_text() for ax in figure.axes for text in ax.get_legend().get_texts()}
    assert "capacity: 90 req/s" in labels
    assert "generator-bound (not counted)" in labels
    assert "p95 from the actual send (uncorrected)" in labels
    # Answers of tens of ms against a 2 s SLO: the axis keeps their scale, the legend says why.
    assert "SLO p95 = 2 s (above the axis, scaled to the latencies)" in labels
    assert latency.get_ylim()[1] < 1.0
    assert "knee: latency turns up" in labels
    # The repeated rate carries its interval as an error bar (a line collection per series).
    assert any(container.has_yerr for container in completed.containers)


def test_a_sweep_directory_gets_a_report_of_its_capacity_section(tmp_path: Path) -> None:
    capacity = result()
    write_result(tmp_path, capacity)
    (tmp_path / "steps").mkdir()
    report = build_report(tmp_path)
    html = report.path.read_text(encoding="utf-8")
    assert [path.name for path in report.notebooks] == ["capacity.ipynb"]
    assert "open model, 5 rate steps" in html
    assert "The target sustains 90 req/s" in html
    assert len(report.figures) == 1


def test_a_directory_without_capacity_or_records_is_still_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"run\.json"):
        build_report(tmp_path)


def test_with_the_closed_search_beside_the_report_draws_both_models(
    tmp_path: Path, capacity_fixture: Path
) -> None:
    write_result(tmp_path, result())
    (tmp_path / "steps").mkdir()
    (tmp_path / "closed").mkdir()
    shutil.copy(capacity_fixture, tmp_path / "closed" / "capacity.json")
    report = build_report(tmp_path)
    assert sorted(path.name for path in report.figures) == [
        "capacity-both-models.png", "capacity-capacity.png", "capacity-closed.png",
    ]  # fmt: skip
    html = report.path.read_text(encoding="utf-8")
    assert "Closed loop (in <code>closed/</code>)" in html
    figure = models_figure(read_result(tmp_path / "closed"), result())
    labels = {text.get_text() for text in figure.axes[0].get_legend().get_texts()}
    assert {"closed loop (users), p95", "open model, p95 from the intended send",
            "open model, p95 from the actual send",
            "open capacity: 90 req/s"} <= labels  # fmt: skip
