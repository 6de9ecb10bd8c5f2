"""The report's tables, on small hand-made record frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.conformance import Tolerance
from harness.report import frames

S = 1_000_000_000  # ns per second
MS = 1_000_000


def records(rows: list[dict[str, object]]) -> pd.DataFrame:
    """Record rows with the columns the report reads; unspecified ones take plain defaults."""
    defaults: dict[str, object] = {
        "kind": "chat", "phase": "hammer", "case": "c", "key": "k", "clock_offset_ns": 0,
        "latency_ms": 10.0, "outcome": "ok", "wait_ns": None, "reset_at_ns": None,
        "m_reset_at": None,
    }  # fmt: skip
    filled = []
    for index, row in enumerate(rows):
        entry = {**defaults, "request_id": f"local-{index}", **row}
        entry.setdefault("recv_ns", int(entry["send_ns"]) + 10 * MS)
        entry["send_mono_ns"] = entry.pop("send_ns")
        entry["recv_mono_ns"] = entry.pop("recv_ns")
        entry.setdefault("send_wall_ns", 1_700_000_000 * S + int(entry["send_mono_ns"]))
        entry.setdefault("recv_wall_ns", 1_700_000_000 * S + int(entry["recv_mono_ns"]))
        filled.append(entry)
    frame = pd.DataFrame(filled)
    for column in ("kind", "phase", "case", "key", "outcome"):
        frame[column] = frame[column].astype("category")  # as read_records returns them
    frame["wait_ns"] = frame["wait_ns"].astype("Int64")
    frame["reset_at_ns"] = frame["reset_at_ns"].astype("Int64")
    return frame


def test_load_chats_keeps_the_load_and_moves_clocks_onto_the_master() -> None:
    chats = frames.load_chats(
        records(
            [
                {"send_ns": 5 * S, "clock_offset_ns": 2 * S},
                {"send_ns": 6 * S, "phase": "access:unknown-token"},
                {"send_ns": 7 * S, "kind": "create_chatbot", "phase": "setup"},
                {"send_ns": 8 * S},
            ]
        )
    )
    assert list(chats["request_id"]) == ["local-0", "local-3"]
    assert list(chats["send_ns"]) == [7 * S, 8 * S]
    assert list(chats["t_s"]) == [0.0, 3.0]  # wall clock, from the first chat


def test_pick_keys_takes_the_most_throttled_key_of_each_case_in_case_order() -> None:
    rows = [
        *({"case": "b", "key": "b1", "send_ns": i * S, "outcome": "throttled"} for i in range(3)),
        *({"case": "b", "key": "b2", "send_ns": i * S, "outcome": "throttled"} for i in range(5)),
        *({"case": "a", "key": "a1", "send_ns": i * S, "outcome": "throttled"} for i in range(1)),
        *({"case": "a", "key": "a2", "send_ns": i * S} for i in range(9)),  # never throttled
        {"case": "z", "key": "z1", "send_ns": 0, "outcome": "throttled"},  # not asked for
    ]
    picked = frames.pick_keys(frames.load_chats(records(rows)), ["a", "b"], per_case=1)
    assert list(zip(picked["case"], picked["key"], picked["throttled"], strict=True)) == [
        ("a", "a1", 1),
        ("b", "b2", 5),
    ]
    two = frames.pick_keys(frames.load_chats(records(rows)), ["b"], per_case=2)
    assert list(two["key"]) == ["b2", "b1"]


def surely_within_reference(send: np.ndarray, recv: np.ndarray, window: int) -> list[int]:
    """Plainly: at each instant the count can change, the admissions inside (t − window, t]."""
    instants = sorted(set(recv) | set(send + window))
    return [int(np.sum((recv <= t) & (send > t - window))) for t in instants]


@pytest.mark.parametrize("seed", range(5))
def test_window_admissions_counts_what_surely_lies_in_one_window(seed: int) -> None:
    rng = np.random.default_rng(seed)
    duration = 2 * S
    send = np.sort(rng.integers(0, 10 * S, size=60))
    recv = send + rng.integers(0, duration // 2, size=60)  # every request shorter than D⁻
    requests = frames.load_chats(
        records([{"send_ns": int(s), "recv_ns": int(r)} for s, r in zip(send, recv, strict=True)])
    )
    windows = frames.window_admissions(requests, duration)
    window = Tolerance().short(duration)
    assert list(windows["surely_within"]) == surely_within_reference(send, recv, window)
    instants = sorted(set(recv) | set(send + window))
    assert list(windows["t_s"]) == [(t - send.min()) / 1e9 for t in instants]


def test_window_admissions_of_an_exact_sliding_log_reach_the_limit_and_never_pass_it() -> None:
    # 5 per 2 s, admissions 0.1 s apart in bunches 2.1 s apart, as a hammered sliding log admits.
    send = [t * S // 10 for bunch in range(4) for t in range(bunch * 21, bunch * 21 + 5)]
    rows = [{"send_ns": s, "recv_ns": s} for s in send]
    rows += [{"send_ns": s + S // 20, "outcome": "throttled"} for s in send]  # ignored
    windows = frames.window_admissions(frames.load_chats(records(rows)), 2 * S)
    assert windows["surely_within"].max() == 5
    assert windows["surely_within"].iloc[:6].tolist() == [1, 2, 3, 4, 5, 4]
    assert windows["surely_within"].iloc[-1] == 0  # every admission left its window


def test_window_admissions_of_a_key_never_admitted_is_empty() -> None:
    chats = frames.load_chats(records([{"send_ns": 0, "outcome": "throttled"}]))
    assert frames.window_admissions(chats, S).empty


def test_wait_is_compared_with_the_next_admission_sent_after_the_throttle_answered() -> None:
    rows = [
        {"key": "honest", "send_ns": 1000 * MS, "recv_ns": 1010 * MS, "outcome": "throttled",
         "wait_ns": 500 * MS},
        # In flight alongside the throttle: possibly decided before it, so not "the next".
        {"key": "honest", "send_ns": 1005 * MS, "recv_ns": 1020 * MS},
        {"key": "honest", "send_ns": 1600 * MS, "recv_ns": 1610 * MS},
        {"key": "liar", "send_ns": 1000 * MS, "recv_ns": 1010 * MS, "outcome": "throttled",
         "wait_ns": 500 * MS},
        {"key": "liar", "send_ns": 1200 * MS, "recv_ns": 1210 * MS},
        {"key": "never", "send_ns": 1000 * MS, "outcome": "throttled", "wait_ns": 500 * MS},
    ]  # fmt: skip
    waits = frames.wait_vs_remaining(frames.load_chats(records(rows))).set_index("key")
    assert set(waits.index) == {"honest", "liar"}
    honest, liar = waits.loc["honest"], waits.loc["liar"]
    assert honest["wait_s"] == pytest.approx(0.5)
    assert honest["remaining_lo_s"] == pytest.approx(0.59)
    assert honest["remaining_hi_s"] == pytest.approx(0.61)
    assert not honest["early"]
    assert liar["remaining_hi_s"] == pytest.approx(0.21)
    assert liar["early"]


def test_an_admission_just_inside_the_retry_slack_is_not_early() -> None:
    wait = 500 * MS
    slack = int(Tolerance().retry_slack(np.array([float(wait)]))[0])
    rows = [
        {"send_ns": 0, "recv_ns": 0, "outcome": "throttled", "wait_ns": wait},
        {"send_ns": wait - slack + 1, "recv_ns": wait - slack + 1},
    ]
    assert not frames.wait_vs_remaining(frames.load_chats(records(rows)))["early"].iloc[0]


def test_over_time_takes_percentiles_from_every_request_of_a_bin() -> None:
    latencies = [float(v) for v in range(1, 101)]
    rows = [{"send_ns": i * 5 * MS, "latency_ms": v} for i, v in enumerate(latencies)]  # 0.5 s
    rows += [{"send_ns": 1500 * MS, "outcome": "throttled", "latency_ms": 1000.0}]
    table = frames.over_time(frames.load_chats(records(rows)), bin_s=1.0)
    assert list(table["t_s"]) == [0.0, 1.0]
    first = table.iloc[0]
    assert first["p50_ms"] == pytest.approx(np.percentile(latencies, 50))
    assert first["p99_ms"] == pytest.approx(np.percentile(latencies, 99))
    assert first["ok_per_s"] == 100.0
    # The last bin covers 0.5 s of the run (1.0 to 1.5): one answer in it is 2 per second.
    assert table.iloc[1]["throttled_per_s"] == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("span", "width"), [(0.0, 0.1), (6.0, 0.2), (40.0, 1.0), (600.0, 15.0), (86_400.0, 3600.0)]
)
def test_time_bin_is_round_and_gives_about_forty_bins(span: float, width: float) -> None:
    assert frames.time_bin(span) == width


def test_quota_consumption_and_the_reset_announced() -> None:
    reset_ns = 1_700_000_000 * S + 7_200 * S
    rows = [{"case": "q", "send_ns": i * S} for i in range(3)]
    rows += [
        {"case": "q", "send_ns": (3 + i) * S, "outcome": "out_of_quota", "reset_at_ns": reset_ns,
         "m_reset_at": "2023-11-15T00:13:20+08:00"}
        for i in range(2)
    ]  # fmt: skip
    rows += [{"case": "other", "send_ns": 0}]
    chats = frames.load_chats(records(rows))
    consumption = frames.quota_consumption(chats, {"q": 3})
    assert list(consumption["consumed"]) == [1, 2, 3, 3, 3]
    assert list(consumption["refused"]) == [0, 0, 0, 1, 2]
    resets = frames.quota_resets(chats, {"q": 3}).iloc[0]
    assert (resets["admitted"], resets["refused"], resets["resets"]) == (3, 2, 1)
    assert resets["reset_at"] == "2023-11-15T00:13:20+08:00"
    assert resets["first_refusal_t_s"] == pytest.approx(3.01)
    assert resets["reset_in_h"] == pytest.approx((7_200 - 3.01) / 3600)


def test_check_outcomes_keeps_the_verdict_order() -> None:
    verdict = {
        "checks": [
            {"id": "b", "title": "B", "outcome": "fail", "summary": "x", "evidence": []},
            {"id": "a", "title": "A", "outcome": "pass", "summary": "y"},
            {
                "id": "c",
                "title": "C",
                "outcome": "fail",
                "summary": "z",
                "explained_by": ["b"],
                "explanation": "explained by b: why",
            },
        ]
    }
    table = frames.check_outcomes(verdict)
    assert list(table["id"]) == ["b", "a", "c"]
    assert list(table.columns) == [*"id title outcome summary explanation explained_by".split()]
    assert list(table["explained_by"]) == ["", "", "b"]
    assert table["explanation"].iloc[2] == "explained by b: why"
