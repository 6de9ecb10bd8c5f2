"""The report's charts of the whole run: each labels what it counts and names what it shows."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.report import charts
from harness.report.display import png_bytes


def test_over_time_and_outcome_charts_label_their_units() -> None:
    frame = pd.DataFrame(
        {"t_s": [0.0, 1.0], "p50_ms": [5.0, 6.0], "p95_ms": [9.0, 9.5], "p99_ms": [12.0, 20.0],
         "ok_per_s": [10.0, 12.0], "throttled_per_s": [100.0, 90.0], "requests_per_s": [110, 102]}
    )  # fmt: skip
    figure = charts.over_time_figure(frame, 1.0)
    assert figure.axes[0].get_ylabel() == "latency (ms)"
    assert figure.axes[1].get_ylabel() == "answers per second"
    assert "1-second bins" in figure.axes[0].get_title(loc="left")
    summary = pd.DataFrame(
        {"case": ["a", "b"], "requests": [10, 0], "ok": [4, 0], "throttled": [6, 0]}
    )
    outcomes = charts.outcomes_by_case_figure(summary)
    assert outcomes.axes[0].get_xlabel() == "share of the case's chat requests (%)"
    assert png_bytes(outcomes).startswith(b"\x89PNG")


def test_the_checks_chart_names_every_check_and_counts_outcomes() -> None:
    checks = pd.DataFrame(
        {"id": ["a", "b", "c"], "title": ["", "", ""], "outcome": ["pass", "fail", "pass"],
         "summary": ["", "", ""]}
    )  # fmt: skip
    figure = charts.checks_figure(checks)
    texts = [text.get_text() for text in figure.axes[0].texts]
    assert texts == ["a: pass", "b: fail", "c: pass"]
    assert figure.axes[0].get_title(loc="left") == "Checks: 2 pass, 1 fail"


def test_percentiles_differ_by_colour_and_dash_and_the_legends_sit_beside_the_data() -> None:
    frame = pd.DataFrame(
        {"t_s": [0.0, 1.0], "p50_ms": [5.0, 6.0], "p95_ms": [9.0, 9.5], "p99_ms": [12.0, 20.0],
         "ok_per_s": [10.0, 12.0], "throttled_per_s": [100.0, 90.0], "requests_per_s": [110, 102]}
    )  # fmt: skip
    figure = charts.over_time_figure(frame, 1.0)
    lines = {str(line.get_label()): line for line in figure.axes[0].get_lines()}
    percentiles = [lines[name] for name in ("p50", "p95", "p99")]
    assert len({line.get_color() for line in percentiles}) == 3
    assert len({line.get_linestyle() for line in percentiles}) == 3
    png_bytes(figure)  # lays the figure out
    for ax in figure.axes:
        legend = ax.get_legend()
        assert legend is not None
        assert legend.get_window_extent().x0 >= ax.get_window_extent().x1


def test_the_slo_line_keeps_the_latencies_scale_unless_it_is_near_them() -> None:
    far, near, empty = charts.new_figure(6.0, 3, 1).axes
    charts.slo_line(far, 2.0, [0.04, 0.09, float("nan")])
    assert far.get_ylim() == (0.0, pytest.approx(1.25 * 0.09))
    assert far.get_lines()[0].get_label() == (
        "SLO p95 = 2 s (above the axis, scaled to the latencies)"
    )
    charts.slo_line(near, 0.15, [0.04, 0.09])
    assert near.get_ylim() == (0.0, pytest.approx(1.1 * 0.15))
    assert near.get_lines()[0].get_label() == "SLO p95 = 0.15 s"
    charts.slo_line(empty, 2.0, [])
    assert empty.get_ylim() == (0.0, pytest.approx(2.2))


def test_the_checks_chart_marks_a_failure_explained_by_another() -> None:
    checks = pd.DataFrame(
        {
            "id": ["a", "b"],
            "outcome": ["fail", "fail"],
            "explanation": ["root cause", "explained by a: why"],
            "explained_by": ["", "a"],
        }
    )
    texts = [text.get_text() for text in charts.checks_figure(checks).axes[0].texts]
    assert texts == ["a: fail", "b: fail (by a)"]
