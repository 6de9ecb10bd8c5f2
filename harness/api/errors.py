"""The client's error family, and the classification of an error answer into it.

``error_from_response`` is pure (status and bytes in, exception out). It splits answers by
``answer.outcome_of``, the one classifier the load's records use too, so an answer the records
call a throttle is a ``ThrottledError`` to the client, and a 5xx a ``ServerError``.

- ``AiskError``: base of everything the client raises.
  - ``TransportError``: no HTTP answer at all (cannot connect, timeout, broken connection).
  - ``ApiError``: an HTTP answer that is not the expected success. Raised as such for a
    well-formed ``google.rpc.Status`` on a status no subclass covers (409, 412, ...: the seeds'
    "default" answer). Classification is by HTTP status first, then by ErrorInfo reason on 429.
    - ``InvalidArgumentError`` (400), ``UnauthenticatedError`` (401),
      ``PermissionDeniedError`` (403), ``NotFoundError`` (404), ``ServerError`` (5xx): each with a
      well-formed Status body.
    - ``ThrottledError`` / ``OutOfQuotaError``: a 429 with the documented ErrorInfo reason.
    - ``UnexpectedResponseError``: an answer outside the contract (see its docstring).

Messages are one line and never contain a credential: callers pass the secrets in play as
``redact`` and every text that came from the server is scrubbed of them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, ClassVar, Generic, Self, TypeVar

from pydantic import BaseModel, ValidationError

from harness.api.answer import ErrorClass, Outcome, outcome_of
from harness.api.status import (
    ErrorInfo,
    FieldViolation,
    Status,
)
from harness.api.views import MetadataError, QuotaInfo, ThrottleInfo

__all__ = [
    "AiskError",
    "ApiError",
    "InvalidArgumentError",
    "NotFoundError",
    "OutOfQuotaError",
    "PermissionDeniedError",
    "ServerError",
    "ThrottledError",
    "TransportError",
    "UnauthenticatedError",
    "UnexpectedResponseError",
    "error_from_response",
]

M = TypeVar("M", bound=BaseModel)
_Info = TypeVar("_Info", ThrottleInfo, QuotaInfo)

_MAX_SERVER_TEXT = 200  # characters of a server-provided message kept in ours
_MAX_PROBLEM_TEXT = 400  # characters of a description of a malformed body
_REDACTED = "[redacted]"


def _restore(cls: type[AiskError], args: tuple[Any, ...], state: dict[str, Any]) -> AiskError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class AiskError(Exception):
    """Base of the client's errors: a problem talking to the API, with a one-line message."""

    def __reduce__(self) -> tuple[Any, ...]:
        # The subclasses take keyword-only fields, which Exception's default pickling cannot pass;
        # Locust workers and multiprocessing pools pickle exceptions.
        return (_restore, (type(self), self.args, dict(self.__dict__)))


class TransportError(AiskError):
    """No HTTP answer: the connection failed, timed out or broke.

    ``kind`` names the failure in words ("cannot connect", "read timeout"); ``error_class`` is the
    same failure as a record's ``error_class`` (``harness.api.transport``).
    """

    def __init__(
        self, text: str, *, method: str, path: str, kind: str, error_class: ErrorClass
    ) -> None:
        super().__init__(text)
        self.method = method
        self.path = path
        self.kind = kind
        self.error_class = error_class


class ApiError(AiskError):
    """An HTTP answer other than the expected success.

    ``http_status`` is the answer's status; ``status`` the parsed ``google.rpc.Status`` (None if
    the body was not one); ``grpc_code`` its ``code``; ``message`` the server's message, on one
    line and with credentials removed ("" without a Status). ``str(error)`` is the harness's
    one-line summary. ``status`` is the answer as received, for the records: never print it.
    """

    def __init__(
        self,
        text: str,
        *,
        http_status: int,
        status: Status | None = None,
        message: str = "",
    ) -> None:
        super().__init__(text)
        self.http_status = http_status
        self.status = status
        self.grpc_code: int | None = status.code if status is not None else None
        self.message = message

    @property
    def reason(self) -> str | None:
        """The ErrorInfo reason of the Status, if it has one."""
        info = self.status.error_info() if self.status is not None else None
        return info.reason if info is not None else None


class InvalidArgumentError(ApiError):
    """HTTP 400: gRPC 3 (or 9, 11, which the gateway also maps to 400).

    ``field_violations`` come from the BadRequest detail; empty if there is none.
    """

    def __init__(self, text: str, *, field_violations: list[FieldViolation], **common: Any) -> None:
        super().__init__(text, **common)
        self.field_violations = field_violations


class UnauthenticatedError(ApiError):
    """HTTP 401 (gRPC 16): the authorization header was missing or not recognised."""


class PermissionDeniedError(ApiError):
    """HTTP 403 (gRPC 7): the credential may not use this resource or API."""


class NotFoundError(ApiError):
    """HTTP 404 (gRPC 5): no such chatbot."""


class ServerError(ApiError):
    """HTTP 5xx with a well-formed Status body (gRPC 13 internal, 14 unavailable, ...)."""


class _LimitError(ApiError, Generic[_Info]):
    """A 429 with one of the two documented ErrorInfo reasons, its metadata parsed."""

    label: ClassVar[str]

    def __init__(
        self, text: str, *, info: _Info | None, metadata_error: str | None, **common: Any
    ) -> None:
        super().__init__(text, **common)
        self.info: _Info | None = info
        self.metadata_error: str | None = metadata_error

    @classmethod
    def _parse(cls, error_info: ErrorInfo) -> _Info:
        raise NotImplementedError

    @classmethod
    def _describe(cls, info: _Info) -> str:
        raise NotImplementedError

    @classmethod
    def from_error_info(
        cls, error_info: ErrorInfo, secrets: tuple[str, ...], common: dict[str, Any]
    ) -> Self:
        head = f"HTTP {common['http_status']} {cls.label}"
        try:
            info = cls._parse(error_info)
        except MetadataError as exc:
            problem = one_line(str(exc), secrets)
            text = f"{head}, with unreadable metadata: {problem}"
            return cls(text, info=None, metadata_error=problem, **common)
        return cls(f"{head}: {cls._describe(info)}", info=info, metadata_error=None, **common)


class ThrottledError(_LimitError[ThrottleInfo]):
    """HTTP 429 with reason ``ERROR_REASON_PROMPT_THROTTLING``: the rate limit was reached.

    ``info`` is the parsed metadata; if it cannot be parsed, ``info`` is None and
    ``metadata_error`` says which key is missing or garbled (a finding about the target, not ours).
    """

    label = "throttled"

    @classmethod
    def _parse(cls, error_info: ErrorInfo) -> ThrottleInfo:
        return ThrottleInfo.from_error_info(error_info)

    @classmethod
    def _describe(cls, info: ThrottleInfo) -> str:
        return f"wait {info.raw['wait']}"


class OutOfQuotaError(_LimitError[QuotaInfo]):
    """HTTP 429 with reason ``ERROR_REASON_PROMPT_OUT_OF_QUOTA``: the daily quota is used up.

    ``info`` and ``metadata_error`` as in ``ThrottledError``.
    """

    label = "out of quota"

    @classmethod
    def _parse(cls, error_info: ErrorInfo) -> QuotaInfo:
        return QuotaInfo.from_error_info(error_info)

    @classmethod
    def _describe(cls, info: QuotaInfo) -> str:
        raw = info.raw
        return f"limit {raw['limit']}, resets at {raw['reset_at']} (in {raw['reset_in']})"


class UnexpectedResponseError(ApiError):
    """An answer outside the documented contract.

    - a non-2xx answer whose body is not a ``google.rpc.Status`` JSON object with a non-zero
      ``code`` (an HTML page from a proxy, an empty or truncated body, a JSON array, ...);
      ``status`` is None;
    - a 429 whose Status carries neither documented ErrorInfo reason; ``status`` is set;
    - a 2xx whose body does not validate as the expected answer; ``status`` is None.

    ``problem`` says what was wrong, without quoting the body.
    """

    def __init__(self, text: str, *, problem: str, **common: Any) -> None:
        super().__init__(text, **common)
        self.problem = problem


class BodyProblem(ValueError):
    """A body that is not the expected JSON object; the message describes it without quoting it."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by a marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def one_line(text: str, secrets: Iterable[str] = (), limit: int = _MAX_SERVER_TEXT) -> str:
    """A server-provided text made safe for a message: one line, bounded, credentials removed."""
    flat = " ".join(scrub(text, secrets).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat


def describe_problem(problem: BodyProblem, secrets: Iterable[str] = ()) -> str:
    """A ``BodyProblem`` for a message: it may name keys of the body, so it is scrubbed too."""
    return one_line(str(problem), secrets, _MAX_PROBLEM_TEXT)


def _summarise(error: ValidationError) -> str:
    # include_input=False: the offending value may be anything the server sent, secrets included.
    parts = []
    for item in error.errors(include_url=False, include_input=False)[:3]:
        where = ".".join(str(part) for part in item["loc"]) or "body"
        parts.append(f"{where}: {item['msg']}")
    more = error.error_count() - len(parts)
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def decode_body(body: bytes, model: type[M]) -> M:
    """Parse ``body`` as a JSON object and validate it as ``model``; raise ``BodyProblem``."""
    if not body.strip():
        raise BodyProblem("body is empty")
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BodyProblem(f"body is not JSON ({len(body)} bytes)") from None
    if not isinstance(value, dict):
        raise BodyProblem(f"body is {_JSON_KINDS.get(type(value), 'not')}, not a JSON object")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise BodyProblem(f"body is not a valid {model.__name__}: {_summarise(exc)}") from None


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
        problem = describe_problem(exc, secrets)
        return UnexpectedResponseError(
            f"HTTP {http_status} unexpected answer: {problem}",
            problem=problem,
            http_status=http_status,
        )
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
