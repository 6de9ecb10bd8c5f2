"""The stages of a performance run: what each stage of a staged open case offered and met.

A staged case's arrival rate ramps, holds and spikes (``harness.load.stages``). Per stage, from
every request whose *intended* send instant fell in it (on the recording clock, from the case's
first intended instant): the rate offered (the stage's targets × the case's keys), sent and
completed per second, goodput (admitted, non-empty answers), latency percentiles from the
intended instant (coordinated omission corrected) beside p95 from the actual send, late sends,
and throttles, out-of-quota answers and errors as their own outcomes. Pure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.capacity.steps import percentile
from harness.report.charts import LEGEND_BESIDE, LIMIT_LINE, new_figure
from harness.run.records import LATE_NS
from harness.run.stage_plan import StagedCase

__all__ = ["STAGE_COLUMNS", "stage_table", "stages_figure"]

NS = 1_000_000_000
STAGE_COLUMNS = (
    "stage",
    "from_s",
    "to_s",
    "offered",
    "sent_rps",
    "ok_rps",
    "goodput_rps",
    "p50_s",
    "p95_s",
    "p99_s",
    "p95_sent_s",
    "late",
    "throttled",
    "out_of_quota",
    "errors",
)


def _scheduled(chats: pd.DataFrame, case: StagedCase) -> pd.DataFrame:
    """The case's requests with their instant in s from the schedule's start (its first placed
    where the stages put a first request): a rate's intended instant, users' send (a closed
    loop has no intended instant: it waits, so both latencies are the same)."""
    rows = chats[chats["case"] == case.name].copy()
    if case.model == "rate":
        rows = rows[rows["intended_send_mono_ns"].notna()]
        rows["intended_send_mono_ns"] = rows["intended_send_mono_ns"].astype("int64")
    else:
        rows["intended_send_mono_ns"] = rows["send_mono_ns"]
    intended = rows["intended_send_mono_ns"] + rows["clock_offset_ns"]
    rows["intended_s"] = (intended - intended.min()) / NS + case.first_arrival_s
    rows["waited_s"] = (rows["recv_mono_ns"] - rows["intended_send_mono_ns"]) / NS
    rows["sent_s"] = (rows["recv_mono_ns"] - rows["send_mono_ns"]) / NS
    return rows


def _quantile(values: pd.Series, q: float) -> float | None:
    """The nearest-rank percentile, as the capacity steps take theirs; None without values."""
    return percentile(np.sort(values.to_numpy(float)), q)


def stage_table(chats: pd.DataFrame, case: StagedCase) -> pd.DataFrame:
    """One row per stage of ``case`` (``STAGE_COLUMNS``)."""
    rows = _scheduled(chats, case)
    table = []
    for number, (start, end, low, high) in enumerate(case.stages, start=1):
        seconds = end - start
        inside = rows[(rows["intended_s"] >= start) & (rows["intended_s"] < end)]
        outcome = inside["outcome"].astype(str)
        ok = inside[outcome == "ok"]
        good = ok[ok["answer_chars"].fillna(0) > 0]
        late = (inside["send_mono_ns"] - inside["intended_send_mono_ns"]) > LATE_NS
        refused = outcome.isin(["throttled", "out_of_quota"])
        table.append(
            {
                "stage": number,
                "from_s": start,
                "to_s": end,
                "offered": f"{low:g} → {high:g}{'' if case.model == 'rate' else ' users'}",
                "sent_rps": len(inside) / seconds,
                "ok_rps": len(ok) / seconds,
                "goodput_rps": len(good) / seconds,
                "p50_s": _quantile(ok["waited_s"], 0.5),
                "p95_s": _quantile(ok["waited_s"], 0.95),
                "p99_s": _quantile(ok["waited_s"], 0.99),
                "p95_sent_s": _quantile(ok["sent_s"], 0.95),
                "late": int(late.sum()),
                "throttled": int((outcome == "throttled").sum()),
                "out_of_quota": int((outcome == "out_of_quota").sum()),
                "errors": int((~refused & (outcome != "ok")).sum()),
            }
        )
    return pd.DataFrame(table, columns=list(STAGE_COLUMNS))


def stages_figure(chats: pd.DataFrame, case: StagedCase, bin_s: float = 1.0) -> Figure:
    """Offered, sent and admitted per second over the run, and latency, stages marked."""
    rows = _scheduled(chats, case)
    figure = new_figure(5.2, 2, 1, sharex=True)
    rates, latency = figure.axes
    edges = [case.stages[0][0], *(end for _, end, _, _ in case.stages)]
    targets = [case.stages[0][2], *(high for _, _, _, high in case.stages)]
    users = None
    if case.model == "rate":
        rates.plot(edges, targets, color="#868e96", lw=1.2, ls="--", label="offered (the stages)")
    else:
        users = rates.twinx()
        users.plot(edges, targets, color="#868e96", lw=1.2, ls="--", label="users (the stages)")
        users.set_ylabel("users at work")
    bins = (rows["intended_s"] // bin_s) * bin_s
    sent = rows.groupby(bins).size() / bin_s
    ok = rows[rows["outcome"].astype(str) == "ok"].groupby(bins).size() / bin_s
    # Each bin's rate drawn at its middle.
    rates.plot(sent.index + bin_s / 2, sent.to_numpy(), color="#1864ab", marker=".", label="sent")
    rates.plot(ok.index + bin_s / 2, ok.to_numpy(), color="#2b8a3e", marker=".", label="admitted")
    rates.set_ylabel("requests/s")
    rates.set_title(f"Stages of {case.name}", loc="left", fontsize=11, fontweight="bold")
    answered = rows[rows["outcome"].astype(str) == "ok"]
    by_bin = answered.groupby((answered["intended_s"] // bin_s) * bin_s)
    waited, sent_p95 = by_bin["waited_s"].quantile(0.95), by_bin["sent_s"].quantile(0.95)
    latency.plot(
        waited.index + bin_s / 2,
        waited.to_numpy(),
        color="#1864ab",
        label="p95 from the intended send",
    )
    latency.plot(
        sent_p95.index + bin_s / 2,
        sent_p95.to_numpy(),
        color="#868e96",
        ls="--",
        label="p95 from the actual send",
    )
    latency.set_ylabel("latency (s)")
    latency.set_xlabel("time from the schedule's start (s)")
    for ax in (rates, latency):
        for _, end, _, _ in case.stages[:-1]:
            ax.axvline(end, **{**LIMIT_LINE, "color": "#adb5bd", "lw": 0.8})
        ax.grid(color="#dee2e6", lw=0.6)
    # One legend per panel, beside it: the users' axis shares the rates' legend.
    handles, labels = rates.get_legend_handles_labels()
    if users is not None:
        more = users.get_legend_handles_labels()
        handles, labels = handles + more[0], labels + more[1]
    rates.legend(handles, labels, **LEGEND_BESIDE)
    latency.legend(**LEGEND_BESIDE)
    return figure
