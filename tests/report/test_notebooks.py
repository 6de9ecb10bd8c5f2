"""The notebooks as stored: parameters, no Locust, and how parameters are injected."""

from __future__ import annotations

import ast
from pathlib import Path

import jupytext
import nbformat
import pytest

from harness.errors import ConfigError
from harness.report import CAPACITY_NOTEBOOK, RUN_NOTEBOOKS, STAGES_NOTEBOOK
from harness.report.notebooks import NOTEBOOK_DIR, parameterise

REPORT_PACKAGE = Path(__file__).resolve().parents[2] / "harness" / "report"


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_every_notebook_is_stored_without_outputs_and_takes_run_dir() -> None:
    stored = sorted(path.stem for path in NOTEBOOK_DIR.glob("*.py"))
    assert stored == sorted([*RUN_NOTEBOOKS, CAPACITY_NOTEBOOK, STAGES_NOTEBOOK])
    for name in stored:
        notebook = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
        tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, name
        assert tagged[0].source.strip() == 'run_dir = "."', name
        assert all(not cell.get("outputs") for cell in notebook.cells if cell.cell_type == "code")
        assert notebook.cells[0].cell_type == "markdown"
        assert notebook.cells[0].source.startswith("# "), name  # the report's section title


def test_the_stored_scripts_are_what_jupytext_writes_back() -> None:
    """Editing through an .ipynb and writing back (README) changes nothing but the edit."""
    for path in NOTEBOOK_DIR.glob("*.py"):
        notebook = jupytext.read(path)
        notebook.metadata.setdefault("jupytext", {})["notebook_metadata_filter"] = "-all"
        assert jupytext.writes(notebook, fmt="py:percent") == path.read_text(), path.name


def test_neither_the_notebooks_nor_the_report_import_locust() -> None:
    paths = [*NOTEBOOK_DIR.glob("*.py"), *REPORT_PACKAGE.glob("*.py")]
    assert len(paths) >= 10
    for path in paths:
        modules = imported_modules(path)
        assert not {m for m in modules if m.split(".")[0] in ("locust", "gevent")}, path
        assert not {m for m in modules if m.startswith("harness.locust")}, path


def test_parameters_are_injected_right_after_the_parameters_cell() -> None:
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("import x"),
            v4.new_code_cell('run_dir = "."', metadata={"tags": ["parameters"]}),
            v4.new_code_cell("use(run_dir)"),
        ]
    )
    injected = parameterise(notebook, {"run_dir": "/runs/a'b"})
    assert [cell.source for cell in injected.cells] == [
        "import x", 'run_dir = "."', 'run_dir = "/runs/a\'b"', "use(run_dir)",
    ]  # fmt: skip
    assert injected.cells[2].metadata["tags"] == ["injected-parameters"]
    assert len(notebook.cells) == 3  # the original is left alone


def test_a_notebook_without_a_parameters_cell_is_refused() -> None:
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    with pytest.raises(ConfigError, match="no cell tagged 'parameters'"):
        parameterise(notebook, {"run_dir": "."})
