"""The error envelope ``google.rpc.Status`` and the details this API sends.

Every non-2xx answer of the API is a Status: ``{"code", "message", "details": [{"@type", ...}]}``.
Details are decoded by their ``@type``; a type we do not know is kept as it came.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import Discriminator, Field, Tag

from harness.api.chatbot import WireModel

__all__ = [
    "BAD_REQUEST_TYPE",
    "DOMAIN",
    "ERROR_INFO_TYPE",
    "GRPC_TO_HTTP",
    "REASON_OUT_OF_QUOTA",
    "REASON_THROTTLING",
    "AnyDetail",
    "BadRequest",
    "ErrorInfo",
    "FieldViolation",
    "GrpcCode",
    "Status",
]

ERROR_INFO_TYPE: Final = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST_TYPE: Final = "type.googleapis.com/google.rpc.BadRequest"
DOMAIN: Final = "bv.aisk.v1"
REASON_THROTTLING: Final = "ERROR_REASON_PROMPT_THROTTLING"
REASON_OUT_OF_QUOTA: Final = "ERROR_REASON_PROMPT_OUT_OF_QUOTA"


class GrpcCode:
    """The google.rpc.Code values this API uses (``googleapis/google/rpc/code.proto``)."""

    OK: Final = 0
    INVALID_ARGUMENT: Final = 3
    NOT_FOUND: Final = 5
    PERMISSION_DENIED: Final = 7
    RESOURCE_EXHAUSTED: Final = 8
    FAILED_PRECONDITION: Final = 9
    INTERNAL: Final = 13
    UNAVAILABLE: Final = 14
    UNAUTHENTICATED: Final = 16


# grpc-gateway's HTTPStatusFromCode (runtime/errors.go), the mapping the documented answers follow.
GRPC_TO_HTTP: Final[dict[int, int]] = {
    0: 200,
    1: 499,
    2: 500,
    3: 400,
    4: 504,
    5: 404,
    6: 409,
    7: 403,
    8: 429,
    9: 400,
    10: 409,
    11: 400,
    12: 501,
    13: 500,
    14: 503,
    15: 500,
    16: 401,
}


class ErrorInfo(WireModel):
    type_url: str = Field(default=ERROR_INFO_TYPE, alias="@type")
    reason: str = ""
    domain: str = ""
    # map<string, string> in the proto: every value is a JSON string ("limit": "5", never 5).
    metadata: dict[str, str] = Field(default_factory=dict)


class FieldViolation(WireModel):
    field: str = ""
    description: str = ""


class BadRequest(WireModel):
    type_url: str = Field(default=BAD_REQUEST_TYPE, alias="@type")
    field_violations: list[FieldViolation] = Field(default_factory=list)


class AnyDetail(WireModel):
    """A detail of a type this harness does not model; its fields are kept as extras."""

    type_url: str = Field(alias="@type")


def _detail_tag(value: Any) -> str:
    type_url = value.get("@type") if isinstance(value, dict) else getattr(value, "type_url", None)
    if type_url == ERROR_INFO_TYPE:
        return "error_info"
    if type_url == BAD_REQUEST_TYPE:
        return "bad_request"
    return "any"


Detail = Annotated[
    Annotated[ErrorInfo, Tag("error_info")]
    | Annotated[BadRequest, Tag("bad_request")]
    | Annotated[AnyDetail, Tag("any")],
    Discriminator(_detail_tag),
]


class Status(WireModel):
    code: int = 0
    message: str = ""
    details: list[Detail] = Field(default_factory=list)

    def error_infos(self) -> list[ErrorInfo]:
        return [detail for detail in self.details if isinstance(detail, ErrorInfo)]

    def error_info(self) -> ErrorInfo | None:
        """The first ErrorInfo: AIP-193 allows exactly one."""
        infos = self.error_infos()
        return infos[0] if infos else None

    def bad_request(self) -> BadRequest | None:
        for detail in self.details:
            if isinstance(detail, BadRequest):
                return detail
        return None
