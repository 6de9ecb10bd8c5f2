"""What a scenario's chats ask: questions, knowledge bases, language, and the session policy.

A real chatbot answers from its knowledge bases; a load that asks one question with no
``kb_ids`` measures a model answering nothing in particular. A scenario's ``[chat]`` table (or a
case's own ``chat``) says what to send: ``questions`` (cycled request by request) or
``questions_file`` (one per line, relative to the scenario file: read when the scenario is
loaded, so the settings carry the questions to every worker), ``kb_ids``, ``language``,
``session``, and whether an admitted answer may be empty (``allow_empty_answers``; by default
an empty ``answer`` with status 200 fails ``well-formed``: a model that said nothing did not
answer).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from harness.errors import ConfigError

__all__ = ["DEFAULT_QUESTION", "ChatSpec", "resolve_questions_files"]

DEFAULT_QUESTION = "How many messages may I send per minute?"
MAX_QUESTION_CHARS = 16_384  # the emulator's bound, and a generous one for a real question
MAX_QUESTIONS = 100_000

Question = Annotated[str, StringConstraints(min_length=1, max_length=MAX_QUESTION_CHARS)]
KbId = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class ChatSpec(BaseModel):
    """The body of every chat of a case. ``session``: ``per-key`` (the clients of a key share a
    session, each device its conversation: a user on a page) or ``per-request`` (a new session
    and conversation every request: a stateless integration)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    questions: list[Question] = Field(
        default_factory=lambda: [DEFAULT_QUESTION], min_length=1, max_length=MAX_QUESTIONS
    )
    questions_file: str | None = None
    kb_ids: list[KbId] = Field(default_factory=list, max_length=100)
    language: Annotated[str, StringConstraints(min_length=2, max_length=35)] = "en"
    session: Literal["per-key", "per-request"] = "per-key"
    allow_empty_answers: bool = False

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("questions_file") and "questions" in data:
            raise ValueError("give questions or questions_file, not both")
        return data


def _read_questions(path: Path, where: str) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # a BOM is no question
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {str(path)!r}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: {str(path)!r} is not UTF-8 text") from None
    questions = [line.strip() for line in lines if line.strip()]
    if not questions:
        raise ConfigError(f"{where}: {str(path)!r} holds no question (one per line)")
    too_long = next((n for n, q in enumerate(questions, 1) if len(q) > MAX_QUESTION_CHARS), None)
    if too_long is not None:
        raise ConfigError(
            f"{where}: question {too_long} of {str(path)!r} is longer than "
            f"{MAX_QUESTION_CHARS} characters"
        )
    if len(questions) > MAX_QUESTIONS:
        raise ConfigError(f"{where}: {str(path)!r} holds more than {MAX_QUESTIONS} questions")
    return questions


def resolve_questions_files(document: dict[str, Any], scenario: Path) -> None:
    """Every ``chat`` table of a raw scenario document (``[chat]``, each case's) resolved."""
    tables = [("chat", document.get("chat"))]
    cases = document.get("cases")
    for index, case in enumerate(cases if isinstance(cases, list) else []):
        tables.append((f"cases[{index}].chat", case.get("chat") if isinstance(case, dict) else 0))
    for where, table in tables:
        if isinstance(table, dict):
            _resolve(table, scenario.parent, f"{scenario}: {where}.questions_file")


def _resolve(document: dict[str, Any], base: Path, where: str) -> None:
    """Replace ``questions_file`` in a raw ``chat`` table by the file's questions (in place)."""
    name = document.get("questions_file")
    if not name:
        return
    if "questions" in document:
        raise ConfigError(f"{where}: give questions or questions_file, not both")
    path = Path(str(name))
    document["questions"] = _read_questions(path if path.is_absolute() else base / path, where)
    document["questions_file"] = None
