"""One record per request the harness sends: the only evidence the checks and notebooks read.

A record is a ``Record`` named tuple and a batch a table in ``RECORD_SCHEMA``
(``records_to_table``); the hot path builds the same table column-wise (``row_buffer``).
Batches become Parquet files.
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
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

__all__ = ["RECORD_COLUMNS", "RECORD_SCHEMA", "Record", "records_to_table"]


class Record(NamedTuple):
    request_id: str
    process: str
    kind: str
    phase: str
    case: str
    chatbot_id: str
    key_mode: str
    key: str
    source_ip: str
    device_id: str
    forwarded_for: str
    user: str
    send_wall_ns: int
    recv_wall_ns: int
    send_mono_ns: int
    recv_mono_ns: int
    clock_offset_ns: int
    clock_offset_err_ns: int
    latency_ms: float
    http_status: int
    outcome: str
    grpc_code: int | None
    message: str | None
    reason: str | None
    domain: str | None
    body_valid: bool
    body_error: str
    error_class: str
    response_bytes: int
    m_duration: str | None
    duration_ns: int | None
    m_limit: str | None
    limit: int | None
    m_throttle_message: str | None
    m_vary_by: str | None
    m_wait: str | None
    wait_ns: int | None
    m_wait_sec: str | None
    wait_sec: float | None
    m_reset_at: str | None
    reset_at_ns: int | None
    reset_at_offset_s: int | None
    m_reset_in: str | None
    reset_in_ns: int | None
    m_reset_in_sec: str | None
    reset_in_sec: float | None
    m_other: str
    detail: str


_STRING = pa.string()
_TYPES: dict[str, pa.DataType] = {
    "send_wall_ns": pa.int64(),
    "recv_wall_ns": pa.int64(),
    "send_mono_ns": pa.int64(),
    "recv_mono_ns": pa.int64(),
    "clock_offset_ns": pa.int64(),
    "clock_offset_err_ns": pa.int64(),
    "latency_ms": pa.float64(),
    "http_status": pa.int32(),
    "grpc_code": pa.int32(),
    "body_valid": pa.bool_(),
    "response_bytes": pa.int64(),
    "duration_ns": pa.int64(),
    "limit": pa.int64(),
    "wait_ns": pa.int64(),
    "wait_sec": pa.float64(),
    "reset_at_ns": pa.int64(),
    "reset_at_offset_s": pa.int32(),
    "reset_in_ns": pa.int64(),
    "reset_in_sec": pa.float64(),
}

RECORD_COLUMNS: tuple[str, ...] = Record._fields
RECORD_SCHEMA = pa.schema([pa.field(name, _TYPES.get(name, _STRING)) for name in RECORD_COLUMNS])


def records_to_table(records: list[Record]) -> pa.Table:
    """A column-wise Arrow table of a batch of records, in ``RECORD_SCHEMA``."""
    if not records:
        return RECORD_SCHEMA.empty_table()
    columns = list(zip(*records, strict=True))
    arrays = [
        pa.array(column, type=field.type)
        for column, field in zip(columns, RECORD_SCHEMA, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=RECORD_SCHEMA)
