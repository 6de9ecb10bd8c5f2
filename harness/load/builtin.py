"""The built-in scenarios, shipped in the package (``harness/load/scenarios/*.toml``), by name.

``--scenario NAME`` names one (a name has no path separator and no ``.toml``); anything else is a
scenario file's path. The package holds them, so ``aisk-harness`` finds them wherever it is
installed, and ``aisk-harness scenarios`` lists them with the first line of their own comment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ConfigError
from harness.load.scenario import default_scenario_path, load_scenario

__all__ = ["BuiltinScenario", "builtin_scenario", "builtin_scenarios", "scenario_path"]

SCENARIO_DIR = default_scenario_path().parent
LISTED_BY = "`aisk-harness scenarios` lists them"


@dataclass(frozen=True, slots=True)
class BuiltinScenario:
    """A built-in scenario: its name (the file's stem), its file, and what it is for."""

    name: str
    path: Path

    @property
    def summary(self) -> str:
        """What the scenario is for, from its leading comment: the first sentence, up to its
        first colon (the comment's headline; the rest explains the choices)."""
        lines = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("#").strip())
        text = " ".join(line for line in lines if line)
        return text.split(". ")[0].split(": ")[0].rstrip(".") or "(no description)"

    def describe(self) -> str:
        """``duration, N cases: summary``: the scenario read and checked as a run would."""
        scenario = load_scenario(self.path)
        return f"{scenario.duration}, {len(scenario.cases)} cases: {self.summary}"


def builtin_scenarios() -> dict[str, BuiltinScenario]:
    """Every built-in scenario by name, sorted."""
    paths = sorted(SCENARIO_DIR.glob("*.toml"))
    return {path.stem: BuiltinScenario(path.stem, path) for path in paths}


def builtin_scenario(name: str, option: str = "scenario") -> BuiltinScenario:
    """The built-in scenario ``name``, or a one-line error listing them."""
    found = builtin_scenarios().get(name)
    if found is None:
        raise ConfigError(f"{option} {name!r}: no built-in scenario of that name ({_names()})")
    return found


def _is_name(value: str) -> bool:
    return not (os.sep in value or "/" in value or value.endswith(".toml"))


def scenario_path(value: str | None, option: str = "--scenario") -> Path:
    """The file of ``--scenario``: the default built-in one when not given, a built-in one by
    name, else a path; a one-line error listing the built-in names when it is neither."""
    if not value:
        return default_scenario_path()
    builtins = builtin_scenarios()
    if _is_name(value) and value in builtins:
        return builtins[value].path
    path = Path(value)
    if not path.exists():
        raise ConfigError(
            f"{option} {value!r}: neither a built-in scenario ({_names()}) nor a file"
        )
    return path


def _names() -> str:
    return f"built-in: {', '.join(builtin_scenarios())}; {LISTED_BY}"
