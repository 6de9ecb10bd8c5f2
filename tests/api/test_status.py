"""google.rpc.Status: details decoded by @type, and the gateway's code-to-HTTP mapping."""

from __future__ import annotations

import pytest

from harness.api import (
    BAD_REQUEST_TYPE,
    ERROR_INFO_TYPE,
    GRPC_TO_HTTP,
    AnyDetail,
    BadRequest,
    ErrorInfo,
    GrpcCode,
    Status,
)


@pytest.mark.parametrize(
    ("code", "http_status"),
    [
        (GrpcCode.INVALID_ARGUMENT, 400),
        (GrpcCode.NOT_FOUND, 404),
        (GrpcCode.PERMISSION_DENIED, 403),
        (GrpcCode.RESOURCE_EXHAUSTED, 429),
        (GrpcCode.INTERNAL, 500),
        (GrpcCode.UNAVAILABLE, 503),
        (GrpcCode.UNAUTHENTICATED, 401),
    ],
)
def test_grpc_codes_map_to_the_documented_http_statuses(code: int, http_status: int) -> None:
    assert GRPC_TO_HTTP[code] == http_status


def test_every_grpc_code_has_an_http_status() -> None:
    assert sorted(GRPC_TO_HTTP) == list(range(17))


def test_details_are_decoded_by_type() -> None:
    status = Status.model_validate(
        {
            "code": 3,
            "message": "invalid chatbot",
            "details": [
                {
                    "@type": BAD_REQUEST_TYPE,
                    "field_violations": [{"field": "chatbot.name", "description": "required"}],
                },
                {"@type": ERROR_INFO_TYPE, "reason": "ERROR_REASON_X", "domain": "bv.aisk.v1"},
                {"@type": "type.googleapis.com/google.rpc.Help", "links": []},
            ],
        }
    )
    assert [type(detail) for detail in status.details] == [BadRequest, ErrorInfo, AnyDetail]
    bad_request = status.bad_request()
    assert bad_request is not None
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("chatbot.name", "required")
    ]
    error_info = status.error_info()
    assert error_info is not None
    assert error_info.reason == "ERROR_REASON_X"


def test_a_status_without_details_has_no_error_info() -> None:
    status = Status.model_validate({"code": 13, "message": "internal"})
    assert status.error_info() is None
    assert status.bad_request() is None


def test_the_first_error_info_wins() -> None:
    status = Status.model_validate(
        {
            "code": 8,
            "details": [
                {"@type": ERROR_INFO_TYPE, "reason": "FIRST"},
                {"@type": ERROR_INFO_TYPE, "reason": "SECOND"},
            ],
        }
    )
    assert [info.reason for info in status.error_infos()] == ["FIRST", "SECOND"]
    error_info = status.error_info()
    assert error_info is not None
    assert error_info.reason == "FIRST"


def test_a_detail_without_type_is_rejected() -> None:
    with pytest.raises(ValueError, match="@type"):
        Status.model_validate({"code": 8, "details": [{"reason": "X"}]})
