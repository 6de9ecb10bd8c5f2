"""A scenario's ``[chat]``: questions inline or from a file, validated with one line per problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import ConfigError
from harness.load.chat_spec import DEFAULT_QUESTION
from harness.load.scenario import load_scenario

CASE = '[[cases]]\nname = "c"\nbehaviour = { kind = "hammer" }\n'


def scenario(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s.toml"
    path.write_text(text + "\n" + CASE)
    return path


def test_without_a_chat_table_every_chat_asks_the_default_question(tmp_path: Path) -> None:
    loaded = load_scenario(scenario(tmp_path, ""))
    chat = loaded.chat_of(loaded.cases[0])
    assert chat.questions == [DEFAULT_QUESTION]
    assert (chat.kb_ids, chat.language, chat.session) == ([], "en", "per-key")
    assert chat.allow_empty_answers is False


def test_a_questions_file_is_read_relative_to_the_scenario_blank_lines_skipped(
    tmp_path: Path,
) -> None:
    (tmp_path / "q").mkdir()
    (tmp_path / "q" / "asked.txt").write_text("first?\n\n  second?  \n")
    loaded = load_scenario(scenario(tmp_path, '[chat]\nquestions_file = "q/asked.txt"'))
    assert loaded.chat.questions == ["first?", "second?"]
    assert loaded.chat.questions_file is None  # the settings carry the questions themselves


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ('[chat]\nquestions_file = "missing.txt"', "chat.questions_file: cannot read"),
        ('[chat]\nquestions_file = "empty.txt"', "holds no question"),
        ("[chat]\nquestions = []", "chat.questions"),
        ('[chat]\nquestions = ["a"]\nquestions_file = "empty.txt"', "not both"),
        ('[chat]\nsession = "sticky"', "chat.session"),
        ('[chat]\nkb_id = ["x"]', "chat.kb_id"),
    ],
)
def test_a_bad_chat_table_is_one_line_naming_the_field(
    tmp_path: Path, table: str, named: str
) -> None:
    (tmp_path / "empty.txt").write_text("\n\n")
    with pytest.raises(ConfigError) as caught:
        load_scenario(scenario(tmp_path, table))
    assert named in str(caught.value)
    assert "\n" not in str(caught.value).strip()
