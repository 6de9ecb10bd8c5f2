"""A non-2xx answer classified into the client's error family (``errors.py``).

``error_from_response`` is pure (status and bytes in, exception out). It splits answers by
``answer.outcome_of``, the one classifier the load's records use too, so an answer the records
call a throttle is a ``ThrottledError`` to the client, and a 5xx a ``ServerError``. Classification
is by HTTP status first, then by ErrorInfo reason on 429.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.api.answer import Outcome, outcome_of
from harness.api.bodies import BodyProblem, decode_body, describe_problem
from harness.api.errors import (
    ApiError,
    InvalidArgumentError,
    NotFoundError,
    OutOfQuotaError,
    PermissionDeniedError,
    ServerError,
    ThrottledError,
    UnauthenticatedError,
    UnexpectedResponseError,
)
from harness.api.redact import one_line
from harness.api.status import Status

__all__ = ["error_from_response"]


def _decode_status(body: bytes) -> Status:
    status = decode_body(body, Status)
    if status.code == 0:
        # A Status without a code (or with OK) on an error answer is some other JSON object:
        # an API gateway's {"message": ...}, say.
        raise BodyProblem("body has no non-zero google.rpc.Status 'code'")
    return status


def _limit_error(status: Status, secrets: tuple[str, ...], common: dict[str, Any]) -> ApiError:
    error_info = status.error_info()
    outcome = outcome_of(common["http_status"], error_info.reason if error_info else None)
    if error_info is not None and outcome is Outcome.THROTTLED:
        return ThrottledError.from_error_info(error_info, secrets, common)
    if error_info is not None and outcome is Outcome.OUT_OF_QUOTA:
        return OutOfQuotaError.from_error_info(error_info, secrets, common)
    got = one_line(error_info.reason, secrets) if error_info is not None else "no ErrorInfo"
    problem = f"no documented ErrorInfo reason (got {got or 'an empty reason'})"
    return UnexpectedResponseError(
        f"HTTP {common['http_status']} unexpected answer: {problem}", problem=problem, **common
    )


def _invalid_argument(
    head: str, status: Status, secrets: tuple[str, ...], common: dict[str, Any]
) -> InvalidArgumentError:
    bad_request = status.bad_request()
    violations = list(bad_request.field_violations) if bad_request is not None else []
    fields = "".join(
        f"; field {one_line(v.field, secrets)!r}: {one_line(v.description, secrets)}"
        for v in violations[:3]
    )
    return InvalidArgumentError(f"{head}{fields}", field_violations=violations, **common)


_KINDS: dict[int, tuple[type[ApiError], str]] = {
    401: (UnauthenticatedError, "unauthenticated"),
    403: (PermissionDeniedError, "permission denied"),
    404: (NotFoundError, "not found"),
}


def error_from_response(http_status: int, body: bytes, *, redact: Iterable[str] = ()) -> ApiError:
    """Classify a non-2xx answer into the matching ``ApiError`` subclass; never raises.

    ``redact``: the credentials sent with the request; they are removed from every text taken from
    the body (a server may echo a bad token in its message).
    """
    secrets = tuple(redact)
    try:
        status = _decode_status(body)
    except BodyProblem as exc:
        return UnexpectedResponseError.of_body(http_status, describe_problem(exc, secrets))
    message = one_line(status.message, secrets)
    common: dict[str, Any] = {"http_status": http_status, "status": status, "message": message}
    suffix = f" (code {status.code})" + (f": {message}" if message else "")
    if http_status == 429:
        return _limit_error(status, secrets, common)
    if http_status == 400:
        return _invalid_argument(f"HTTP 400 invalid argument{suffix}", status, secrets, common)
    if http_status in _KINDS:
        cls, label = _KINDS[http_status]
        return cls(f"HTTP {http_status} {label}{suffix}", **common)
    if outcome_of(http_status, None) is Outcome.SERVER_ERROR:
        return ServerError(f"HTTP {http_status} server error{suffix}", **common)
    return ApiError(f"HTTP {http_status} error{suffix}", **common)
