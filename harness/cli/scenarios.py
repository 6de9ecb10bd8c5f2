"""``aisk-harness scenarios [NAME]``: the built-in scenarios, listed or one printed.

They ship in the package, so ``--scenario NAME`` works wherever the harness is installed; printing
one is the way to start a scenario of one's own from it (``scenarios default > mine.toml``).
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.load.builtin import builtin_scenario, builtin_scenarios

__all__ = ["add_parser"]


def _handle(args: argparse.Namespace) -> int:
    if args.name is not None:
        print(builtin_scenario(args.name, "NAME").path.read_text(encoding="utf-8"), end="")
        return 0
    found = builtin_scenarios()
    width = max(len(name) for name in found)
    for name, scenario in found.items():
        print(f"{name:<{width}}  {scenario.describe()}")
    print("\nrun one with `aisk-harness run --scenario NAME`; print it with `scenarios NAME`")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scenarios",
        help="list the built-in scenarios, or print one",
        description="List the built-in scenarios (name, duration, cases, what each is for), or "
        "print one's TOML: a start for a scenario of your own.",
    )
    parser.add_argument("name", nargs="?", metavar="NAME", help="a built-in scenario to print")
    parser.set_defaults(handler=_handle)
