"""The overview says why requests got no answer, so "8 no answer" is never left to a guess."""

from __future__ import annotations

import pandas as pd

from harness.report.unanswered import unanswered_note


def test_requests_without_an_answer_are_counted_by_why() -> None:
    chats = pd.DataFrame(
        {
            "outcome": ["ok", "transport_error", "transport_error", "transport_error", "throttled"],
            "error_class": ["", "interrupted", "interrupted", "timeout", ""],
        }
    )
    assert unanswered_note(chats) == (
        "**No answer** (3 requests): 2 were in flight when the run stopped them (the harness's "
        "own stop, not the target's doing); 1 got no whole answer within the request timeout."
    )


def test_every_answer_came_says_nothing() -> None:
    chats = pd.DataFrame({"outcome": ["ok", "throttled"], "error_class": ["", ""]})
    assert unanswered_note(chats) is None
