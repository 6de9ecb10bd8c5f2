"""``aisk-harness history`` on synthetic runs: the table, the change, the CSV and the page."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from harness.cli.main import main


def test_a_step_at_the_fourth_of_five_runs(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    runs = tmp_path / "runs"
    for position in range(5):
        make_run(runs / f"r{position}", {"answers": latencies_ms(30.0 if position >= 3 else 20.0,
                 size=600, seed=position)}, label=f"v1.{position}",
                 created_at=f"2026-11-2{position}T00:00:00+00:00")  # fmt: skip
    out = tmp_path / "out"
    code = main(["history", str(runs), "--out", str(out)])  # a folder of runs
    stdout = capsys.readouterr().out
    assert code == 0
    assert "\n2 change point(s) in 5 runs\n  ! from run 4 (v1.3): p95 answers " in stdout
    with (out / "history.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [row["label"] for row in rows] == ["v1.0", "v1.1", "v1.2", "v1.3", "v1.4"]
    assert [bool(row["changes"]) for row in rows] == [False, False, False, True, False]
    assert float(rows[3]["p95 answers s"]) > 0.03
    page = (out / "history.html").read_text()
    assert "2 CHANGE(S) in 5 runs" in page
    assert page.count("data:image/png;base64,") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-pvalue", "2"], "--max-pvalue '2': expected a probability between 0 and 1"),
        (["--min-magnitude", "10"], "--min-magnitude '10': expected a percentage"),
    ],
)
def test_bad_options_are_one_line(
    tmp_path: Path, make_run: Callable[..., Path], capsys: pytest.CaptureFixture[str],
    args: list[str], message: str,
) -> None:  # fmt: skip
    run = make_run(tmp_path / "r", {"a": [20.0] * 40})
    code = main(["history", str(run), str(run), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"aisk-harness history: error: {message}")
    assert err.count("\n") == 1


def test_a_folder_without_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["history", str(tmp_path)])
    assert code == 2
    assert "is not a run directory and holds none (run.json)" in capsys.readouterr().err


def test_two_runs_are_too_few_to_search_and_say_so(
    tmp_path: Path, make_run: Callable[..., Path], latencies_ms: Callable[..., np.ndarray],
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    runs = [make_run(tmp_path / f"r{i}", {"answers": latencies_ms(20.0 + 10 * i, size=600,
            seed=i)}, created_at=f"2026-11-2{i}T00:00:00+00:00") for i in range(2)]  # fmt: skip
    code = main(["history", *map(str, runs), "--out", str(tmp_path / "out")])
    stdout = capsys.readouterr().out
    assert code == 3
    assert "\n0 change point(s) in 2 runs\n" in stdout
    assert (
        "  too few: p95 answers: 2 run(s) with a value; a change-point search needs 3: "
        "not searched\n" in stdout
    )
    assert stdout.endswith("INCONCLUSIVE: no series had the runs a change-point search needs\n")
    page = (tmp_path / "out" / "history.html").read_text()
    assert '<div class="banner none">INCONCLUSIVE: too few runs (2)</div>' in page
    assert "NO CHANGE POINT" not in page
