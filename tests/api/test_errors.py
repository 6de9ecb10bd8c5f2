"""error_from_response: each documented answer to its exception, parsed, without secrets."""

from __future__ import annotations

import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from harness.api import (
    BAD_REQUEST_TYPE,
    ERROR_INFO_TYPE,
    AiskError,
    ApiError,
    InvalidArgumentError,
    NotFoundError,
    OutOfQuotaError,
    PermissionDeniedError,
    ServerError,
    ThrottledError,
    TransportError,
    UnauthenticatedError,
    UnexpectedResponseError,
    error_from_response,
)
from harness.api.answer import ErrorClass

FIXTURES = Path(__file__).parent / "fixtures"
SECRET = "sk-TEST-5ecret-9f3a"


def seed(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def status_body(code: int, message: str = "", details: list[dict[str, Any]] | None = None) -> bytes:
    return json.dumps({"code": code, "message": message, "details": details or []}).encode()


def throttle_body(**metadata: str | None) -> bytes:
    document = json.loads(seed("seed_429_throttling.json"))
    for key, value in metadata.items():
        if value is None:
            del document["details"][0]["metadata"][key]
        else:
            document["details"][0]["metadata"][key] = value
    return json.dumps(document).encode()


def test_documented_throttle_answer() -> None:
    error = error_from_response(429, seed("seed_429_throttling.json"))
    assert type(error) is ThrottledError
    assert str(error) == "HTTP 429 throttled: wait 36.581786s"
    assert error.http_status == 429
    assert error.grpc_code == 8
    assert error.message == "throttle"
    assert error.reason == "ERROR_REASON_PROMPT_THROTTLING"
    assert error.metadata_error is None
    assert error.info is not None
    assert error.info.wait_ns == 36_581_786_000
    assert error.info.limit == 5
    assert error.status is not None
    assert error.status.code == 8


def test_documented_out_of_quota_answer() -> None:
    error = error_from_response(429, seed("seed_429_out_of_quota.json"))
    assert type(error) is OutOfQuotaError
    assert str(error) == (
        "HTTP 429 out of quota: limit 100, resets at 2024-01-06T00:00:00+08:00 "
        "(in 11h18m33.091627s)"
    )
    assert error.grpc_code == 8
    assert error.message == "out of quota"
    assert error.info is not None
    assert error.info.reset_at == datetime(2024, 1, 6, tzinfo=timezone(timedelta(hours=8)))
    assert error.info.reset_in_ns == 40_713_091_627_000


def test_unreadable_throttle_metadata_is_reported_not_raised() -> None:
    error = error_from_response(429, throttle_body(wait="soon", wait_sec=None))
    assert type(error) is ThrottledError
    assert error.info is None
    assert error.metadata_error is not None
    assert "'wait'" in error.metadata_error
    assert str(error).startswith("HTTP 429 throttled, with unreadable metadata: metadata 'wait'")


def test_unreadable_quota_metadata_is_reported_not_raised() -> None:
    document = json.loads(seed("seed_429_out_of_quota.json"))
    document["details"][0]["metadata"]["reset_at"] = "tomorrow"
    error = error_from_response(429, json.dumps(document).encode())
    assert type(error) is OutOfQuotaError
    assert error.info is None
    assert error.metadata_error is not None
    assert "'reset_at'" in error.metadata_error


@pytest.mark.parametrize(
    ("details", "got"),
    [
        ([], "no ErrorInfo"),
        ([{"@type": ERROR_INFO_TYPE, "reason": "ERROR_REASON_SOMETHING_NEW"}], "SOMETHING_NEW"),
        ([{"@type": ERROR_INFO_TYPE}], "an empty reason"),
    ],
)
def test_a_429_without_a_documented_reason_is_unexpected(
    details: list[dict[str, Any]], got: str
) -> None:
    error = error_from_response(429, status_body(8, "slow down", details))
    assert type(error) is UnexpectedResponseError
    assert error.status is not None  # the Status itself was fine: keep it for the record
    assert error.grpc_code == 8
    assert error.message == "slow down"
    assert got in error.problem
    assert got in str(error)


@pytest.mark.parametrize(
    ("http_status", "code", "cls", "text"),
    [
        (401, 16, UnauthenticatedError, "HTTP 401 unauthenticated (code 16): no token"),
        (403, 7, PermissionDeniedError, "HTTP 403 permission denied (code 7): no token"),
        (404, 5, NotFoundError, "HTTP 404 not found (code 5): no token"),
        (500, 13, ServerError, "HTTP 500 server error (code 13): no token"),
        (503, 14, ServerError, "HTTP 503 server error (code 14): no token"),
        (409, 6, ApiError, "HTTP 409 error (code 6): no token"),
    ],
)
def test_status_answers_map_to_their_kind(
    http_status: int, code: int, cls: type[ApiError], text: str
) -> None:
    error = error_from_response(http_status, status_body(code, "no token"))
    assert type(error) is cls
    assert str(error) == text
    assert error.http_status == http_status
    assert error.grpc_code == code
    assert error.message == "no token"
    assert error.reason is None


def test_invalid_argument_carries_field_violations() -> None:
    violations = [
        {"field": "chatbot.name", "description": "must not be empty"},
        {"field": "chatbot.rate_limit.setting.duration", "description": "invalid duration"},
    ]
    body = status_body(
        3, "invalid chatbot", [{"@type": BAD_REQUEST_TYPE, "field_violations": violations}]
    )
    error = error_from_response(400, body)
    assert type(error) is InvalidArgumentError
    assert [(v.field, v.description) for v in error.field_violations] == [
        (v["field"], v["description"]) for v in violations
    ]
    assert str(error) == (
        "HTTP 400 invalid argument (code 3): invalid chatbot; "
        "field 'chatbot.name': must not be empty; "
        "field 'chatbot.rate_limit.setting.duration': invalid duration"
    )


def test_invalid_argument_without_bad_request_has_no_violations() -> None:
    error = error_from_response(400, status_body(3, "bad"))
    assert type(error) is InvalidArgumentError
    assert error.field_violations == []


def test_without_a_message_the_code_still_shows() -> None:
    assert str(error_from_response(404, status_body(5))) == "HTTP 404 not found (code 5)"


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "not JSON"),
        (b"", "empty"),
        (b"  \r\n", "empty"),
        (b'{"code": 8, "message": "thr', "not JSON"),
        (b"[1, 2]", "an array"),
        (b'"error"', "a string, not a JSON object"),
        (b"null", "null, not a JSON object"),
        (b"42", "a number, not a JSON object"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not JSON"),
        (b'{"message": "Internal server error"}', "non-zero"),
        (b'{"code": 0, "message": "string", "details": [{"@type": "string"}]}', "non-zero"),
        (b'{"code": "eight"}', "code"),
        (b'{"code": 8, "details": "none"}', "details"),
    ],
)
def test_bodies_that_are_not_a_status_are_unexpected(body: bytes, problem: str) -> None:
    error = error_from_response(502, body)
    assert type(error) is UnexpectedResponseError
    assert error.status is None
    assert error.grpc_code is None
    assert error.message == ""
    assert error.http_status == 502
    assert problem in error.problem
    assert str(error) == f"HTTP 502 unexpected answer: {error.problem}"


def test_the_placeholder_status_of_the_seeds_is_not_an_error_answer() -> None:
    # The seeds show {"code": 0, ...} for every error status: a schema placeholder, code OK.
    error = error_from_response(400, seed("seed_status.json"))
    assert type(error) is UnexpectedResponseError


def test_messages_are_one_bounded_line() -> None:
    body = status_body(13, "line one\nline two\r\n\tline three " + "x" * 1000)
    text = str(error_from_response(500, body))
    assert "\n" not in text
    assert "\r" not in text
    assert "\t" not in text
    assert text.startswith("HTTP 500 server error (code 13): line one line two line three x")
    assert len(text) < 300


def secret_bearing_answers() -> list[tuple[int, bytes]]:
    metadata_key = {"@type": ERROR_INFO_TYPE, "reason": "X", "metadata": {SECRET: 5}}
    return [
        (401, status_body(16, f"token {SECRET} is not valid")),
        (429, status_body(8, SECRET, [{"@type": ERROR_INFO_TYPE, "reason": SECRET}])),
        (429, throttle_body(wait=f"Bearer {SECRET}")),
        (
            400,
            status_body(
                3,
                "bad",
                [
                    {
                        "@type": BAD_REQUEST_TYPE,
                        "field_violations": [{"field": SECRET, "description": f"was {SECRET}"}],
                    }
                ],
            ),
        ),
        # A validation error names the offending key; here the key is the secret.
        (429, json.dumps({"code": 8, "details": [metadata_key]}).encode()),
    ]


@pytest.mark.parametrize(("http_status", "body"), secret_bearing_answers())
def test_echoed_credentials_are_redacted(http_status: int, body: bytes) -> None:
    error = error_from_response(http_status, body, redact=[SECRET])
    assert SECRET not in str(error)
    assert SECRET not in repr(error)
    assert all(SECRET not in str(arg) for arg in error.args)
    assert SECRET not in error.message
    assert SECRET not in (getattr(error, "metadata_error", None) or "")
    assert SECRET not in getattr(error, "problem", "")
    assert "[redacted]" in str(error)


@given(
    st.integers(min_value=300, max_value=599),
    st.text(max_size=60),
    st.text(max_size=60),
)
def test_any_echoed_secret_is_redacted(http_status: int, before: str, after: str) -> None:
    error = error_from_response(
        http_status, status_body(13, before + SECRET + after), redact=[SECRET]
    )
    assert SECRET not in str(error)
    assert "\n" not in str(error)


@given(st.integers(min_value=300, max_value=599), st.binary(max_size=200))
def test_any_body_classifies_without_raising(http_status: int, body: bytes) -> None:
    error = error_from_response(http_status, body)
    assert isinstance(error, ApiError)
    assert error.http_status == http_status
    assert str(error).startswith(f"HTTP {http_status} ")


@pytest.mark.parametrize(
    "error",
    [
        error_from_response(429, seed("seed_429_throttling.json")),
        error_from_response(429, seed("seed_429_out_of_quota.json")),
        error_from_response(502, b"<html>"),
        error_from_response(400, status_body(3, "bad", [{"@type": BAD_REQUEST_TYPE}])),
        TransportError(
            "GET http://x/y: cannot connect",
            method="GET",
            path="/y",
            kind="cannot connect",
            error_class=ErrorClass.CONNECT,
        ),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_survive_pickling(error: AiskError) -> None:
    # Locust workers and multiprocessing pools move exceptions between processes.
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.__dict__ == error.__dict__


def test_one_family() -> None:
    for cls in (TransportError, ApiError, ThrottledError, OutOfQuotaError, UnexpectedResponseError):
        assert issubclass(cls, AiskError)
    assert not issubclass(TransportError, ApiError)
