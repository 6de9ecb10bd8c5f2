"""The entry point: every subcommand in ``--help``, and a subcommand's start importing only it."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys

import pytest
from testkit import clean_env

from harness.cli.main import SUBCOMMAND_MODULES, build_parser, main

# What only other subcommands import (compare's statistics and charts, the capacity sweeps).
OTHERS_HEAVY = ("scipy", "matplotlib", "harness.compare", "harness.capacity")


def _imported_after(argv: list[str]) -> set[str]:
    """The modules of ``OTHERS_HEAVY`` a fresh interpreter has imported once it parsed ``argv``
    (the pytest process has imported everything already)."""
    script = (
        "import sys; from harness.cli.main import build_parser; "
        f"build_parser({argv!r}); "
        f"print(','.join(m for m in {OTHERS_HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=clean_env(), capture_output=True, text=True, check=True
    )
    return set(filter(None, done.stdout.strip().split(",")))


def test_starting_run_or_check_imports_none_of_the_other_subcommands_libraries() -> None:
    assert _imported_after(["run", "--duration", "5s"]) == set()
    assert _imported_after(["check", "reports/runs/x"]) == set()
    # Without a subcommand every one is registered, so --help lists them all.
    assert _imported_after([]) == set(OTHERS_HEAVY)


def test_help_lists_every_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    listed = capsys.readouterr().out
    for module in SUBCOMMAND_MODULES:
        # argparse puts a name longer than its column ("scenarios") on a line of its own
        assert re.search(rf"^    {module.rsplit('.', 1)[1]}\s", listed, re.MULTILINE), module


def test_an_unknown_subcommand_names_every_one_it_could_have_been(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rnu"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "invalid choice: 'rnu' (choose from 'run', 'check', 'report', 'serve'" in error


def test_a_named_subcommand_parses_as_with_every_one_registered() -> None:
    argv = ["run", "--duration", "7s", "--users", "3"]
    alone = vars(build_parser(argv).parse_args(argv))
    everything = vars(build_parser().parse_args(argv))
    assert alone.keys() == everything.keys()
    assert {k: v for k, v in alone.items() if k != "handler"} == {
        k: v for k, v in everything.items() if k != "handler"
    }


def test_no_help_shows_a_doubled_percent_sign() -> None:
    # argparse expands %-escapes in an option's help but not in a description: '95%%' there
    # reads as typed.
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    pages = [parser.format_help()] + [sub.format_help() for sub in subparsers.choices.values()]
    assert len(pages) == len(SUBCOMMAND_MODULES) + 1
    for page in pages:
        assert "%%" not in page
        assert "%(" not in page
