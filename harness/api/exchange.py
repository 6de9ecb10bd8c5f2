"""One request of the API and its answer, the same for both clients.

A ``Call`` says what to send (method, path, credential, JSON body, headers) and how to read a
success. ``build_request`` makes the httpx request of it, ``read_answer`` turns the status and the
bounded body into the result or the matching ``AiskError``, and ``transport_error`` names a
failure that left no answer. ``AiskClient`` and ``AsyncAiskClient`` (``client.py``) differ only in
``send`` versus ``await send`` around these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

import httpx
from pydantic import SecretStr

from harness.api.bodies import BodyProblem, describe_problem
from harness.api.error_answers import error_from_response
from harness.api.errors import TransportError, UnexpectedResponseError
from harness.api.redact import one_line
from harness.api.transport import Body, transport_failure

__all__ = [
    "MAX_ANSWER_BYTES",
    "Call",
    "ClientBase",
    "as_secret",
    "build_request",
    "read_answer",
    "transport_error",
]

T = TypeVar("T")

# Management answers are a few KiB; a target sending more is misbehaving, and is not read further.
MAX_ANSWER_BYTES: Final = 8 * 2**20


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One API call: the request to send and the reader of its 2xx body (raises BodyProblem)."""

    method: str
    path: str
    credential: SecretStr | None
    read: Callable[[bytes], T]
    body: dict[str, object] | None = None
    headers: Mapping[str, str] | None = None


def as_secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


def build_request(http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
    headers = httpx.Headers(call.headers)
    secret = call.credential.get_secret_value() if call.credential is not None else ""
    if secret:
        headers["authorization"] = f"Bearer {secret}"
    return http.build_request(call.method, call.path, json=call.body, headers=headers)


def read_answer(call: Call[T], status: int, body: Body, secrets: tuple[str, ...]) -> T:
    """The call's result from an answer read up to ``MAX_ANSWER_BYTES``, or the error it is."""
    where = f"{call.method} {call.path}"
    if body.problem:
        problem = f"the answer is larger than {MAX_ANSWER_BYTES // 2**20} MiB; reading stopped"
        raise UnexpectedResponseError.of_body(status, problem, where)
    if not 200 <= status <= 299:
        raise error_from_response(status, body.data, redact=secrets)
    try:
        return call.read(body.data)
    except BodyProblem as exc:
        problem = describe_problem(exc, secrets)
        raise UnexpectedResponseError.of_body(status, problem, where) from None


def transport_error(
    request: httpx.Request, exc: httpx.RequestError, secrets: tuple[str, ...]
) -> TransportError:
    failure = transport_failure(exc)
    url = request.url
    # netloc has no userinfo; the path is the raw (quoted) one, without any query.
    where = f"{url.scheme}://{url.netloc.decode('ascii')}{url.raw_path.decode('ascii')}"
    where = where.split("?", 1)[0]
    detail = one_line(str(exc), secrets)
    text = f"{request.method} {where}: {failure.label}" + (f" ({detail})" if detail else "")
    return TransportError(
        text,
        method=request.method,
        path=url.path,
        kind=failure.label,
        error_class=failure.error_class,
    )


class ClientBase:
    """What both clients hold: the base URL and the API key, kept out of ``repr``."""

    def __init__(self, base_url: str, api_key: str | SecretStr | None) -> None:
        self._base_url = base_url
        self._api_key = as_secret(api_key)

    @property
    def base_url(self) -> str:
        return self._base_url

    def __repr__(self) -> str:
        key = "None" if self._api_key is None else repr(self._api_key)
        return f"{type(self).__name__}(base_url={self._base_url!r}, api_key={key})"

    def _secrets(self, call: Call[Any]) -> tuple[str, ...]:
        found = (call.credential, self._api_key)
        return tuple(secret.get_secret_value() for secret in found if secret is not None)
