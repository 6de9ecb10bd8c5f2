"""A performance run's stages: the table and the chart of each staged case."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.load.stages import Stage, staged_instants
from harness.report.display import png_bytes
from harness.report.stages import stage_table, stages_figure
from harness.run.stage_plan import StagedCase

NS = 1_000_000_000
STAGES = [Stage(duration="4s", target=10), Stage(duration="4s", target=10),
          Stage(duration="2s", target=0)]  # fmt: skip
FIRST_NS = next(staged_instants(0, 10**12, STAGES, 0.0, "constant", 1))  # Λ = 1: at √0.8 s
CASE = StagedCase("perf", 1, ((0.0, 4.0, 0.0, 10.0), (4.0, 8.0, 10.0, 10.0),
                              (8.0, 10.0, 10.0, 0.0)), first_arrival_s=FIRST_NS / NS)  # fmt: skip


def chats(latency_s: float = 0.05, late_s: float = 0.0) -> pd.DataFrame:
    intended = np.array(list(staged_instants(0, 10**12, STAGES, 0.0, "constant", 1)), np.int64)
    intended = intended + 7 * NS  # the sender's monotonic clock: the table places the first
    send = intended + int(late_s * NS)
    outcome = np.where(np.arange(intended.size) % 10 == 9, "throttled", "ok")
    return pd.DataFrame({
        "case": "perf", "intended_send_mono_ns": intended, "send_mono_ns": send,
        "recv_mono_ns": send + int(latency_s * NS), "clock_offset_ns": 0, "outcome": outcome,
        "answer_chars": 12,
    })  # fmt: skip


def test_each_stage_counts_its_own_arrivals_and_outcomes() -> None:
    table = stage_table(chats(), CASE)
    assert list(table["stage"]) == [1, 2, 3]
    assert list(table["offered"]) == ["0 → 10", "10 → 10", "10 → 0"]
    # Λ: 20 arrivals in the ramp up (less the one on 4 s itself), 40 in the hold, 10 down.
    assert table["sent_rps"].to_list() == pytest.approx([20 / 4, 40 / 4, 10 / 2], abs=0.3)
    # 70 arrivals, the 70th on 10 s itself (the end: in no stage); every tenth throttled.
    assert table["throttled"].sum() == 6
    assert (table["errors"] == 0).all()
    assert table["p95_s"].to_list() == pytest.approx([0.05] * 3)


def test_latency_from_the_intended_instant_counts_the_wait_for_a_sender() -> None:
    table = stage_table(chats(latency_s=0.05, late_s=0.5), CASE)
    assert table["p95_s"].to_list() == pytest.approx([0.55] * 3)
    assert table["p95_sent_s"].to_list() == pytest.approx([0.05] * 3)
    assert table["late"].sum() == len(chats()) - 1  # all but the one on the end


def test_the_chart_draws_the_stages_beside_what_was_sent() -> None:
    figure = stages_figure(chats(), CASE)
    rates, latency = figure.axes
    assert rates.get_title(loc="left") == "Stages of perf"
    labels = {text.get_text() for ax in figure.axes for text in ax.get_legend().get_texts()}
    assert {"offered (the stages)", "sent", "admitted", "p95 from the intended send"} <= labels
    assert latency.get_xlabel() == "time from the schedule's start (s)"


def test_staged_users_share_the_rates_legend_and_every_legend_sits_beside_its_panel() -> None:
    users_case = StagedCase("perf", 1, CASE.stages, CASE.first_arrival_s, model="users")
    figure = stages_figure(chats(), users_case)
    rates, latency, users = figure.axes
    assert users.get_legend() is None
    labels = [text.get_text() for text in rates.get_legend().get_texts()]
    assert labels == ["sent", "admitted", "users (the stages)"]
    png_bytes(figure)  # lays the figure out
    for ax in (rates, latency):
        assert ax.get_legend().get_window_extent().x0 >= ax.get_window_extent().x1
