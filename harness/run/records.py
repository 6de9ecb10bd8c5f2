"""One record per request the harness sends: the only evidence the checks and notebooks read.

The schema is declared once, as the parts a record is made of (the columns of each part are that
part's fields, their Arrow types its annotations): ``Origin``, ``RequestContext``, ``Times``, the
clock offset (``harness.run.clock.ClockOffset``), ``latency_ms``, and the classified answer
(``harness.api.answer.Answer``, with the ``Outcome`` and ``ErrorClass`` vocabularies). A batch is a
table in ``RECORD_SCHEMA``: the hot path builds it column-wise (``batches``), ``records_to_table``
row by row as the plain reference; batches become Parquet files (``sink``).
Units are in the names. Every column:

identity
- ``request_id``   "<process>-<seq>", unique in the run; checks cite it as evidence.
- ``process``      who sent it: "local" (one process), "master", or "w<index>" (a worker).
- ``kind``         the endpoint: chat | create_chatbot | get_chatbot | delete_chatbot |
                   create_token.
- ``phase``        why it was sent: setup, teardown, roundtrip, access:<probe>, or the behaviour
                   step (hammer, paced, polite, polite-retry, burst, fill, trickle, recovery, ...).
- ``case``         the scenario case ("" for requests that belong to no case).
- ``chatbot_id``   the chatbot the request addressed.
- ``key_mode``     what the case's rate limit varies by: ip | device | none.
- ``key``          the value of that key for this request: source IP, device id, or "" (chatbot).
- ``source_ip``    the local address the connection used ("" when unknown).
- ``device_id``    ``metadata.device.id`` sent ("" when none).
- ``forwarded_for`` the X-Forwarded-For header sent ("" when none).
- ``user``         the simulated client that sent it.

timing (a request reached the server somewhere in [send, recv])
- ``send_wall_ns`` / ``recv_wall_ns``  UTC epoch ns just before sending / after the whole answer.
- ``send_mono_ns`` / ``recv_mono_ns``  the sending process's monotonic clock, same instants.
- ``intended_send_mono_ns``  an open-model key's: the instant its schedule meant the request to
                   leave (same clock); ``send_mono_ns`` minus it is how late it left. Null for the
                   behaviours that wait for answers (hammer, paced, polite, burst).
- ``clock_offset_ns``      add to this process's clocks to get the recording master's (0 if local).
- ``clock_offset_err_ns``  half the round trip of the best offset sample: the offset's error bound.
- ``latency_ms``           recv − send on the monotonic clock.

answer
- ``http_status``   0 when no answer arrived.
- ``outcome``       ok (2xx) | throttled | out_of_quota (429 with that reason) | client_error (other
                    4xx, or a 429 with another reason) | server_error (5xx, even one that says
                    "throttle") | transport_error (no answer).
- ``grpc_code``, ``message``, ``reason``, ``domain``   from the Status and its ErrorInfo (null if
                    none).
- ``body_valid``    the body validates against the contract for its status; ``body_error`` says
                    why not.
- ``error_class``   "" for a whole, parseable answer. No answer (transport_error): timeout (no whole
                    answer within --request-timeout) | connect (refused, unreachable) | reset
                    (reset or closed before any answer) | truncated (closed mid-answer) |
                    protocol (not HTTP) | interrupted (our own stop) | other. A status but no
                    usable body: truncated | too_large (cut at ``MAX_BODY_BYTES``; not judged) |
                    not_json | empty (judged: they break the contract).
- ``response_bytes`` size of the answer body.

429 metadata, raw text (null when the key is absent) and parsed value (null when unparseable)
- ``m_duration``/``duration_ns``, ``m_limit``/``limit``, ``m_throttle_message``, ``m_vary_by``,
  ``m_wait``/``wait_ns``, ``m_wait_sec``/``wait_sec``, ``m_reset_at``/``reset_at_ns`` (UTC epoch ns)
  with ``reset_at_offset_s`` (the UTC offset written in the text), ``m_reset_in``/``reset_in_ns``,
  ``m_reset_in_sec``/``reset_in_sec``; ``m_other``: other metadata keys as JSON ("" if none).
  A value that was not a JSON string is kept as its JSON text (and ``body_valid`` is false).

management answers
- ``detail``        for create/get: the returned rate_limit and quota_limit as JSON; never a token.
- ``answer_chars``  an admitted chat: the length of its ``answer`` in characters (0: it said
                    nothing); null for any other record.
- ``citations``     an admitted chat: how many citations it gave; null otherwise.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from harness.api.answer import Answer, ErrorClass, Outcome
from harness.run.clock import ClockOffset

__all__ = [
    "LATE_NS",
    "PROBE_PHASE_PREFIX",
    "RECORD_COLUMNS",
    "RECORD_SCHEMA",
    "Answer",
    "ErrorClass",
    "Origin",
    "Outcome",
    "Record",
    "RequestContext",
    "Times",
    "is_load_chat",
    "per_category",
    "records_to_table",
    "starts_with",
]

# The phases of the set-up's access probes (chats too, but not the load's).
PROBE_PHASE_PREFIX = "access:"
# An open-model send is late when it left more than this after its intended instant.
LATE_NS = 5_000_000


class Origin(NamedTuple):
    """Who sent a request and why."""

    request_id: str
    process: str
    kind: str
    phase: str


class RequestContext(NamedTuple):
    """The request-side columns that stay the same for a simulated client."""

    case: str
    chatbot_id: str
    key_mode: str
    key: str
    source_ip: str
    device_id: str
    forwarded_for: str
    user: str


class Times(NamedTuple):
    """The instants of a request: its send and receive, on the wall and monotonic clocks, and
    (an open model's) the instant it was meant to leave."""

    send_wall_ns: int
    recv_wall_ns: int
    send_mono_ns: int
    recv_mono_ns: int
    intended_send_mono_ns: int | None = None


_Part = TypeVar("_Part", bound=tuple[Any, ...])


class _Latency(NamedTuple):
    latency_ms: float  # recv_mono_ns - send_mono_ns, derived


_PARTS: tuple[type[tuple[Any, ...]], ...] = (
    Origin,
    RequestContext,
    Times,
    ClockOffset,
    _Latency,
    Answer,
)
_ARROW_TYPES: dict[object, pa.DataType] = {
    "str": pa.string(),
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
    "int32": pa.int32(),
}


def _arrow_type(annotation: object) -> pa.DataType:
    """An annotation's Arrow type: str, int, float, bool, their enums, ``Int32``, ``X | None``."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        (inner,) = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _arrow_type(inner)
    if typing.get_origin(annotation) is typing.Annotated:
        return _ARROW_TYPES[typing.get_args(annotation)[1]]
    if isinstance(annotation, type):
        for base in (bool, int, float, str):  # a StrEnum is a str
            if issubclass(annotation, base):
                return _ARROW_TYPES[base.__name__]
    raise TypeError(f"no Arrow type for the record annotation {annotation!r}")


def _fields(part: type[tuple[Any, ...]]) -> list[pa.Field]:
    hints = typing.get_type_hints(part, include_extras=True)
    return [pa.field(name, _arrow_type(hints[name])) for name in part._fields]  # type: ignore[attr-defined]


RECORD_SCHEMA = pa.schema([field for part in _PARTS for field in _fields(part)])
RECORD_COLUMNS: tuple[str, ...] = tuple(RECORD_SCHEMA.names)


@dataclass(frozen=True, slots=True)
class Record:
    """One record as its parts: the plain, row-by-row form (tests, the reference table)."""

    origin: Origin
    context: RequestContext
    times: Times
    offset: ClockOffset
    answer: Answer

    def row(self) -> tuple[object, ...]:
        """The record's values in ``RECORD_COLUMNS`` order."""
        times = self.times
        latency_ms = (times.recv_mono_ns - times.send_mono_ns) / 1e6
        return (*self.origin, *self.context, *times, *self.offset, latency_ms, *self.answer)

    def replace(self, **columns: object) -> Record:
        """This record with some columns changed, by column name (``latency_ms`` is derived)."""
        unknown = set(columns) - set(RECORD_COLUMNS) | ({"latency_ms"} & set(columns))
        if unknown:
            raise TypeError(f"not a settable record column: {sorted(unknown)}")

        return Record.from_columns(
            {**dict(zip(RECORD_COLUMNS, self.row(), strict=True)), **columns}
        )

    @classmethod
    def from_columns(cls, columns: Mapping[str, object]) -> Record:
        """A record from one row of ``RECORD_COLUMNS`` (``latency_ms`` is ignored: derived)."""
        return cls(
            _part(Origin, columns),
            _part(RequestContext, columns),
            _part(Times, columns),
            _part(ClockOffset, columns),
            _part(Answer, columns),
        )


def _part(part: type[_Part], columns: Mapping[str, object]) -> _Part:
    """A record part from its columns (a column left out takes the part's default)."""
    defaults: dict[str, object] = part._field_defaults  # type: ignore[attr-defined]
    names: tuple[str, ...] = part._fields  # type: ignore[attr-defined]
    made: _Part = part._make(  # type: ignore[attr-defined]
        columns[name] if name in columns else defaults[name] for name in names
    )
    return made


def records_to_table(records: Sequence[Record]) -> pa.Table:
    """A column-wise Arrow table of a batch of records, in ``RECORD_SCHEMA``."""
    if not records:
        return RECORD_SCHEMA.empty_table()
    columns = zip(*(record.row() for record in records), strict=True)
    arrays = [
        pa.array(column, type=field.type)
        for column, field in zip(columns, RECORD_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA)


def starts_with(values: pd.Series, prefix: str) -> pd.Series:
    """Which values start with ``prefix`` (a missing value does not). A categorical column is
    tested once per distinct value, not once per row: millions of records, a handful of phases."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        hits = per_category(values, lambda names: names.astype(str).str.startswith(prefix), False)
        return pd.Series(hits, index=values.index)
    return values.astype(str).str.startswith(prefix) & values.notna()


def per_category(
    values: pd.Series, judge: typing.Callable[[pd.Index], npt.ArrayLike], missing: bool | int
) -> npt.NDArray[Any]:
    """``judge`` of a categorical's every row, judged once per category (millions of records,
    a handful of values); a missing value gets ``missing``."""
    judged = np.asarray(judge(values.cat.categories))
    lookup: npt.NDArray[Any] = np.append(judged, np.asarray([missing], dtype=judged.dtype))
    return lookup[values.cat.codes.to_numpy()]  # code -1 (missing) reads the last entry


def is_load_chat(records: pd.DataFrame) -> pd.Series:
    """The load's chat requests among a run's records: chats that are not the set-up's probes."""
    probe = starts_with(records["phase"], PROBE_PHASE_PREFIX)
    chat: pd.Series = (records["kind"] == "chat") & ~probe
    return chat
