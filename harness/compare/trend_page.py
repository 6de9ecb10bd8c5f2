"""``history.html``: the trend across runs as one self-contained page in the report's style."""

from __future__ import annotations

from html import escape
from pathlib import Path

import pandas as pd

from harness.compare.charts import trend_figure
from harness.compare.history import History, power_lines
from harness.compare.trend import change_lines, history_frame
from harness.report.display import png_bytes, table_html
from harness.report.html import FigureFile, Section, figure_html, render_page

__all__ = ["HISTORY_PAGE_FILE", "render_history_page", "shown_columns", "write_history_page"]

HISTORY_PAGE_FILE = "history.html"


def _top(history: History) -> str:
    """The changes found, and where the runs were too few to find one (never "no change
    point" over series that could not have shown one)."""
    lines = change_lines(history)
    weak = "".join(f"<li>too few: {escape(line)}</li>" for line in power_lines(history))
    notes = f"<ul>{weak}</ul>" if weak else ""
    runs = len(history.runs)
    if not any(metric.searched for metric in history.metrics):
        return f'<div class="banner none">INCONCLUSIVE: too few runs ({runs})</div>{notes}'
    if not lines:
        return f'<div class="banner ok">NO CHANGE POINT in {runs} runs</div>{notes}'
    items = "".join(f"<li><b>{escape(line)}</b></li>" for line in lines)
    return (
        f'<div class="banner none">{len(lines)} CHANGE(S) in {runs} runs</div>'
        f'<div class="error"><ul>{items}</ul></div>{notes}'
    )


def shown_columns(history: History) -> pd.DataFrame:
    """The terminal's columns (history.csv has the start instant and the directory too)."""
    return history_frame(history, milliseconds=True).drop(columns=["run_dir", "started"])


def render_history_page(history: History) -> str:
    figure = FigureFile("trend.png", png_bytes(trend_figure(history)))
    method = (
        f"<p>One value per run: the p95 and p50 of the load's admitted answers per case (nearest "
        f"rank; "
        f"bars: 95 % block-bootstrap intervals of that run), and the capacity of capacity "
        f"searches. Runs ordered by {'start time' if history.order == 'time' else 'label'}. "
        f"Change points: located by ruptures (PELT on the logarithm, Schwarz penalty from the "
        f"series' own noise), each kept only if a t-test between the runs before and after "
        f"gives p &lt; {history.max_pvalue:g} and the means differ by at least "
        f"{history.min_magnitude * 100:g} %.</p>"
    )
    sections = [
        Section(anchor="trend", title="Trend", blocks=[figure_html(figure), method]),
        Section(
            anchor="runs",
            title="Runs",
            blocks=[table_html(shown_columns(history), "{:.1f}")],
        ),
    ]
    facts = {"runs": str(len(history.runs)), "order": history.order}
    return render_page("aisk-harness history", facts, _top(history), sections)


def write_history_page(folder: Path, history: History) -> Path:
    path = folder / HISTORY_PAGE_FILE
    temporary = path.with_suffix(".html.tmp")
    temporary.write_text(render_history_page(history), encoding="utf-8")
    temporary.replace(path)
    return path
