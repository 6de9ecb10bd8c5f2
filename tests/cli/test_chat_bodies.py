"""A scenario's chat bodies reach the target, and an answer that says nothing is no answer.

``[chat]`` (questions from a file, kb_ids, language) and a case's own ``chat`` are what the load
asks: the emulator remembers the questions and knowledge bases it was asked. An admitted chat
with an empty ``answer`` is counted on its own in the summary and fails ``well-formed``, unless
the case's chat allows empty answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr
from run_target import API_KEY, run

from harness.emulator import BackgroundEmulator, EmulatorConfig, policy_for

SCENARIO = """
name = "bodies"
duration = "2s"

[chat]
questions_file = "questions.txt"
kb_ids = ["kb-manual", "kb-faq"]
language = "zh-TW"

[[cases]]
name = "asks"
behaviour = { kind = "paced", rate = 10 }
population = { keys = 2 }

[[cases]]
name = "own-question"
behaviour = { kind = "paced", rate = 10 }
population = { keys = 1 }
chat = { questions = ["What does the premium plan include?"], allow_empty_answers = ALLOW }
"""
QUESTIONS = ["How do I reset my password?", "", "  Which plans include live chat?  "]


def _scenario(tmp_path: Path, allow: bool) -> Path:
    (tmp_path / "questions.txt").write_text("\n".join(QUESTIONS) + "\n")
    path = tmp_path / "bodies.toml"
    path.write_text(SCENARIO.replace("ALLOW", "true" if allow else "false"))
    return path


def _run(tmp_path: Path, fault: str | None, allow: bool) -> tuple[int, str, dict[str, object]]:
    config = EmulatorConfig(api_keys=(SecretStr(API_KEY),), policy=policy_for(fault))
    with BackgroundEmulator(config) as emulator:
        done = run(
            ["--target", emulator.base_url, "--api-key", API_KEY, "--no-calibrate",
             "--scenario", str(_scenario(tmp_path, allow)), "--out", str(tmp_path / "run")],
            tmp_path,
        )  # fmt: skip
        stats = emulator.service.snapshot()
    return done.returncode, done.stdout + done.stderr, stats


def test_the_scenarios_questions_and_kb_ids_are_what_the_target_is_asked(tmp_path: Path) -> None:
    code, output, stats = _run(tmp_path, None, allow=False)
    assert code in (0, 3), output[-3000:]  # no throttles in this scenario: some checks idle
    assert stats["questions"] == sorted(
        ["How do I reset my password?", "Which plans include live chat?",
         "What does the premium plan include?"]
    )  # fmt: skip
    assert stats["kb_ids"] == ["kb-faq", "kb-manual"]
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    well_formed = next(c for c in verdict["checks"] if c["id"] == "well-formed")
    assert well_formed["outcome"] == "pass"


@pytest.mark.parametrize("allow", [False, True])
def test_an_empty_answer_is_shown_and_fails_well_formed_unless_the_case_allows_it(
    tmp_path: Path, allow: bool
) -> None:
    code, output, _ = _run(tmp_path, "empty-answer", allow)
    verdict = json.loads((tmp_path / "run" / "verdict.json").read_text())
    well_formed = next(c for c in verdict["checks"] if c["id"] == "well-formed")
    # Case "asks" never allows it: well-formed fails either way, citing the cases that do not.
    assert well_formed["outcome"] == "fail", output[-3000:]
    assert code == 1
    assert "admitted chats answered nothing" in well_formed["summary"]
    cited = {proof["case"] for proof in well_formed["proofs"] if proof["kind"] == "empty-answer"}
    assert cited == ({"asks"} if allow else {"asks", "own-question"})
    # The summary after the load shows them in a column of their own, whether allowed or not.
    rows = [line.split() for line in output.splitlines()]
    at = next(n for n, row in enumerate(rows) if row[:1] == ["case"] and "empty_answer" in row)
    column = rows[at].index("empty_answer")
    own = next(row for row in rows[at:] if row[:1] == ["own-question"])
    assert int(own[column]) > 0
