"""A history as rows: the table the terminal prints, ``history.csv``, and the change lines.

One row per run in order: position, label, run id, start, directory, verdict, failed checks,
limiter family, capacity, the p95 and p50 of every case (seconds in the CSV, ms on the terminal),
and the changes that begin at that run.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.compare.gates import percent
from harness.compare.history import History, family_changes

__all__ = ["HISTORY_CSV_FILE", "change_lines", "history_frame", "write_history_csv"]

HISTORY_CSV_FILE = "history.csv"


def change_lines(history: History) -> list[str]:
    """'from run 4 (v1.4.0): p95 answers 20.1 → 30.0 ms (+49.6 %, p 1.1e-05)', in run order."""
    found: list[tuple[int, str]] = []
    for metric in history.metrics:
        scale, unit = (1e3, "ms") if metric.case is not None else (1.0, "req/s")
        for point in metric.changes:
            found.append(
                (
                    point.index,
                    f"{metric.name} {point.before * scale:.1f} → {point.after * scale:.1f} {unit} "
                    f"({percent(point.change)}, p {point.p_value:.2g})",
                )
            )
    for position, before, after in family_changes(history):
        found.append((position, f"limiter family {before} → {after}"))
    return [
        f"from run {index + 1} ({history.runs[index].name}): {text}"
        for index, text in sorted(found, key=lambda item: item[0])
    ]


def _changes_at(history: History, position: int) -> str:
    texts = [
        f"{metric.name} {percent(point.change)}"
        for metric in history.metrics
        for point in metric.changes
        if point.index == position
    ]
    texts += [f"limiter {b} → {a}" for p, b, a in family_changes(history) if p == position]
    return "; ".join(texts)


def history_frame(history: History, milliseconds: bool = False) -> pd.DataFrame:
    """The rows of ``history.csv`` (latencies in s), or of the terminal (``milliseconds``)."""
    rows = []
    for position, point in enumerate(history.runs):
        row: dict[str, object] = {
            "run": position + 1,
            "label": point.label or "",
            "run_id": point.run_id,
            "started": point.created_at,
            "run_dir": point.run_dir,
            "verdict": point.state,
            "failed_checks": " ".join(point.failed),
            "limiter": point.family,
        }
        if any(metric.case is None for metric in history.metrics):
            row["capacity_rps"] = point.capacity_rps
        for metric in history.metrics:
            if metric.case is not None:
                value = metric.values[position]
                scale = 1e3 if milliseconds else 1.0
                column = f"{metric.name} {'ms' if milliseconds else 's'}"
                row[column] = None if value is None else value * scale
        row["changes"] = _changes_at(history, position)
        rows.append(row)
    return pd.DataFrame(rows)


def write_history_csv(folder: Path, history: History) -> Path:
    path = folder / HISTORY_CSV_FILE
    temporary = path.with_suffix(".csv.tmp")
    history_frame(history).to_csv(temporary, index=False)
    temporary.replace(path)
    return path
