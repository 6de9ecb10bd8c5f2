"""What a notebook shows: figures as named PNGs, tables and notes, in forms the report reads.

A figure is displayed as a PNG whose output carries ``{"filename": ...}`` metadata: the report
writes it under that name and embeds the same bytes, so the notebook, the PNG files and the
HTML never disagree. Figures are closed once shown (no second copy from the inline backend).
"""

from __future__ import annotations

import math
import re
from html import escape
from io import BytesIO
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, Image, Markdown, display
from matplotlib.figure import Figure

from harness.report.headings import heading

__all__ = ["DPI", "note", "png_bytes", "show", "slug", "table", "table_html"]

DPI = 110  # an 11-inch figure is 1210 px wide: sharp on a laptop, small in a report


def png_bytes(figure: Figure) -> bytes:
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()


def slug(text: str) -> str:
    """A file-name-safe form of a case or key name."""
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower() or "x"


def show(figure: Figure, name: str) -> None:
    """Display ``figure`` as ``<name>.png`` (the report's file name for it)."""
    image = Image(data=png_bytes(figure), format="png")  # type: ignore[no-untyped-call]
    display(image, metadata={"filename": f"{slug(name)}.png"})  # type: ignore[no-untyped-call]


def table(frame: pd.DataFrame, float_format: str = "{:.1f}") -> None:
    """Display a table without its index: text escaped, numbers right-aligned."""
    display(HTML(table_html(frame, float_format)))  # type: ignore[no-untyped-call]


def table_html(frame: pd.DataFrame, float_format: str = "{:.1f}") -> str:
    """The table as the report shows it: headers in words (``headings``), yes and no for
    booleans, an empty cell for a missing value."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]

    def cell(value: Any, number: bool) -> str:
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
            text = ""
        elif isinstance(value, bool | np.bool_):
            text = "yes" if value else "no"
        elif isinstance(value, float):
            text = float_format.format(value)
        else:
            text = str(value)
        return f'<td class="num">{escape(text)}</td>' if number else f"<td>{escape(text)}</td>"

    head = "".join(
        f'<th class="num">{escape(heading(c))}</th>' if n else f"<th>{escape(heading(c))}</th>"
        for c, n in zip(frame.columns, numeric, strict=True)
    )
    rows = "".join(
        "<tr>" + "".join(cell(v, n) for v, n in zip(row, numeric, strict=True)) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="data"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def note(markdown: str) -> None:
    """Display a paragraph of Markdown (the report renders it without raw HTML)."""
    display(Markdown(markdown))  # type: ignore[no-untyped-call]
