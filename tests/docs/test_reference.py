"""The reference pages are generated from the code (``docs/gen_reference.py``): these tests fail
when a committed page no longer says what the code says, and hold the scenario's JSON Schema,
which editors validate against, to the scenario model it is made from."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from harness.api.duration import DurationError, parse_duration
from harness.errors import ConfigError
from harness.load.go_duration import GO_DURATION_PATTERN
from harness.load.scenario import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "docs" / "reference" / "scenario.schema.json"
SCENARIOS = sorted((ROOT / "harness" / "load" / "scenarios").glob("*.toml"))


def test_the_committed_reference_pages_are_what_the_code_says() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "gen_reference.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda path: path.name)
def test_the_built_in_scenarios_satisfy_the_json_schema(path: Path) -> None:
    errors = list(validator().iter_errors(tomllib.loads(path.read_text(encoding="utf-8"))))
    assert not errors, [error.message for error in errors]


BAD: list[tuple[str, dict[str, Any]]] = [
    ("an unknown field", {"cases": [{"name": "a", "behaviour": {"kind": "hammer"}, "x": 1}]}),
    (
        "a duration in words",
        {"duration": "30 sec", "cases": [{"name": "a", "behaviour": {"kind": "hammer"}}]},
    ),
    (
        "a limit of 0",
        {
            "cases": [
                {
                    "name": "a",
                    "behaviour": {"kind": "hammer"},
                    "rate_limit": {"limit": 0, "duration": "1s"},
                }
            ]
        },
    ),
    ("an unknown behaviour", {"cases": [{"name": "a", "behaviour": {"kind": "sprint"}}]}),
    ("no case", {"cases": []}),
]


@pytest.mark.parametrize(("why", "document"), BAD, ids=[why for why, _ in BAD])
def test_the_schema_refuses_what_the_model_refuses(why: str, document: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        parse_scenario(document)
    assert list(validator().iter_errors(document)), why


@pytest.mark.parametrize(
    "text",
    [
        "1m30s",
        "500ms",
        "1.5h",
        "2h45m0.5s",
        ".5s",
        "10us",
        "3µs",
        "30 sec",
        "1m 30s",
        "30",
        "s",
        "1d",
        "-1s",
    ],
)
def test_the_duration_pattern_agrees_with_the_parser(text: str) -> None:
    try:
        parses = parse_duration(text) > 0
    except DurationError:
        parses = False
    assert (re.fullmatch(GO_DURATION_PATTERN, text) is not None) == parses
