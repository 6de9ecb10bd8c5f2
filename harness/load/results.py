"""Reading a run's records back, and the per-case summary printed at the end of a run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

from harness.load.records import RECORD_SCHEMA
from harness.load.sink import records_dir

__all__ = ["read_records", "summarise"]


def read_records(run_dir: Path) -> pd.DataFrame:
    """Every record of a run (all Parquet parts), in ``RECORD_SCHEMA``; empty if none."""
    folder = records_dir(run_dir)
    parts = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    table = (
        ds.dataset(parts, schema=RECORD_SCHEMA, format="parquet").to_table()
        if parts
        else RECORD_SCHEMA.empty_table()
    )
    frame: pd.DataFrame = table.to_pandas()
    return frame


OUTCOMES = ("ok", "throttled", "out_of_quota", "client_error", "server_error", "transport_error")


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Per case: requests, each outcome, and latency percentiles (ms) from every request."""
    probe = records["phase"].astype(str).str.startswith("access:")
    chats = records[(records["kind"] == "chat") & ~probe]
    if chats.empty:
        return pd.DataFrame(columns=["case", "requests", *OUTCOMES, "p50_ms", "p95_ms", "p99_ms"])
    counts = chats.pivot_table(
        index="case", columns="outcome", values="request_id", aggfunc="count"
    )
    counts = counts.reindex(columns=list(OUTCOMES), fill_value=0).fillna(0).astype(int)
    by_case = chats.groupby("case")["latency_ms"]
    latency = pd.DataFrame(
        {f"p{round(q * 100)}_ms": by_case.quantile(q) for q in (0.5, 0.95, 0.99)}
    )
    summary = counts.join(latency)
    summary.insert(0, "requests", counts.sum(axis=1))
    return summary.reset_index()
