"""The analysis notebooks: jupytext percent scripts in ``harness/analysis/``, executed headless.

A notebook is stored as a ``.py`` script (reviewable diffs, no outputs); to run it, jupytext
reads it, the parameters are injected after the cell tagged ``parameters`` (papermill's
convention), and nbclient executes it in a kernel of this very interpreter, so the notebooks
import the harness the command itself runs.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jupytext  # type: ignore[import-untyped]
import nbformat
from jupyter_client.kernelspec import NATIVE_KERNEL_NAME, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from harness.errors import ConfigError

__all__ = ["NOTEBOOK_DIR", "Executed", "execute", "notebook_path", "parameterise"]

# Shipped in the package (package data, not modules: nothing imports them), found beside it.
NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "analysis"
CELL_TIMEOUT_S = 600
MAX_PARALLEL = 4


@dataclass(frozen=True, slots=True)
class Executed:
    """A notebook after execution; ``error`` names the failing cell and its exception."""

    name: str
    notebook: NotebookNode
    error: str | None = None


def notebook_path(name: str) -> Path:
    path = NOTEBOOK_DIR / f"{name}.py"
    if not path.is_file():
        raise ConfigError(f"notebook {name!r} not found: expected {path}")
    return path


def parameterise(notebook: NotebookNode, parameters: dict[str, object]) -> NotebookNode:
    """A copy of ``notebook`` with a cell setting ``parameters`` after its ``parameters`` cell."""
    cells = list(notebook.cells)
    tagged = [i for i, cell in enumerate(cells) if "parameters" in cell.metadata.get("tags", [])]
    if not tagged:
        raise ConfigError("the notebook has no cell tagged 'parameters'")
    source = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    injected = nbformat.v4.new_code_cell(  # type: ignore[no-untyped-call]
        source, metadata={"tags": ["injected-parameters"]}
    )
    copy: NotebookNode = nbformat.from_dict(dict(notebook))  # type: ignore[no-untyped-call]
    copy.cells = [*cells[: tagged[0] + 1], injected, *cells[tagged[0] + 1 :]]
    return copy


def _failure(notebook: NotebookNode, exc: Exception) -> str:
    """Which cell failed and how, in one line (the traceback stays in the executed notebook).

    Cells are numbered as in the stored script (the injected parameters cell is not counted).
    """
    stored = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", [])
    ]
    for number, cell in enumerate(stored, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                lines = cell.source.strip().splitlines() or [""]
                first = lines[0] if len(lines[0]) <= 60 else lines[0][:57] + "..."
                return f"code cell {number} ({first}): {output['ename']}: {output['evalue']}"
    if isinstance(exc, CellExecutionError):
        return f"{exc.ename}: {exc.evalue}"
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"


async def _execute(
    name: str, parameters: dict[str, object], workdir: Path, sockets: Path, logs: Path
) -> Executed:
    notebook = parameterise(jupytext.read(notebook_path(name)), parameters)
    notebook.metadata["kernelspec"] = {
        "name": NATIVE_KERNEL_NAME,
        "display_name": "Python 3",
        "language": "python",
    }
    # No kernel directories: the native kernel of this interpreter, never a "python3" kernel
    # some other installation registered. Unix sockets in a private folder, not TCP.
    manager = AsyncKernelManager(
        kernel_name=NATIVE_KERNEL_NAME,
        kernel_spec_manager=KernelSpecManager(kernel_dirs=[]),
        transport="ipc",
        ip=str(sockets / name),
    )
    client = NotebookClient(
        notebook,
        km=manager,
        timeout=CELL_TIMEOUT_S,
        resources={"metadata": {"path": str(workdir)}},
    )
    # The kernel process's own stderr (its logging; cell output travels over its sockets) goes
    # to a log beside the executed notebooks, not to the terminal of the run: a kernel shutting
    # down may log a traceback there that says nothing about the report.
    with (logs / f"{name}.kernel.log").open("w") as kernel_log:
        try:
            # A client given its manager does not shut the kernel down unless told to.
            await client.async_execute(cleanup_kc=True, stderr=kernel_log)
        except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as exc:
            return Executed(name, notebook, _failure(notebook, exc))
    return Executed(name, notebook)


def execute(
    names: Sequence[str],
    parameters: dict[str, object],
    workdir: Path,
    logs: Path,
    at_once: int = MAX_PARALLEL,
) -> list[Executed]:
    """Run each notebook with ``parameters``, ``at_once`` at a time; a failing cell ends only
    its own notebook. Each kernel's own stderr goes to ``logs/<name>.kernel.log``.

    Each notebook gets a fresh kernel (no state leaks from one to the next); most of a small
    run's time is kernels starting and importing pandas, which run in parallel.
    """
    parallel = asyncio.Semaphore(max(1, min(len(names), os.cpu_count() or 1, at_once)))

    async def one(name: str, sockets: Path) -> Executed:
        async with parallel:
            return await _execute(name, parameters, workdir, sockets, logs)

    async def every() -> list[Executed]:
        with tempfile.TemporaryDirectory(prefix="aisk-kernels-") as sockets:
            return list(await asyncio.gather(*(one(name, Path(sockets)) for name in names)))

    return asyncio.run(every())
