"""The documentation's examples, run, so that a renamed option or field breaks the build and not
the reader. Read from every Markdown page of ``docs/`` and from ``README.md``:

- every TOML block is a scenario, validated by the scenario model;
- every ``aisk-harness ...`` line of a ``sh`` block is parsed by the real argument parser;
- the blocks marked ``<!-- example: run -->`` (``exit=N`` when they end with another code) run
  in order, page by page, in a fresh directory against the embedded emulator, after the blocks
  marked ``<!-- example: file NAME -->`` are written there as NAME.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit import clean_env

from harness.cli.main import build_parser
from harness.load.scenario import load_scenario
from harness.profiles.http import load_http_scenario

ROOT = Path(__file__).resolve().parents[2]
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
BLOCK = re.compile(
    r"^(?:<!-- example: (?P<marker>[^>]*?) -->\n)?```(?P<lang>[\w-]*)\n(?P<body>.*?)^```$",
    re.MULTILINE | re.DOTALL,
)
MARKER = re.compile(r"^(?:run(?: exit=(?P<exit>\d+))?|file (?P<file>[\w.-]+))$")
# A page's runnable blocks, all together: the emulator answers in milliseconds, so these are
# runs of seconds; the bound is for a machine busy with the rest of the suite.
RUN_TIMEOUT_S = 600


@dataclass(frozen=True)
class Block:
    page: Path
    lang: str
    body: str
    marker: str

    def __str__(self) -> str:
        return f"{self.page.relative_to(ROOT)}: {self.body.splitlines()[0] if self.body else ''}"


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    return [Block(page, m["lang"], m["body"], m["marker"] or "") for m in BLOCK.finditer(text)]


ALL = [block for page in PAGES for block in blocks(page)]
TOML = [block for block in ALL if block.lang == "toml"]
SHELL = [block for block in ALL if block.lang == "sh"]
RUN_PAGES = sorted({block.page for block in ALL if block.marker.startswith("run")})
# Pages whose scenarios are the http profile's (``run --profile http``), not the chatbot API's.
HTTP_PAGES = {ROOT / "docs" / "guides" / "any-http.md"}


def test_every_marker_is_understood_and_marks_the_right_kind_of_block() -> None:
    for block in ALL:
        if not block.marker:
            continue
        found = MARKER.match(block.marker)
        assert found, f"{block}: unknown marker {block.marker!r}"
        assert block.lang == ("toml" if found["file"] else "sh"), f"{block}: {block.marker}"
    assert RUN_PAGES, "the docs have lost their runnable examples"
    assert TOML, "the docs have lost their scenario snippets"


@pytest.mark.parametrize("block", TOML, ids=str)
def test_every_toml_snippet_is_a_valid_scenario(block: Block, tmp_path: Path) -> None:
    path = tmp_path / "scenario.toml"
    path.write_text(block.body, encoding="utf-8")
    load = load_http_scenario if block.page in HTTP_PAGES else load_scenario
    assert load(path).cases


def command_lines(body: str) -> list[list[str]]:
    """The ``aisk-harness`` commands of a shell block, as argument lists (leading ``NAME=value``
    assignments, comments and what follows a shell operator dropped; a line continued with
    ``\\`` joined)."""
    commands = []
    for line in body.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = list(lexer)
        operator = next((n for n, w in enumerate(words) if not w.strip("();<>|&")), len(words))
        words = words[:operator]
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            words.pop(0)
        if words and words[0].split("/")[-1] == "aisk-harness":  # .venv/bin/aisk-harness too
            commands.append(words[1:])
    return commands


@pytest.mark.parametrize("block", SHELL, ids=str)
def test_every_command_of_the_docs_parses(block: Block) -> None:
    for argv in command_lines(block.body):
        try:
            build_parser(argv).parse_args(argv)
        except SystemExit as exc:
            pytest.fail(f"{block}: `aisk-harness {shlex.join(argv)}` is refused (exit {exc.code})")


def shim(folder: Path) -> dict[str, str]:
    """An environment whose ``aisk-harness`` is this worktree's, run by this interpreter."""
    folder.mkdir()
    script = folder / "aisk-harness"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m harness.cli.main "$@"\n')
    script.chmod(0o755)
    return clean_env(PATH=f"{folder}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.locust
@pytest.mark.parametrize("page", RUN_PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_the_runnable_examples_run_as_the_page_says(page: Path, tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "harness").symlink_to(ROOT / "harness")  # the pages name its built-in scenarios
    env = shim(tmp_path / "bin")
    for block in blocks(page):
        found = MARKER.match(block.marker)
        if found and found["file"]:
            (work / found["file"]).write_text(block.body, encoding="utf-8")
        elif found:
            result = subprocess.run(
                ["bash", "-e", "-o", "pipefail", "-c", block.body],
                cwd=work,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
            )
            expected = int(found["exit"] or 0)
            assert result.returncode == expected, (
                f"{block}: exit {result.returncode}, the page says {expected}\n"
                + "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            )


def test_a_command_with_a_renamed_option_would_be_caught() -> None:
    (argv,) = command_lines("AISK_API_KEY=k aisk-harness run --scenaro x.toml || true  # typo\n")
    assert argv == ["run", "--scenaro", "x.toml"]
    with pytest.raises(SystemExit):
        build_parser(argv).parse_args(argv)
