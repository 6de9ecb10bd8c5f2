"""A history of synthetic runs: ordered by time or label, change points at the right run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness.compare.history import (
    RunPoint,
    build_history,
    family_changes,
    natural_key,
    run_point,
)
from harness.compare.rundir import read_run
from harness.compare.trend import change_lines, history_frame
from harness.conformance.verdict import Verdict
from harness.errors import ConfigError


@pytest.fixture
def five_points(
    tmp_path: Path,
    make_run: Callable[..., Path],
    latencies_ms: Callable[..., np.ndarray],
    make_verdict: Callable[..., Verdict],
) -> list[RunPoint]:
    """v1.9.0 … v1.12.0 started in reverse label order; from the fourth, 30 ms instead of 20."""
    labels = ["v1.9.0", "v1.9.1", "v1.10.0", "v1.11.0", "v1.12.0"]
    runs = []
    for position, label in enumerate(labels):
        mean = 30.0 if position >= 3 else 20.0
        family = "fixed-window" if position == 4 else "sliding-log"
        runs.append(
            make_run(
                tmp_path / f"run{position}",
                {"answers": latencies_ms(mean, size=600, seed=position)},
                judged=make_verdict(algorithm=family),
                label=label,
                created_at=f"2026-11-{25 - position:02d}T00:00:00+00:00",
            )
        )
    return [run_point(read_run(run)) for run in runs]


def test_a_latency_step_is_found_at_the_fourth_run(five_points: list[RunPoint]) -> None:
    points = five_points
    history = build_history(points, "label")
    assert [run.label for run in history.runs] == [
        "v1.9.0",
        "v1.9.1",
        "v1.10.0",
        "v1.11.0",
        "v1.12.0",
    ]
    assert [metric.name for metric in history.metrics] == ["p95 answers", "p50 answers"]
    assert [[point.index for point in metric.changes] for metric in history.metrics] == [[3], [3]]
    assert family_changes(history) == [(4, "sliding-log", "fixed-window")]
    lines = change_lines(history)
    assert lines[0].startswith("from run 4 (v1.11.0): p95 answers ")
    assert lines[1].startswith("from run 4 (v1.11.0): p50 answers ")
    assert lines[2] == "from run 5 (v1.12.0): limiter family sliding-log → fixed-window"
    frame = history_frame(history)
    assert list(frame["changes"])[3].startswith("p95 answers +")
    p95, low, high = points[0].latency_s["answers"]["p95"]
    assert frame["p95 answers s"].iloc[0] == pytest.approx(p95)
    assert low <= p95 <= high


def test_by_time_the_runs_keep_their_start_order(five_points: list[RunPoint]) -> None:
    points = five_points
    history = build_history(points, "time")
    assert [run.label for run in history.runs] == [
        "v1.12.0",
        "v1.11.0",
        "v1.10.0",
        "v1.9.1",
        "v1.9.0",
    ]
    assert [point.index for point in history.metrics[0].changes] == [2]  # 30, 30 | 20, 20, 20


def test_labels_sort_naturally() -> None:
    assert sorted(["v1.10.0", "v1.9.2", "v1.9.10", "v2.0"], key=natural_key) == [
        "v1.9.2", "v1.9.10", "v1.10.0", "v2.0",
    ]  # fmt: skip


def test_label_order_needs_every_label(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray]
) -> None:
    runs = [
        make_run(tmp_path / "a", {"c": latencies_ms(20.0)}, label="v1"),
        make_run(tmp_path / "b", {"c": latencies_ms(20.0)}),
    ]
    points = [run_point(read_run(d)) for d in runs]
    with pytest.raises(ConfigError, match=r"--order label: these runs have no label .*/b$"):
        build_history(points, "label")
    with pytest.raises(ConfigError, match="at least 2 runs, got 1"):
        build_history(points[:1])
