"""ARCHITECTURE.md's import rules, held against the code: every import of every module is read."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Shared by everything: the harness's own errors, its model files, its version.
SHARED = {"errors", "model_files", "versions"}
# A package may import itself, SHARED, and these packages of the harness.
ALLOWED: dict[str, set[str]] = {
    "api": set(),
    "emulator": {"api"},
    "load": {"api"},
    "run": {"api", "load"},
    "locust": {"api", "load", "run"},
    "profiles": {"api", "load", "run"},
    "conformance": {"api", "run"},
    "capacity": {"api", "run"},
    "report": {"api", "run", "conformance", "capacity"},
    "compare": {"api", "load", "run", "conformance", "capacity", "report"},
    "cli": {
        "api",
        "emulator",
        "load",
        "run",
        "profiles",
        "conformance",
        "capacity",
        "report",
        "compare",
    },
}
GEVENT = {"locust", "gevent", "geventhttpclient", "zmq"}


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def harness_packages(names: set[str]) -> set[str]:
    return {name.split(".")[1] for name in names if name.startswith("harness.") and "." in name}


def modules(folder: str) -> list[Path]:
    found = sorted((ROOT / folder).rglob("*.py"))
    assert found, folder
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_each_package_imports_only_what_the_architecture_allows(package: str) -> None:
    allowed = ALLOWED[package] | SHARED | {package}
    for path in modules(f"harness/{package}"):
        used = harness_packages(imports_of(path))
        assert used <= allowed, f"{path.relative_to(ROOT)} imports harness.{used - allowed}"


@pytest.mark.parametrize("package", sorted(set(ALLOWED) - {"locust"}))
def test_only_the_locust_package_imports_locust_or_gevent(package: str) -> None:
    for path in modules(f"harness/{package}"):
        third_party = {name.split(".")[0] for name in imports_of(path)}
        assert not third_party & GEVENT, path.relative_to(ROOT)


def test_the_shared_modules_import_only_each_other() -> None:
    for name in SHARED:
        used = harness_packages(imports_of(ROOT / "harness" / f"{name}.py"))
        assert used <= SHARED, name


def test_the_locust_packages_face_imports_nothing() -> None:
    # Importing Locust gevent-patches the process: harness.locust.probes must stay importable.
    assert imports_of(ROOT / "harness" / "locust" / "__init__.py") <= {"__future__"}


def test_the_notebooks_read_runs_through_the_run_and_report_packages() -> None:
    allowed = {"api", "run", "report", "conformance", "capacity"}
    for path in modules("harness/analysis"):
        names = imports_of(path)
        assert harness_packages(names) <= allowed | SHARED, path.relative_to(ROOT)
        assert not {name.split(".")[0] for name in names} & GEVENT, path.relative_to(ROOT)


def test_the_locust_package_is_typed_without_any() -> None:
    untyped = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in modules("harness/locust")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if (isinstance(node, ast.Name) and node.id == "Any")
        or (isinstance(node, ast.Attribute) and node.attr == "Any")
    ]
    assert not untyped


def test_test_modules_have_distinct_names() -> None:
    # pytest imports test modules by their base name (rootdir-relative, no __init__.py): two
    # tests/*/test_x.py collide and the second one is an import error, on a clean clone only.
    names = [path.name for path in modules("tests") if path.name.startswith("test_")]
    assert sorted(names) == sorted(set(names))
