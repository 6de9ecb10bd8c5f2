"""Building a run's report: execute the notebooks, write them, their figures and report.html."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pyarrow as pa

from harness.capacity.result import read_result
from harness.errors import ConfigError, HarnessError
from harness.report.capacity import CAPACITY_FILE
from harness.report.html import Section, notebook_section, render_report
from harness.report.notebooks import MAX_PARALLEL, execute
from harness.run.parts import part_paths, part_rows, records_dir
from harness.run.plan import PLAN_FILE, read_plan
from harness.run.stage_plan import staged_cases

__all__ = [
    "CAPACITY_NOTEBOOK",
    "REPORT_FILE",
    "RUN_NOTEBOOKS",
    "STAGES_NOTEBOOK",
    "Report",
    "ReportError",
    "build_report",
]

REPORT_FILE = "report.html"
FIGURES_DIR = "figures"
NOTEBOOKS_DIR = "notebooks"
# Every run gets these, in this order; a run with capacity.json gets the capacity one first.
RUN_NOTEBOOKS = ("overview", "rate_limits", "quota")
CAPACITY_NOTEBOOK = "capacity"
STAGES_NOTEBOOK = "stages"  # a run with staged open cases gets it after the overview
SEQUENTIAL_ABOVE_RECORDS = 2_000_000


class ReportError(HarnessError):
    """A notebook failed; the rest of the report was written all the same."""


@dataclass(frozen=True, slots=True)
class Report:
    path: Path
    figures: list[Path]
    notebooks: list[Path]


def _parts(run_dir: Path) -> list[Path]:
    return part_paths(records_dir(run_dir))


def _record_count(run_dir: Path) -> int:
    """How many records the run holds, from the parts' footers (no column decoded)."""
    try:
        return sum(part_rows(part) for part in _parts(run_dir))
    except (OSError, pa.ArrowException) as exc:
        raise ConfigError(f"cannot read the records of {str(run_dir)!r}: {exc}") from None


def _check_run_dir(run_dir: Path) -> None:
    if not run_dir.is_dir():
        raise ConfigError(f"RUN_DIR {str(run_dir)!r} is not a directory")
    read_plan(run_dir)  # names what is wrong with run.json, if anything
    if not _parts(run_dir):
        raise ConfigError(f"{str(run_dir)!r} holds no records (records/part-*.parquet)")


def _verdict(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / "verdict.json"
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {str(path)!r}: {exc}") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: expected a verdict object")
    return document


def _facts(run_dir: Path) -> dict[str, str]:
    plan = read_plan(run_dir)
    emulator = plan.emulator or {}
    target = plan.target
    if plan.embedded_emulator:
        fault = emulator.get("fault") or "none"
        target += f" (embedded emulator, {emulator.get('algorithm')}, fault: {fault})"
    return {
        "run": plan.run_id,
        "started": plan.created_at,
        "scenario": f"{plan.scenario.name} ({len(plan.cases)} cases)",
        "target": target,
    }


def _output_dirs(run_dir: Path) -> tuple[Path, Path]:
    """notebooks/ and an empty figures/ (a figure from an earlier report must not linger)."""
    notebooks_dir, figures_dir = run_dir / NOTEBOOKS_DIR, run_dir / FIGURES_DIR
    try:
        notebooks_dir.mkdir(exist_ok=True)
        figures_dir.mkdir(exist_ok=True)
        for stale in figures_dir.glob("*.png"):
            stale.unlink()
    except OSError as exc:
        raise ConfigError(
            f"cannot write the report into {str(run_dir)!r}: {exc.strerror}"
        ) from None
    return notebooks_dir, figures_dir


def _is_sweep(run_dir: Path) -> bool:
    """An open-model sweep's directory: its capacity.json, and each step's run in steps/."""
    return (run_dir / CAPACITY_FILE).is_file() and not (run_dir / PLAN_FILE).exists()


def _sweep_facts(run_dir: Path) -> dict[str, str]:
    result = read_result(run_dir)
    rates = [step for step in result.steps if step.offered_unit == "req/s"]
    return {
        "run": run_dir.name,
        "sweep": f"{result.model} model, {len(rates)} rate steps (each a run in steps/)",
        "target": result.target,
    }


def build_report(run_dir: Path) -> Report:
    """Execute the notebooks on ``run_dir`` and write its report; raise if a notebook failed.

    Every notebook is run even when one fails, and everything that could be made is written
    first (report.html shows the failure where the notebook's section would be). An open-model
    sweep's directory gets the capacity notebook only (its steps are runs of their own).
    """
    sweep = run_dir.is_dir() and _is_sweep(run_dir)
    if not sweep:
        _check_run_dir(run_dir)
    # Each notebook loads the records: on a big run, one at a time, or memory multiplies.
    records = 0 if sweep else _record_count(run_dir)
    verdict = None if sweep else _verdict(run_dir)
    names = [] if sweep else list(RUN_NOTEBOOKS)
    if not sweep and staged_cases(read_plan(run_dir)):
        names.insert(1, STAGES_NOTEBOOK)  # a performance run's stages: after the overview
    if (run_dir / CAPACITY_FILE).exists():
        names.insert(0, CAPACITY_NOTEBOOK)  # a capacity run's headline: first after the verdict
    notebooks_dir, figures_dir = _output_dirs(run_dir)
    sections: list[Section] = []
    written: list[Path] = []
    figures: list[Path] = []
    failures: list[str] = []
    at_once = 1 if records > SEQUENTIAL_ABOVE_RECORDS else MAX_PARALLEL
    parameters: dict[str, object] = {"run_dir": str(run_dir.resolve())}
    for executed in execute(names, parameters, run_dir, notebooks_dir, at_once):
        name = executed.name
        path = notebooks_dir / f"{name}.ipynb"
        nbformat.write(executed.notebook, path)  # type: ignore[no-untyped-call]
        written.append(path)
        section = notebook_section(name, executed.notebook, executed.error)
        for figure in section.figures:
            figures.append(figures_dir / figure.filename)
            figures[-1].write_bytes(figure.png)
        if executed.error:
            failures.append(f"notebook {name} ({path}) failed at {executed.error}")
        sections.append(section)
    facts = _sweep_facts(run_dir) if sweep else _facts(run_dir)
    html = render_report(f"aisk-harness report: {run_dir.name}", facts, verdict, sections)
    report = run_dir / REPORT_FILE
    temporary = report.with_suffix(".html.tmp")
    temporary.write_text(html, encoding="utf-8")
    temporary.replace(report)
    if failures:
        raise ReportError(f"{'; '.join(failures)}; the rest is in {report}")
    return Report(report, figures, written)
