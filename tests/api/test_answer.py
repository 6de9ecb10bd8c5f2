"""The answer columns of a record, from the documented bodies and from odd ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from harness.api.answer import Answer, classify_answer, transport_answer, unread_answer
from harness.api.status import ERROR_INFO_TYPE, REASON_OUT_OF_QUOTA, REASON_THROTTLING
from harness.run.records import RECORD_COLUMNS

Fixture = Callable[[str], bytes]
METADATA_COLUMNS = Answer._fields[
    Answer._fields.index("m_duration") : Answer._fields.index("detail")
]


def status_body(code: int, message: str, reason: str, metadata: dict[str, Any]) -> bytes:
    info = {
        "@type": ERROR_INFO_TYPE,
        "reason": reason,
        "domain": "bv.aisk.v1",
        "metadata": metadata,
    }
    return json.dumps({"code": code, "message": message, "details": [info]}).encode()


def test_answer_columns_are_the_record_columns_in_order() -> None:
    start = RECORD_COLUMNS.index("http_status")
    assert RECORD_COLUMNS[start:] == Answer._fields


def test_a_documented_chat_response_is_ok_and_valid(api_fixture: Fixture) -> None:
    body = api_fixture("schema_chat_response.json")
    answer = classify_answer("chat", 200, body)
    assert answer.outcome == "ok"
    assert answer.body_valid is True
    assert answer.body_error == ""
    assert answer.response_bytes == len(body)
    assert answer.grpc_code is None
    assert all(getattr(answer, column) is None for column in METADATA_COLUMNS[:-1])
    assert answer.m_other == ""
    assert (answer.answer_chars, answer.citations) == (len("A cat plays the piano."), 5)


def test_an_empty_chat_answer_is_counted_as_empty_and_not_an_error_of_shape() -> None:
    answer = classify_answer("chat", 200, b'{"answer":"","citations":[]}')
    assert (answer.outcome, answer.body_valid) == ("ok", True)
    assert (answer.answer_chars, answer.citations) == (0, 0)
    refused = classify_answer("chat", 429, b'{"code":8,"message":"x","details":[]}')
    assert (refused.answer_chars, refused.citations) == (None, None)


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"answer": 5}', "not a ChatResponse: answer: "),
        (b"[1, 2]", "not a ChatResponse: body: "),
        (b"<html>ok</html>", "body is not JSON"),
        (b"", "body is empty"),
    ],
)
def test_a_200_that_is_not_a_chat_response_is_ok_but_invalid(body: bytes, why: str) -> None:
    answer = classify_answer("chat", 200, body)
    assert answer.outcome == "ok"
    assert answer.body_valid is False
    assert answer.body_error.startswith(why)


def test_a_200_to_delete_must_be_a_json_object() -> None:
    assert classify_answer("delete_chatbot", 200, b"{}").body_valid is True
    not_object = classify_answer("delete_chatbot", 200, b"[]")
    assert (not_object.body_valid, not_object.body_error) == (False, "body is not a JSON object")
    not_json = classify_answer("delete_chatbot", 200, b"\xff")
    assert (not_json.body_valid, not_json.body_error) == (False, "body is not JSON")


def test_the_documented_throttle_429(api_fixture: Fixture) -> None:
    body = api_fixture("seed_429_throttling.json")
    answer = classify_answer("chat", 429, body)
    assert answer._asdict() == {
        "http_status": 429,
        "outcome": "throttled",
        "grpc_code": 8,
        "message": "throttle",
        "reason": REASON_THROTTLING,
        "domain": "bv.aisk.v1",
        "body_valid": True,
        "body_error": "",
        "error_class": "",
        "response_bytes": len(body),
        "m_duration": "1m0s",
        "duration_ns": 60_000_000_000,
        "m_limit": "5",
        "limit": 5,
        "m_throttle_message": "Too many messages in a row",
        "m_vary_by": "RATE_LIMIT_VARY_BY_DEVICE_ID",
        "m_wait": "36.581786s",
        "wait_ns": 36_581_786_000,
        "m_wait_sec": "36.581786",
        "wait_sec": 36.581786,
        "m_reset_at": None,
        "reset_at_ns": None,
        "reset_at_offset_s": None,
        "m_reset_in": None,
        "reset_in_ns": None,
        "m_reset_in_sec": None,
        "reset_in_sec": None,
        "m_other": "",
        "detail": "",
        "answer_chars": None,
        "citations": None,
    }


def test_the_documented_quota_429(api_fixture: Fixture) -> None:
    answer = classify_answer("chat", 429, api_fixture("seed_429_out_of_quota.json"))
    reset_at = datetime(2024, 1, 5, 16, 0, 0, tzinfo=UTC)
    assert answer.outcome == "out_of_quota"
    assert answer.reason == REASON_OUT_OF_QUOTA
    assert answer.body_valid is True
    assert answer.m_limit == "100"
    assert answer.limit == 100
    assert answer.m_reset_at == "2024-01-06T00:00:00+08:00"
    assert answer.reset_at_ns == int(reset_at.timestamp()) * 1_000_000_000
    assert answer.reset_at_offset_s == 8 * 3600
    assert answer.m_reset_in == "11h18m33.091627s"
    assert answer.reset_in_ns == ((11 * 60 + 18) * 60 + 33) * 10**9 + 91_627_000
    assert answer.m_reset_in_sec == "40713.091627"
    assert answer.reset_in_sec == 40713.091627
    assert answer.m_duration is None
    assert answer.wait_ns is None


def test_metadata_numbers_are_kept_as_json_text_and_make_the_body_invalid() -> None:
    metadata = {"duration": "1s", "limit": 5, "wait_sec": 1.5, "wait": "1.5s"}
    answer = classify_answer("chat", 429, status_body(8, "t", REASON_THROTTLING, metadata))
    assert answer.outcome == "throttled"
    assert answer.body_valid is False
    assert "metadata.limit" in answer.body_error
    assert (answer.m_limit, answer.limit) == ("5", 5)
    assert (answer.m_wait_sec, answer.wait_sec) == ("1.5", 1.5)
    assert answer.wait_ns == 1_500_000_000


def test_a_nested_metadata_value_is_kept_as_json_text() -> None:
    metadata = {"limit": {"value": "5"}}
    answer = classify_answer("chat", 429, status_body(8, "t", REASON_THROTTLING, metadata))
    assert answer.m_limit == '{"value": "5"}'
    assert answer.limit is None
    assert answer.body_valid is False


@pytest.mark.parametrize(
    ("column", "raw", "parsed"),
    [
        ("limit", "five", None),
        ("limit", "-1", None),
        ("limit", "+5", None),
        ("limit", "\u0665", None),  # a digit, but not an ASCII one
        ("wait", "36.5", None),  # Go's duration needs a unit
        ("wait_sec", "NaN", None),
        ("wait_sec", "inf", None),
        ("reset_at", "2024-01-06 00:00:00", None),
    ],
)
def test_unparseable_metadata_keeps_the_raw_text(column: str, raw: str, parsed: None) -> None:
    answer = classify_answer("chat", 429, status_body(8, "t", REASON_THROTTLING, {column: raw}))
    assert getattr(answer, f"m_{column}") == raw
    parsed_column = {"wait": "wait_ns", "reset_at": "reset_at_ns"}.get(column, column)
    assert getattr(answer, parsed_column) is parsed


def test_a_503_that_says_throttle_is_a_server_error() -> None:
    body = status_body(14, "throttle", REASON_THROTTLING, {"wait": "1s"})
    answer = classify_answer("chat", 503, body)
    assert answer.outcome == "server_error"
    assert answer.reason == REASON_THROTTLING
    assert answer.wait_ns == 1_000_000_000


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (502, b"<html><body>Bad Gateway</body></html>", "server_error"),
        (500, b"", "server_error"),
        (429, b"", "client_error"),
        (429, b'{"code": 8, "message": "thro', "client_error"),
        (429, b"<html>Too Many Requests</html>", "client_error"),
        (429, b"[" * 100_000, "client_error"),  # nested past json's recursion limit
    ],
)
def test_bodies_that_are_not_json(status: int, body: bytes, outcome: str) -> None:
    answer = classify_answer("chat", status, body)
    assert answer.outcome == outcome
    assert answer.body_valid is False
    assert answer.body_error == ("body is not JSON" if body else "body is empty")
    assert answer.error_class == ("not_json" if body else "empty")
    assert answer.response_bytes == len(body)
    assert answer.reason is None


@pytest.mark.parametrize(
    ("body", "error_class"), [(b"", "empty"), (b"<html>ok</html>", "not_json")]
)
def test_a_200_whose_body_is_unusable_is_admitted_and_says_why(
    body: bytes, error_class: str
) -> None:
    answer = classify_answer("chat", 200, body)
    assert (answer.outcome, answer.body_valid, answer.error_class) == ("ok", False, error_class)


def test_a_valid_answer_has_no_error_class() -> None:
    assert classify_answer("chat", 200, b'{"answer":"hi","citations":[]}').error_class == ""
    assert classify_answer("delete_chatbot", 200, b"[]").error_class == ""  # JSON, wrong shape


@pytest.mark.parametrize(
    ("status", "outcome"), [(200, "ok"), (429, "client_error"), (503, "server_error")]
)
def test_an_answer_whose_body_was_not_read_whole_keeps_its_status(
    status: int, outcome: str
) -> None:
    answer = unread_answer(status, "too_large", "body larger than 1048576 bytes", 1 << 20)
    assert (answer.http_status, answer.outcome, answer.error_class) == (
        status,
        outcome,
        "too_large",
    )
    assert answer.body_valid is False
    assert answer.reason is None  # a 429 whose reason was not read is neither throttle nor quota
    assert answer.response_bytes == 1 << 20


def test_a_deeply_nested_200_to_delete_is_not_json() -> None:
    answer = classify_answer("delete_chatbot", 200, b"[" * 100_000)
    assert (answer.outcome, answer.body_valid, answer.body_error) == (
        "ok",
        False,
        "body is not JSON",
    )


def test_a_429_without_an_error_info_is_invalid() -> None:
    answer = classify_answer("chat", 429, b'{"code": 8, "message": "slow down"}')
    assert answer.outcome == "client_error"
    assert answer.body_valid is False
    assert answer.body_error == "429 without an ErrorInfo"
    assert answer.grpc_code == 8


def test_a_status_of_the_wrong_shape_says_why() -> None:
    answer = classify_answer("chat", 400, b'{"code": "three", "message": 3}')
    assert answer.outcome == "client_error"
    assert answer.body_valid is False
    assert answer.body_error.startswith("not a google.rpc.Status: code: ")
    assert answer.grpc_code is None
    assert answer.message is None


def test_a_404_status_without_details_is_a_valid_client_error() -> None:
    answer = classify_answer("get_chatbot", 404, b'{"code": 5, "message": "not found"}')
    assert (answer.outcome, answer.body_valid, answer.grpc_code) == ("client_error", True, 5)


def test_a_429_with_an_unknown_reason_is_a_client_error() -> None:
    answer = classify_answer("chat", 429, status_body(8, "no", "ERROR_REASON_SOMETHING_ELSE", {}))
    assert answer.outcome == "client_error"
    assert answer.reason == "ERROR_REASON_SOMETHING_ELSE"
    assert answer.body_valid is True


def test_unknown_metadata_keys_go_to_m_other() -> None:
    metadata = {"limit": "5", "zone": "Asia/Taipei", "algorithm": "sliding-log"}
    answer = classify_answer("chat", 429, status_body(8, "t", REASON_THROTTLING, metadata))
    assert json.loads(answer.m_other) == {"zone": "Asia/Taipei", "algorithm": "sliding-log"}
    assert answer.m_other == json.dumps(
        {"algorithm": "sliding-log", "zone": "Asia/Taipei"}, sort_keys=True
    )
    assert answer.limit == 5


def test_a_leniently_read_error_info_still_gives_the_outcome() -> None:
    # A suffix match on @type, as a gateway with another type URL prefix would send it.
    body = json.dumps(
        {
            "code": 8,
            "details": [
                {"@type": "example.com/Help"},
                {"@type": "google.rpc.ErrorInfo", "reason": REASON_OUT_OF_QUOTA},
            ],
        }
    ).encode()
    assert classify_answer("chat", 429, body).outcome == "out_of_quota"


def test_a_create_chatbot_answer_keeps_the_settings_as_detail(api_fixture: Fixture) -> None:
    answer = classify_answer("create_chatbot", 200, api_fixture("seed_chatbot.json"))
    assert answer.outcome == "ok"
    assert answer.body_valid is True
    chatbot = json.loads(api_fixture("seed_chatbot.json"))["chatbot"]
    assert json.loads(answer.detail) == {
        "rate_limit": chatbot["rate_limit"],
        "quota_limit": chatbot["quota_limit"],
    }


def test_transport_answer_columns() -> None:
    answer = transport_answer("timeout", "read timed out " + "x" * 500)
    assert answer.http_status == 0
    assert answer.outcome == "transport_error"
    assert answer.error_class == "timeout"
    assert answer.body_valid is False
    assert answer.body_error.startswith("read timed out ")
    assert len(answer.body_error) == 200
    assert answer.response_bytes == 0
    assert answer.grpc_code is None
    assert all(getattr(answer, column) is None for column in METADATA_COLUMNS[:-1])
    assert (answer.m_other, answer.detail) == ("", "")
    assert len(answer) == len(Answer._fields)
