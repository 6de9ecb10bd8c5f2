"""``aisk-harness``: one entry point, a subcommand per job.

Each subcommand lives in its own module exposing ``add_parser(subparsers)``, which registers the
subcommand and sets ``handler`` (``argparse.Namespace -> int``) as a default. Errors of the harness
(``HarnessError``) end the command with a one-line reason and their exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from harness.errors import HarnessError
from harness.versions import harness_version

# Modules that register a subcommand (``harness.cli.<command>``), in the order `--help` lists
# them.
SUBCOMMAND_MODULES = (
    "harness.cli.run",
    "harness.cli.check",
    "harness.cli.report",
    "harness.cli.serve",
    "harness.cli.worker",
    "harness.cli.capacity",
    "harness.cli.compare",
    "harness.cli.history",
    "harness.cli.scenarios",
)


class OneLineParser(argparse.ArgumentParser):
    """An argument error is one line naming the option and what it expects (argparse's own
    words), exit code 2; ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _modules_for(argv: Sequence[str]) -> tuple[str, ...]:
    """The modules whose subcommands the parser needs: only the one named, when the command line
    starts with a subcommand (``run`` need not import what ``compare`` and ``capacity`` import:
    1.2 s of every start here); every one for ``--help``, no command or an unknown one."""
    named = f"harness.cli.{argv[0]}" if argv else ""
    return (named,) if named in SUBCOMMAND_MODULES else SUBCOMMAND_MODULES


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for ``argv``: every subcommand, or only the one ``argv`` starts with."""
    parser = OneLineParser(
        prog="aisk-harness",
        description="Load and rate-limit conformance harness for the AI Skills chat API.",
    )
    parser.add_argument("--version", action="version", version=f"aisk-harness {harness_version()}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=OneLineParser
    )
    for module_name in _modules_for(argv):
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # an argument error (its line printed) or --help
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code: int = args.handler(args)
    except HarnessError as exc:
        print(f"aisk-harness {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"aisk-harness {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
