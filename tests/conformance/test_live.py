"""The live judge's prefix: complete up to its cutoff, and a proof on it is a proof.

Soundness is held like the offline checks' (test_soundness.py): every correct limiter family,
on random traces, judged on every complete prefix at random cutoffs, never yields a proof.
Detection: the admit-one-extra trace of test_soundness, cut after its crowd, proves it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_soundness import runs, simulated_input

from harness.conformance.findings import Evidence, Finding, Outcome
from harness.conformance.live import (
    PROOF_CHECKS,
    TIMEOUT_SLACK_NS,
    LiveCheck,
    _proof,
    complete_prefix,
    cutoff_ns,
    judge_live,
)
from harness.conformance.spec import CaseSpec, CheckInput
from harness.conformance.verdict import CheckResult
from harness.run.records import Record

MS = 1_000_000
D = 1_000_000_000
BASE = 1_000_000 * D


def frame_of(rows: list[tuple[str, str, int, int]]) -> pd.DataFrame:
    """(process, phase, send, receive) rows of chat records on the common clock."""
    return pd.DataFrame(
        {
            "request_id": [f"r{n}" for n in range(len(rows))],
            "process": [row[0] for row in rows],
            "kind": "chat",
            "phase": [row[1] for row in rows],
            "send_wall_ns": [row[2] for row in rows],
            "recv_wall_ns": [row[3] for row in rows],
            "clock_offset_ns": 0,
            "clock_offset_err_ns": 0,
        }
    )


def test_the_cutoff_is_the_slowest_process_latest_answer_less_the_timeout() -> None:
    frame = frame_of(
        [
            ("w0", "hammer", 10 * D, 11 * D),
            ("w0", "hammer", 30 * D, 31 * D),
            ("w1", "hammer", 20 * D, 25 * D),
            # A set-up probe's answer, however late, says nothing of the load's.
            ("w1", "access:second-org", 40 * D, 41 * D),
        ]
    )
    assert cutoff_ns(frame, 2 * D) == 25 * D - 2 * D - TIMEOUT_SLACK_NS


def test_no_cutoff_before_a_load_chat_is_on_disk() -> None:
    assert cutoff_ns(frame_of([("local", "access:none", D, 2 * D)]), D) is None


def test_a_worker_offset_error_moves_the_cutoff_back() -> None:
    frame = frame_of([("w0", "hammer", 10 * D, 11 * D)])
    frame["clock_offset_err_ns"] = 5 * MS
    assert cutoff_ns(frame, D) == 11 * D - D - TIMEOUT_SLACK_NS - 15 * MS  # three offset errors


def test_the_prefix_holds_what_was_sent_before_the_cutoff_and_hides_later_answers(
    make_record: Callable[..., Record], make_frame: Callable[[list[Record]], pd.DataFrame]
) -> None:
    records = [
        make_record(request_id="early", send_mono_ns=1 * D, recv_mono_ns=2 * D),
        make_record(request_id="straddles", send_mono_ns=3 * D, recv_mono_ns=6 * D),
        make_record(request_id="late", send_mono_ns=7 * D, recv_mono_ns=8 * D),
    ]
    frame = make_frame(records)
    cutoff = int(frame["send_wall_ns"].iloc[0]) + 4 * D  # 4 s after the first send
    resets = pd.DataFrame({"reset_in_ns": [1.0, 2.0]}, index=pd.Index([1, 2]))
    prefix, kept = complete_prefix(frame, cutoff, resets)
    assert list(prefix["request_id"]) == ["early", "straddles"]
    assert list(prefix["outcome"].astype(str)) == ["ok", "transport_error"]
    assert prefix["error_class"].astype(str).iloc[1] == "interrupted"
    assert kept is not None
    assert list(kept.index) == [1]
    assert list(kept["reset_in_ns"]) == [1.0]


def result(check_id: str, *proofs: Evidence) -> CheckResult:
    return CheckResult.of(check_id, check_id, Finding(Outcome.FAIL, "failed", proofs))


def evidence(*request_ids: str) -> Evidence:
    return Evidence("kind", "case", "key", request_ids, "at most 3", "4")


def test_a_failure_is_a_proof_only_if_every_request_it_cites_was_answered_before_the_cutoff() -> (
    None
):
    answered = {"a": 1, "b": 5, "c": 12}
    late, early = evidence("a", "c"), evidence("a", "b")
    assert _proof(result("over-admission", late, early), answered, 10) == early
    assert _proof(result("over-admission", late), answered, 10) is None
    assert _proof(result("over-admission", evidence("a", "unknown")), answered, 10) is None


def test_wait_honesty_is_never_proven_live() -> None:
    assert "wait-honesty" not in PROOF_CHECKS
    assert _proof(result("wait-honesty", evidence("a")), {"a": 1}, 10) is None


def test_a_live_line_names_the_proof_and_otherwise_the_power() -> None:
    proven = LiveCheck(result("burst", evidence("a")), evidence("a"))
    assert proven.line == "burst: VIOLATION proven: case 'case': expected: at most 3; observed: 4"
    waiting = CheckResult(
        id="quota",
        title="quota",
        outcome=Outcome.INCONCLUSIVE,
        summary="the quota was never reached; more words",
        evidence=[],
        keys_with_power=0,
        keys_without_power=2,
    )
    line = LiveCheck(waiting, None).line
    assert line == "quota: 0 of 2 keys with power; waiting: the quota was never reached"


def proofs_on_prefixes(data: CheckInput, cutoffs: list[int]) -> dict[str, Evidence]:
    """Every proof the live judge finds on the complete prefixes at ``cutoffs`` (the whole
    frame is on disk: the prefix is cut by send instant alone)."""
    found: dict[str, Evidence] = {}
    for cutoff in cutoffs:
        records, _ = complete_prefix(data.records, cutoff)
        prefix = CheckInput(records, data.cases, data.org_timezone, data.second_org, data.tolerance)
        for check in judge_live(prefix, cutoff).checks:
            if check.proof is not None:
                found[check.result.id] = check.proof
    return found


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(run=runs(), fractions=st.lists(st.floats(0, 1), min_size=1, max_size=4))
def test_no_prefix_of_a_correct_limiter_trace_proves_a_violation(
    run: dict[str, Any],
    fractions: list[float],
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    data = simulated_input(run, simulator, make_case, make_input)
    sent = data.records["send_wall_ns"].to_numpy(np.int64)
    received = data.records["recv_wall_ns"].to_numpy(np.int64)
    first, last = int(sent.min()), int(received.max()) + 1
    cutoffs = [first + round(fraction * (last - first)) for fraction in fractions]
    assert proofs_on_prefixes(data, cutoffs) == {}


@pytest.mark.parametrize("extra", [False, True])
def test_a_sliding_log_admitting_one_extra_is_proven_on_the_prefix_after_its_crowd(
    extra: bool,
    simulator: Callable[..., Any],
    make_case: Callable[..., CaseSpec],
    make_input: Callable[..., CheckInput],
) -> None:
    # test_soundness's trace: 3 admitted at once on a fresh key of limit 2, the later promises
    # on no lattice; after the last request's answer, the prefix holds the proof.
    offsets = [0.0, 0.1, 0.2, 0.3, 1.05, 1.06, 2.5, 2.6]
    target = simulator("sliding-log", 2, D, real_limit=3 if extra else None)
    sent = [(BASE + round(x * D), MS, MS) for x in offsets]
    data = make_input(target.records(sent), [make_case("case", 2, D)])
    start = int(data.records["send_wall_ns"].min())
    after_crowd = start + round(1.2 * D)
    found = proofs_on_prefixes(data, [after_crowd])
    assert ("over-admission" in found) is extra
    if extra:  # what it cites was all answered before the cutoff
        cited = data.records[data.records["request_id"].isin(found["over-admission"].request_ids)]
        assert (cited["recv_wall_ns"] < after_crowd).all()
