"""The checks over millions of records: time and peak memory of ``aisk-harness check``.

A synthetic run of a correct sliding log (limit 5 per 2 s, vary by device) is written first:
``keys`` keys each hammered every 2 ms with 1 ms of latency, so most answers are throttles with
waits, which is where the checks spend their time. The check then runs in a fresh process, as a
user would run it, and must say "conformant".
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from harness.api.duration import format_duration, format_seconds
from harness.load.keys import DEVICE_PROFILES, KeyPlan
from harness.load.scenario import parse_scenario
from harness.run.plan import CasePlan, RunPlan, write_plan
from harness.run.records import RECORD_SCHEMA

LIMIT, DURATION_NS, STEP_NS = 5, 2_000_000_000, 2_000_000
PERIOD = DURATION_NS // STEP_NS  # requests per window: the first LIMIT are admitted
MESSAGE = "Too many messages in a row"
VARY = "RATE_LIMIT_VARY_BY_DEVICE_ID"


def _plan(keys: int) -> RunPlan:
    scenario = parse_scenario(
        {
            "name": "scale",
            "duration": "1h",
            "cases": [{
                "name": "scale", "behaviour": {"kind": "hammer"}, "population": {"keys": keys},
                "rate_limit": {"limit": LIMIT, "duration": "2s", "vary_by": "device",
                               "throttle_message": MESSAGE},
            }],
        }
    )  # fmt: skip
    return RunPlan(
        run_id="scale", created_at=datetime.now(UTC).isoformat(), target="synthetic",
        embedded_emulator=False, org_timezone="Asia/Taipei", scenario=scenario,
        cases=[CasePlan(case=scenario.cases[0], chatbot_id="bot", duration_ns=3600 * 10**9,
                        keys=[KeyPlan("scale", i, f"device-{i}", (), (), (), DEVICE_PROFILES[0])
                              for i in range(keys)])],
    )  # fmt: skip


def _part(first_key: int, keys: int, per_key: int) -> pa.Table:
    n = keys * per_key
    turn = np.tile(np.arange(per_key, dtype=np.int64), keys)
    key = np.repeat(np.arange(first_key, first_key + keys), per_key)
    tau = 1_000_000_000_000 + turn * STEP_NS + key % 997 * 1_000  # server decision instants
    position = turn % PERIOD
    admitted = position < LIMIT
    wait = np.where(admitted, 0, (PERIOD - position) * STEP_NS)
    waits = np.unique(wait[~admitted])
    wait_text = {int(w): format_duration(int(w)) for w in waits}
    wait_sec = {int(w): format_seconds(int(w)) for w in waits}

    def strings(values: list[str | None]) -> pa.Array:
        return pa.array(values, pa.string())

    def per_row(mask: np.ndarray, value: str) -> pa.Array:
        return pa.DictionaryArray.from_arrays(
            pa.array(np.where(mask, 0, 1).astype(np.int32)), strings([value, None])
        ).cast(pa.string())

    throttled = ~admitted
    codes = np.searchsorted(waits, wait)
    columns: dict[str, Any] = {
        "request_id": pa.array(
            np.char.add("local-", (first_key * per_key + np.arange(n)).astype(str))
        ),
        "process": per_row(np.ones(n, bool), "local"),
        "kind": per_row(np.ones(n, bool), "chat"),
        "phase": per_row(np.ones(n, bool), "hammer"),
        "case": per_row(np.ones(n, bool), "scale"),
        "chatbot_id": per_row(np.ones(n, bool), "bot"),
        "key_mode": per_row(np.ones(n, bool), "device"),
        "key": pa.array(np.char.add("device-", key.astype(str))),
        "source_ip": per_row(np.ones(n, bool), "127.0.0.1"),
        "device_id": pa.array(np.char.add("device-", key.astype(str))),
        "forwarded_for": per_row(np.ones(n, bool), ""),
        "user": per_row(np.ones(n, bool), "0.0"),
        "send_wall_ns": tau - 300_000 + 1_700_000_000_000_000_000,
        "recv_wall_ns": tau + 700_000 + 1_700_000_000_000_000_000,
        "send_mono_ns": tau - 300_000,
        "recv_mono_ns": tau + 700_000,
        "clock_offset_ns": np.zeros(n, np.int64),
        "clock_offset_err_ns": np.zeros(n, np.int64),
        "latency_ms": np.full(n, 1.0),
        "http_status": np.where(admitted, 200, 429).astype(np.int32),
        "outcome": pa.DictionaryArray.from_arrays(
            pa.array(admitted.astype(np.int32) ^ 1), strings(["ok", "throttled"])
        ).cast(pa.string()),
        "grpc_code": pa.array(np.where(admitted, 0, 8).astype(np.int32), mask=admitted),
        "message": per_row(throttled, "throttle"),
        "reason": per_row(throttled, "ERROR_REASON_PROMPT_THROTTLING"),
        "domain": per_row(throttled, "bv.aisk.v1"),
        "body_valid": np.ones(n, bool),
        "body_error": per_row(np.ones(n, bool), ""),
        "error_class": per_row(np.ones(n, bool), ""),
        "response_bytes": np.full(n, 300, np.int64),
        "m_duration": per_row(throttled, "2s"),
        "duration_ns": pa.array(np.full(n, DURATION_NS), mask=admitted),
        "m_limit": per_row(throttled, str(LIMIT)),
        "limit": pa.array(np.full(n, LIMIT), mask=admitted),
        "m_throttle_message": per_row(throttled, MESSAGE),
        "m_vary_by": per_row(throttled, VARY),
        "m_wait": pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=admitted),
            strings([wait_text[int(w)] for w in waits]),
        ).cast(pa.string()),
        "wait_ns": pa.array(wait, mask=admitted),
        "m_wait_sec": pa.DictionaryArray.from_arrays(
            pa.array(codes.astype(np.int32), mask=admitted),
            strings([wait_sec[int(w)] for w in waits]),
        ).cast(pa.string()),
        "wait_sec": pa.array(wait / 1e9, mask=admitted),
    }
    for name in ("m_reset_at", "m_reset_in", "m_reset_in_sec"):
        columns[name] = pa.nulls(n, pa.string())
    for name in ("reset_at_ns", "reset_in_ns"):
        columns[name] = pa.nulls(n, pa.int64())
    columns["intended_send_mono_ns"] = pa.nulls(n, pa.int64())  # closed loops: no schedule
    columns["reset_at_offset_s"] = pa.nulls(n, pa.int32())
    columns["reset_in_sec"] = pa.nulls(n, pa.float64())
    columns["answer_chars"] = pa.array(np.full(n, 120, np.int32), mask=throttled)
    columns["citations"] = pa.array(np.zeros(n, np.int32), mask=throttled)
    columns["m_other"] = per_row(np.ones(n, bool), "")
    columns["detail"] = per_row(np.ones(n, bool), "")
    arrays = [pa.array(columns[f.name]).cast(f.type) for f in RECORD_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA)


def write_run(folder: Path, records: int, keys: int) -> None:
    per_key = records // keys
    write_plan(folder, _plan(keys))
    (folder / "records").mkdir()
    chunk = 200
    for start in range(0, keys, chunk):
        table = _part(start, min(chunk, keys - start), per_key)
        pq.write_table(table, folder / "records" / f"part-local-{start:06d}.parquet")
        if start == 0:
            _write_setup(folder, table)


def _write_setup(folder: Path, chats: pa.Table) -> None:
    """The set-up requests every run has, before its load: they are not the load's chats, so
    the reader must put the chats first (what once copied the whole table)."""
    setup = chats.slice(0, 4)
    for name, value in (("kind", "create_chatbot"), ("phase", "setup"), ("case", ""), ("key", "")):
        index = setup.schema.get_field_index(name)
        setup = setup.set_column(index, setup.field(index), pa.array([value] * len(setup)))
    ids = pa.array([f"local-setup-{n}" for n in range(len(setup))])
    setup = setup.set_column(setup.schema.get_field_index("request_id"), "request_id", ids)
    pq.write_table(setup, folder / "records" / "part-local-0-setup.parquet")


def run(records: int = 10_000_000, keys: int = 2_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "run"
        folder.mkdir()
        started = time.perf_counter()
        write_run(folder, records, keys)
        written = time.perf_counter() - started
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(folder)], capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr[-2000:])
        child = json.loads(done.stdout.strip().splitlines()[-1])
    return {
        "records": records, "keys": keys, "write_s": round(written, 1),
        "check_s": round(elapsed, 1), "read_s": child["read_s"], "evaluate_s": child["evaluate_s"],
        "peak_rss_gib": child["peak_rss_gib"], "status": child["status"],
        "failed": child["failed"], "inconclusive": child["inconclusive"],
    }  # fmt: skip


_CHILD = """
import json, resource, sys, time
from pathlib import Path
from harness.cli.check import read_check_input
from harness.conformance import evaluate
from harness.run.plan import read_plan
folder = Path(sys.argv[1])
t0 = time.perf_counter()
data, _ = read_check_input(folder, read_plan(folder))
t1 = time.perf_counter()
verdict = evaluate(data, "synthetic")
t2 = time.perf_counter()
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
print(json.dumps({"read_s": round(t1 - t0, 1), "evaluate_s": round(t2 - t1, 1),
                  "peak_rss_gib": round(rss, 2), "status": verdict.status.value,
                  "failed": [c.id for c in verdict.failed],
                  "inconclusive": [c.id for c in verdict.checks
                                   if c.outcome.value == "inconclusive"]}))
"""

__all__ = ["run"]
