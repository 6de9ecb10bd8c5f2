"""Reading a run's records back, and the per-case summary printed at the end of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from harness.load.records import RECORD_SCHEMA
from harness.load.sink import records_dir

__all__ = ["read_records", "summarise"]


# Text columns whose values rarely repeat: kept as plain strings.
_UNIQUE_TEXT = frozenset({"request_id", "m_wait", "m_wait_sec", "m_reset_in", "m_reset_in_sec"})


def read_records(
    run_dir: Path, columns: Sequence[str] | None = None, *, chats_first: bool = False
) -> pd.DataFrame:
    """Every record of a run (all Parquet parts), in ``RECORD_SCHEMA`` or only ``columns``.

    ``chats_first`` puts the load's chat requests before the set-up's requests, so a reader can
    take them as one slice (no copy of millions of rows).
    """
    folder = records_dir(run_dir)
    parts = sorted(folder.glob("part-*.parquet")) if folder.is_dir() else []
    names = list(columns) if columns is not None else list(RECORD_SCHEMA.names)
    # Repetitive text columns are read as dictionaries and become categoricals: a fraction of
    # the memory, and pandas compares and matches them per distinct value instead of per row.
    repetitive = [
        field.name
        for field in RECORD_SCHEMA
        if field.type == pa.string() and field.name not in _UNIQUE_TEXT and field.name in names
    ]
    schema = pa.schema(
        [
            field.with_type(pa.dictionary(pa.int32(), pa.string()))
            if field.name in repetitive
            else field
            for field in RECORD_SCHEMA
        ]
    )
    if parts:
        file_format = ds.ParquetFileFormat(read_options={"dictionary_columns": repetitive})
        table = ds.dataset(parts, schema=schema, format=file_format).to_table(columns=names)
    else:
        table = schema.empty_table().select(names)
    if chats_first and "kind" in names and "phase" in names:
        probe = pc.starts_with(pc.cast(table.column("phase"), pa.string()), "access:")
        chat = pc.and_(
            pc.equal(pc.cast(table.column("kind"), pa.string()), "chat"), pc.invert(probe)
        )
        if not pc.all(chat).as_py():
            table = pa.concat_tables([table.filter(chat), table.filter(pc.invert(chat))])
    # Column by column, letting each Arrow column go once converted: the peak is one frame plus
    # one column, not two copies of millions of records.
    data: dict[str, pd.Series] = {}
    for name in list(table.column_names):
        data[name] = table.column(name).to_pandas()
        table = table.drop_columns([name])
    frame = pd.DataFrame(data, copy=False)
    pa.default_memory_pool().release_unused()  # give the Arrow buffers back, not just to the pool
    return frame


OUTCOMES = ("ok", "throttled", "out_of_quota", "client_error", "server_error", "transport_error")


def summarise(records: pd.DataFrame) -> pd.DataFrame:
    """Per case: requests, each outcome, and latency percentiles (ms) from every request."""
    probe = records["phase"].str.startswith("access:").fillna(False).astype(bool)
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
