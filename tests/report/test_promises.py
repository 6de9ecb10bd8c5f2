"""Promised waits against the bounds of the true ones (``report/promises.py``) and their chart."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from testkit import record_of

from harness.api.answer import Answer, classify_answer
from harness.conformance.spec import CaseSpec, CheckInput, RateSpec
from harness.emulator.answers import throttled
from harness.emulator.policy import CORRECT
from harness.report import limit_charts, promises
from harness.report.display import png_bytes
from harness.run.records import Record, records_to_table

S = 1_000_000_000
MS = 1_000_000
OK = classify_answer("chat", 200, b'{"answer":"hi","citations":[]}')
DEVICE = "RATE_LIMIT_VARY_BY_DEVICE_ID"


def wait_of(wait_ns: int) -> Answer:
    answer = throttled(
        policy=CORRECT,
        limit=1,
        duration_ns=S,
        throttle_message="slow down",
        vary_by=DEVICE,
        true_wait_ns=wait_ns,
    )
    return classify_answer("chat", answer.status, answer.body)


def record(n: int, tau_ns: int, answer: Answer) -> Record:
    times = {"send_mono_ns": tau_ns - MS, "recv_mono_ns": tau_ns + MS}
    walls = {"send_wall_ns": 10**18 + tau_ns - MS, "recv_wall_ns": 10**18 + tau_ns + MS}
    base = {
        **dict.fromkeys(("key", "device_id"), "dev-1"),
        **dict(request_id=f"r{n}", process="local", kind="chat", phase="hammer", case="case"),
        **dict(chatbot_id="bot", key_mode="device", source_ip="127.10.0.1", forwarded_for=""),
        **dict(user="u", clock_offset_ns=0, clock_offset_err_ns=0),
        **times,
        **walls,
    }
    return record_of(base, answer)


def data_of(*requests: tuple[float, Answer]) -> CheckInput:
    rows = [record(n, round(t * S), answer) for n, (t, answer) in enumerate(requests)]
    frame = records_to_table(rows).to_pandas()
    rate = RateSpec(1, S, "slow down", DEVICE)
    case = CaseSpec("case", "bot", rate, None, "hammer", False, "none", 1)
    return CheckInput(frame, {"case": case}, ZoneInfo("UTC"), False)


def test_each_promise_gets_the_bounds_of_the_true_wait() -> None:
    # 1 per s, admitted at 0: the throttle at 0.2 s promising 0.3 s is refuted by the throttle
    # at 0.7 s (early); the one at 0.7 s promising 0.3 s is honest; admitted at 1.05 s.
    data = data_of((0.0, OK), (0.2, wait_of(300 * MS)), (0.7, wait_of(300 * MS)), (1.05, OK))
    frame = promises.promised_vs_true(data)
    assert list(frame.columns) == promises.PROMISE_COLUMNS
    assert list(frame["off"]) == ["early", "kept"]
    assert frame["promised_s"].tolist() == pytest.approx([0.3, 0.3])
    # The first: true wait at least 0.699 - 0.201 s, at most 1.051 - 0.199 s.
    assert frame["true_lo_s"].iloc[0] == pytest.approx(0.498, abs=1e-5)
    assert frame["true_hi_s"].iloc[0] == pytest.approx(0.852, abs=1e-5)


def test_a_throttle_no_admission_followed_has_an_open_bound() -> None:
    frame = promises.promised_vs_true(data_of((0.0, OK), (0.2, wait_of(800 * MS))))
    assert np.isnan(frame["true_hi_s"].iloc[0])
    assert frame["off"].iloc[0] == "kept"


def test_no_throttle_gives_an_empty_table_with_the_columns() -> None:
    frame = promises.promised_vs_true(data_of((0.0, OK)))
    assert frame.empty
    assert list(frame.columns) == promises.PROMISE_COLUMNS


def test_the_chart_draws_each_kind_of_promise_with_its_count() -> None:
    frame = pd.DataFrame(
        {
            "case": ["a", "a", "a"],
            "key": ["k", "k", "k"],
            "promised_s": [0.3, 0.3, 0.9],
            "true_lo_s": [0.5, 0.2, 0.1],
            "true_hi_s": [0.8, np.nan, 0.4],
            "off": ["early", "kept", "late"],
        }
    )
    figure = limit_charts.promise_figure(frame, {"a": 1.0, "b": 2.0})
    ax = figure.axes[0]
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["true = promised", "kept (1)", "late (1)", "early (1)"]
    assert png_bytes(figure).startswith(b"\x89PNG")
