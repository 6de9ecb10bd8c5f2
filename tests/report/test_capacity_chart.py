"""Reading capacity.json and charting it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.capacity.result import read_result as read_capacity
from harness.errors import ConfigError
from harness.report.capacity import capacity_figure, offered_at, steps_frame


def write(tmp_path: Path, document: Any) -> Path:
    (tmp_path / "capacity.json").write_text(json.dumps(document))
    return tmp_path


def fixture_document(capacity_fixture: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(capacity_fixture.read_text())
    return document


def test_the_fixture_reads_back_as_written(capacity_fixture: Path) -> None:
    capacity = read_capacity(capacity_fixture.parent)
    assert capacity.model == "closed"
    assert capacity.slo.p95_s == 0.15
    assert capacity.capacity_step == 4
    steps = steps_frame(capacity)
    assert set(steps["offered_unit"]) == {"users"}
    assert list(steps["offered"]) == [1.0, 2.0, 4.0, 8.0, 12.0, 16.0, 24.0, 32.0]
    assert offered_at(capacity, capacity.knee_step) == 8.0
    assert offered_at(capacity, None) is None
    assert capacity.sentence.startswith("The target sustains 160 req/s")


def test_nulls_are_allowed_where_the_search_found_nothing(
    capacity_fixture: Path, tmp_path: Path
) -> None:
    document = fixture_document(capacity_fixture)
    document |= {"capacity_rps": None, "capacity_step": None, "knee_rps": None, "knee_step": None}
    capacity = read_capacity(write(tmp_path, document))
    assert capacity.capacity_step is None
    figure = capacity_figure(capacity)  # nothing to mark, still a chart
    assert figure.axes[0].get_ylabel() == "completed (req/s)"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["steps"][2].pop("p95_s"), "steps[2].p95_s: Field required"),
        (
            lambda d: d["steps"][0].update(within_slo="yes"),
            "steps[0].within_slo: Input should be a valid boolean",
        ),
        (
            lambda d: d["steps"][1].update(requests=True),
            "steps[1].requests: Input should be a valid integer",
        ),
        (lambda d: d.update(steps={}), "steps: Input should be a valid list"),
        (lambda d: d.pop("slo"), "slo: Field required"),
        (lambda d: d["slo"].update(p95_s="2s"), "slo.p95_s: Input should be a valid number"),
        (lambda d: d.update(sentence=None), "sentence: Input should be a valid string"),
    ],
)
def test_a_bad_field_is_named(
    capacity_fixture: Path, tmp_path: Path, change: Any, message: str
) -> None:
    document = fixture_document(capacity_fixture)
    change(document)
    pattern = r"is not a capacity result: capacity\.json: " + message.replace("[", r"\[")
    with pytest.raises(ConfigError, match=pattern):
        read_capacity(write(tmp_path, document))


def test_a_missing_or_broken_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"holds no capacity search: capacity\.json is missing"):
        read_capacity(tmp_path)
    (tmp_path / "capacity.json").write_text("{")
    with pytest.raises(ConfigError, match="cannot read"):
        read_capacity(tmp_path)


def test_the_chart_marks_the_slo_the_error_budget_and_the_knee(capacity_fixture: Path) -> None:
    figure = capacity_figure(read_capacity(capacity_fixture.parent))
    throughput, latency, errors = figure.axes
    labels = {
        str(line.get_label()): list(line.get_xdata()) + list(line.get_ydata())  # type: ignore[arg-type]
        for ax in figure.axes
        for line in ax.get_lines()
    }
    assert labels["SLO p95 = 0.15 s"][2:] == [0.15, 0.15]
    assert labels["max error rate = 1 %"][2:] == [1.0, 1.0]
    assert labels["knee: latency turns up"][:2] == [8.0, 8.0]
    assert labels["errors begin"][:2] == [32.0, 32.0]
    assert "capacity: 160 req/s" in throughput.get_legend_handles_labels()[1]
    assert errors.get_xlabel() == "offered load (users; closed model)"
    assert latency.get_ylabel() == "latency (s)"
