"""The charts of the limits: the lines a reader relies on are drawn where the data puts them."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from harness.report import limit_charts
from harness.report.display import png_bytes
from harness.report.frames import RateLimit


def horizontal_lines(figure: Figure) -> dict[str, float]:
    """Every horizontal reference line of the figure, by legend label."""
    found = {}
    for ax in figure.axes:
        for line in ax.get_lines():
            y = list(line.get_ydata())  # type: ignore[arg-type]
            if len(y) == 2 and y[0] == y[1] and isinstance(line, Line2D):
                found[str(line.get_label())] = float(y[0])
    return found


def every_axis_labelled(figure: Figure) -> bool:
    visible = [ax for ax in figure.axes if ax.get_visible()]
    return all(ax.get_xlabel() or ax.get_ylabel() for ax in visible)


def test_a_key_timeline_draws_the_limit_and_the_window_count() -> None:
    requests = pd.DataFrame(
        {"t_s": [0.0, 0.1, 0.2, 0.3], "recv_t_s": [0.01, 0.11, 0.21, 0.31],
         "outcome": ["ok", "ok", "throttled", "throttled"]}
    )  # fmt: skip
    windows = pd.DataFrame({"t_s": [0.01, 0.11], "surely_within": [1, 2]})
    rate = RateLimit(limit=2, duration_ns=1_000_000_000, vary_by="device")
    figure = limit_charts.key_timeline_figure(requests, windows, rate, "c: key k", "sliding-log")
    lines = horizontal_lines(figure)
    assert lines["limit = 2"] == 2.0
    assert not any(label.startswith("2 × limit") for label in lines)
    assert "(s)" in figure.axes[1].get_xlabel()
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == ["throttled", "admitted"]
    # A family that may admit twice the limit across a boundary shows that bound too.
    fixed = limit_charts.key_timeline_figure(requests, windows, rate, "c", "fixed-window")
    assert horizontal_lines(fixed)["2 × limit (a window boundary inside; fixed-window)"] == 4.0
    # The window count's legend sits beside its panel, not over the counts.
    counts = fixed.axes[1]
    png_bytes(fixed)  # lays the figure out
    assert counts.get_legend().get_window_extent().x0 >= counts.get_window_extent().x1


def test_the_wait_chart_counts_every_point_even_when_it_draws_a_sample() -> None:
    count = limit_charts.MAX_POINTS + 500
    waits = pd.DataFrame(
        {"case": ["c"] * count, "wait_s": [0.5] * count, "remaining_lo_s": [0.6] * count,
         "remaining_hi_s": [0.7] * count, "early": [False] * (count - 2) + [True, True]}
    )  # fmt: skip
    figure = limit_charts.wait_figure(waits, {"c": 1.0, "unthrottled": 2.0})
    assert len([ax for ax in figure.axes if ax.get_visible()]) == 1
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert labels == ["honest", f"kept ({count - 2})", "admitted earlier (2)"]
    drawn = sum(len(collection.get_offsets()) for collection in figure.axes[0].collections)
    assert drawn == limit_charts.MAX_POINTS


def test_the_quota_chart_draws_the_quota_and_announces_the_reset() -> None:
    consumption = pd.DataFrame(
        {"case": ["q"] * 3, "t_s": [0.1, 0.2, 0.3], "consumed": [1, 2, 2], "refused": [0, 0, 1]}
    )
    resets = pd.DataFrame(
        [{"case": "q", "limit": 2, "admitted": 2, "refused": 1, "first_refusal_t_s": 0.3,
          "reset_at": "2026-11-26T00:00:00+08:00", "reset_in_h": 9.5, "resets": 1}]
    )  # fmt: skip
    figure = limit_charts.quota_figure(consumption, resets)
    assert horizontal_lines(figure)["quota = 2 per day"] == 2.0
    title = figure.axes[0].get_title(loc="left")
    assert "2026-11-26T00:00:00+08:00" in title
    assert "9.5 h" in title
    assert every_axis_labelled(figure)
