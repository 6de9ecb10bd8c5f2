"""The comparison stays out of Locust, and reads run directories in one module only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "harness" / "compare"
# The readers of a run directory: one module of the comparison calls them.
READERS = {"read_plan", "read_records", "read_run_records", "read_step_log", "read_recording"}


def imports_of(path: Path) -> set[str]:
    """Imported modules, and the names imported from them."""
    modules: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
            modules.update(alias.name for alias in node.names)
    return modules


def test_no_module_imports_locust_and_only_rundir_reads_runs() -> None:
    paths = sorted(PACKAGE.glob("*.py"))
    assert len(paths) >= 10
    for path in paths:
        modules = imports_of(path)
        assert not {m for m in modules if m.split(".")[0] in ("locust", "gevent")}, path
        assert not {m for m in modules if m.startswith("harness.locust")}, path
        if path.name != "rundir.py":
            assert not modules & READERS, path
