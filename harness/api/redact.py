"""Text from a server or an exception, made safe for one of our messages.

Messages are one line and never contain a credential: callers pass the secrets in play and every
text that came from the server is scrubbed of them, flattened and bounded.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["one_line", "scrub"]

MAX_SERVER_TEXT = 200  # characters of a server-provided message kept in ours
_REDACTED = "[redacted]"


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every non-empty secret replaced by a marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def one_line(text: str, secrets: Iterable[str] = (), limit: int = MAX_SERVER_TEXT) -> str:
    """A server-provided text made safe for a message: one line, bounded, credentials removed."""
    flat = " ".join(scrub(text, secrets).split())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return flat
