"""The report's words for a case table's "no answer" column: why those requests got none.

A capacity search stops its users mid-request, so its overview counts a few requests without an
answer that the target never failed; a reader seeing "8 no answer" must not have to guess
whether the target dropped them.
"""

from __future__ import annotations

import pandas as pd

from harness.api.answer import ErrorClass, Outcome

__all__ = ["unanswered_note"]

WHY: dict[str, str] = {
    ErrorClass.INTERRUPTED.value: "were in flight when the run stopped them "
    "(the harness's own stop, not the target's doing)",
    ErrorClass.TIMEOUT.value: "got no whole answer within the request timeout",
    ErrorClass.CONNECT.value: "could not connect (refused or unreachable)",
    ErrorClass.RESET.value: "had their connection reset or closed before any answer",
    ErrorClass.TRUNCATED.value: "were cut short mid-answer",
    ErrorClass.PROTOCOL.value: "got an answer that was not HTTP",
}


def unanswered_note(chats: pd.DataFrame) -> str | None:
    """One sentence on the load's requests without an answer, by why (None when there are none)."""
    missing = chats.loc[chats["outcome"] == Outcome.TRANSPORT_ERROR.value, "error_class"]
    if missing.empty:
        return None
    counts = missing.astype(str).value_counts()
    parts = [f"{count} {WHY.get(str(name), 'failed otherwise')}" for name, count in counts.items()]
    return f"**No answer** ({len(missing)} requests): " + "; ".join(parts) + "."
