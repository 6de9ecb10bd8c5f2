"""The client's error family: what it raises, with the answer's fields as data.

``error_answers.error_from_response`` classifies an error answer into it.

- ``AiskError``: base of everything the client raises.
  - ``TransportError``: no HTTP answer at all (cannot connect, timeout, broken connection).
  - ``ApiError``: an HTTP answer that is not the expected success. Raised as such for a
    well-formed ``google.rpc.Status`` on a status no subclass covers (409, 412, ...: the seeds'
    "default" answer).
    - ``InvalidArgumentError`` (400), ``UnauthenticatedError`` (401),
      ``PermissionDeniedError`` (403), ``NotFoundError`` (404), ``ServerError`` (5xx): each with a
      well-formed Status body.
    - ``ThrottledError`` / ``OutOfQuotaError``: a 429 with the documented ErrorInfo reason.
    - ``UnexpectedResponseError``: an answer outside the contract (see its docstring).

Messages are one line and never contain a credential (``redact.py``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, Self, TypeVar

from harness.api.answer import ErrorClass
from harness.api.redact import one_line
from harness.api.status import ErrorInfo, FieldViolation, Status
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
]

_Info = TypeVar("_Info", ThrottleInfo, QuotaInfo)


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
    summary: ClassVar[str]  # the parsed metadata in a message, formatted from its raw texts

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
        text = f"{head}: {cls.summary.format_map(info.raw)}"
        return cls(text, info=info, metadata_error=None, **common)


class ThrottledError(_LimitError[ThrottleInfo]):
    """HTTP 429 with reason ``ERROR_REASON_PROMPT_THROTTLING``: the rate limit was reached.

    ``info`` is the parsed metadata; if it cannot be parsed, ``info`` is None and
    ``metadata_error`` says which key is missing or garbled (a finding about the target, not ours).
    """

    label = "throttled"
    summary = "wait {wait}"

    @classmethod
    def _parse(cls, error_info: ErrorInfo) -> ThrottleInfo:
        return ThrottleInfo.from_error_info(error_info)


class OutOfQuotaError(_LimitError[QuotaInfo]):
    """HTTP 429 with reason ``ERROR_REASON_PROMPT_OUT_OF_QUOTA``: the daily quota is used up.

    ``info`` and ``metadata_error`` as in ``ThrottledError``.
    """

    label = "out of quota"
    summary = "limit {limit}, resets at {reset_at} (in {reset_in})"

    @classmethod
    def _parse(cls, error_info: ErrorInfo) -> QuotaInfo:
        return QuotaInfo.from_error_info(error_info)


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

    @classmethod
    def of_body(cls, http_status: int, problem: str, call: str = "") -> Self:
        """The error of a body that is not what the answer needs (so no Status is kept);
        ``call`` names the request ("GET /path") where the client knows it."""
        to = f" to {call}" if call else ""
        text = f"HTTP {http_status} unexpected answer{to}: {problem}"
        return cls(text, problem=problem, http_status=http_status)
