"""The report end to end: ``run`` writes it, ``report`` rewrites it, on a real recorded run."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import nbformat
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

import harness.report.build
import harness.report.notebooks
from harness.cli.main import main
from harness.report import RUN_NOTEBOOKS
from harness.run.reader import read_records
from harness.run.records import RECORD_SCHEMA

pytestmark = pytest.mark.locust

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|<script|<link|@import|url\(\s*["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def image_outputs(notebook_path: Path) -> int:
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum(
        "image/png" in output.get("data", {})
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )


def errors_in(notebook_path: Path) -> list[str]:
    notebook = nbformat.read(notebook_path, as_version=4)
    return [
        f"{output['ename']}: {output['evalue']}"
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if output.output_type == "error"
    ]


def assert_valid_pngs(folder: Path) -> list[Path]:
    pngs = sorted(folder.glob("*.png"))
    for path in pngs:
        assert path.read_bytes().startswith(PNG_SIGNATURE), path
        with Image.open(path) as image:
            image.verify()
    return pngs


def test_run_ends_with_the_report_path_and_the_verdict_exit_code(made_run: Any) -> None:
    done = made_run.done
    assert done.returncode == 0, done.stderr[-3000:]
    report = made_run.run_dir / "report.html"
    assert done.stdout.rstrip().splitlines()[-1] == f"report: {report}"
    assert report.is_file()


def test_the_report_holds_the_verdict_table_and_every_figure_inline(made_run: Any) -> None:
    run_dir = made_run.run_dir
    html = (run_dir / "report.html").read_text(encoding="utf-8")
    verdict = json.loads((run_dir / "verdict.json").read_text())
    rows = re.findall(r'<tr class="(\w+)"><td><code>([^<]+)</code>', html)
    table = {check_id: outcome for outcome, check_id in rows}
    assert table == {check["id"]: check["outcome"] for check in verdict["checks"]}
    assert "CONFORMANT: 0 of 11 checks failed" in html
    # The verdict comes before the first notebook's section.
    assert html.index('id="verdict"') < html.index('id="overview"')
    pngs = assert_valid_pngs(run_dir / "figures")
    notebooks = [run_dir / "notebooks" / f"{name}.ipynb" for name in RUN_NOTEBOOKS]
    shown = sum(image_outputs(path) for path in notebooks)
    # Each kernel's own stderr went to a log beside its notebook, not to the run's terminal.
    assert all((run_dir / "notebooks" / f"{name}.kernel.log").is_file() for name in RUN_NOTEBOOKS)
    assert len(pngs) == shown == html.count('src="data:image/png;base64,')
    names = {path.name for path in pngs}
    assert {
        "overview-checks.png", "overview-outcomes-by-case.png",
        "overview-latency-throughput.png", "rate_limits-key-device-open.png",
        "rate_limits-wait-vs-remaining.png", "quota-quota.png",
    } <= names  # fmt: skip
    # One picture per rate-limited case that was throttled, never one per key.
    assert len([name for name in names if name.startswith("rate_limits-key-")]) <= 12


def test_the_report_is_self_contained(made_run: Any) -> None:
    html = (made_run.run_dir / "report.html").read_text(encoding="utf-8")
    assert EXTERNAL.search(html) is None, EXTERNAL.search(html)


def test_every_notebook_ran_without_an_error(made_run: Any) -> None:
    for name in RUN_NOTEBOOKS:
        path = made_run.run_dir / "notebooks" / f"{name}.ipynb"
        assert path.is_file()
        assert errors_in(path) == [], name


def test_no_secret_reaches_the_report_or_the_notebooks(made_run: Any) -> None:
    assert len(made_run.secrets) > 2  # both keys and the chatbots' tokens
    outputs = [path for path in made_run.run_dir.rglob("*") if path.is_file()]
    assert any(path.name == "report.html" for path in outputs)
    for path in outputs:
        content = path.read_bytes()
        for secret in made_run.secrets:
            assert secret.encode() not in content, f"a secret leaked into {path}"


@pytest.fixture
def capacity_run(made_run: Any, capacity_fixture: Path, tmp_path: Path) -> Path:
    """A run with capacity.json, no verdict and no throttle: one unthrottled case's answers."""
    run_dir = tmp_path / "capacity-run"
    (run_dir / "records").mkdir(parents=True)
    shutil.copy(made_run.run_dir / "run.json", run_dir / "run.json")
    records = read_records(made_run.run_dir)
    kept = records[(records["outcome"] == "ok") & (records["case"] == "chatbot-paced")]
    assert len(kept) > 0
    table = pa.Table.from_pandas(kept.astype({c: str for c in kept.select_dtypes("category")}),
                                 schema=RECORD_SCHEMA, preserve_index=False)  # fmt: skip
    pq.write_table(table, run_dir / "records" / "part-000000.parquet")
    shutil.copy(capacity_fixture, run_dir / "capacity.json")
    return run_dir


Harness = Callable[..., Any]


def test_a_capacity_run_gets_its_section_and_throttle_sections_degrade(
    capacity_run: Path, capacity_fixture: Path, harness: Harness
) -> None:
    done = harness("report", str(capacity_run), cwd=capacity_run)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.rstrip().splitlines()[-1] == f"report: {capacity_run / 'report.html'}"
    html = (capacity_run / "report.html").read_text(encoding="utf-8")
    capacity = json.loads(capacity_fixture.read_text())
    assert capacity["sentence"] in html
    assert capacity["model_note"] in html
    assert html.index('id="verdict"') < html.index('id="capacity"') < html.index('id="overview"')
    assert "CAPACITY RUN: not judged for conformance" in html
    assert "No request of this run was throttled" in html
    assert (capacity_run / "figures" / "capacity-capacity.png").is_file()
    assert not list((capacity_run / "figures").glob("rate_limits-key-*"))
    for name in (*RUN_NOTEBOOKS, "capacity"):
        assert errors_in(capacity_run / "notebooks" / f"{name}.ipynb") == [], name
    assert html.count('src="data:image/png;base64,') == len(
        assert_valid_pngs(capacity_run / "figures")
    )
    assert EXTERNAL.search(html) is None


FINE = """# %% [markdown]
# # Fine

# %% tags=["parameters"]
run_dir = "."

# %%
print("ran on", run_dir)
"""
BROKEN = FINE.replace("# # Fine", "# # Broken") + '\n# %%\nraise ValueError("boom <1>")\n'


def test_a_failing_notebook_is_named_and_the_rest_is_written(
    capacity_run: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    notebooks = tmp_path / "analysis"
    notebooks.mkdir()
    (notebooks / "broken.py").write_text(BROKEN)
    (notebooks / "fine.py").write_text(FINE)
    monkeypatch.setattr(harness.report.notebooks, "NOTEBOOK_DIR", notebooks)
    monkeypatch.setattr(harness.report.build, "RUN_NOTEBOOKS", ("broken", "fine"))
    (capacity_run / "capacity.json").unlink()
    assert main(["report", str(capacity_run)]) == 2
    message = capsys.readouterr().err
    assert message.count("\n") == 1, message
    assert message.startswith("aisk-harness report: error: notebook broken (")
    failure = 'code cell 3 (raise ValueError("boom <1>")): ValueError: boom <1>'
    assert f"failed at {failure}; the rest is in" in message
    html = (capacity_run / "report.html").read_text(encoding="utf-8")
    assert f"this notebook failed: {escape(failure)}" in html
    assert f"ran on {capacity_run.resolve()}" in html  # the other notebook's output
    assert (capacity_run / "notebooks" / "broken.ipynb").is_file()
    assert (capacity_run / "notebooks" / "fine.ipynb").is_file()
