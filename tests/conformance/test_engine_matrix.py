"""The fault matrix over real limiters: each third-party engine on a real Redis, at LAN latency
and at a language model's, is held to what its library really does.

A correct engine is CONFORMANT and its family named; an engine with a documented quirk fails
exactly the checks its quirk is meant for, and the failing finding names the family it assumed.
The expectations below are the table of ``docs/guides/real-limiters.md``; with
``AISK_ENGINE_TABLE=rows.jsonl`` set, each run appends its row (engine, profile, family,
verdict, failed checks) there, which is how that table is re-measured.

The engines read the wall clock (``time.time()``, Redis ``TIME``): these runs are real-time, and
the checks' tolerances come from the latency each run measures, as in any run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from testkit import clean_env

from harness.emulator.engines import Engine

pytestmark = pytest.mark.locust

SCENARIO = Path(__file__).with_name("engines.toml")
RUN_TIMEOUT_S = 240
PROFILES = {
    "lan": ("--latency", "5ms..30ms"),
    "llm": (
        "--latency",
        "5ms..30ms",
        "--model-latency",
        "400ms..1600ms",
        "--decision-delay",
        "0ms..20ms",
    ),
}


@dataclass(frozen=True)
class Expected:
    """What a run of the engine must show: the family named (None: not asserted), the checks
    its quirk is meant to fail (none: CONFORMANT) and the words the first of them must say, and
    checks the same quirk may also fail in some runs (none may fail beyond these)."""

    family: str | None
    fails: frozenset[str] = frozenset()
    names: tuple[str, ...] = ()
    also: frozenset[str] = frozenset()


EXPECTED: dict[Engine, Expected] = {
    Engine.LIMITS_MOVING_WINDOW: Expected("sliding-log"),
    Engine.THROTTLED_GCRA: Expected("token-bucket"),
    # Refuses below the limit by design (the previous window weighted): under-admission, named.
    # Its reset is when the weighted count next drops, not when a request would be admitted: a
    # wait of 0 (throttle-metadata) or one that is not what is left (wait-honesty) at times.
    Engine.LIMITS_SLIDING_WINDOW_COUNTER: Expected(
        "sliding-window-counter",
        frozenset({"under-admission"}),
        ("a sliding-window counter's approximation does",),
        frozenset({"throttle-metadata", "wait-honesty"}),
    ),
    # The reset is Redis TTL, whole seconds rounded to the nearest: waits up to 0.5 s too long
    # or too short (wait-honesty), and a wait of 0 in the last half second of a window or just
    # over the duration (throttle-metadata, when a throttle falls there).
    Engine.LIMITS_FIXED_WINDOW: Expected(
        None,
        frozenset({"wait-honesty"}),
        ("longer than the time really left", "was throttled again", "retry instant moved"),
        frozenset({"throttle-metadata"}),
    ),
    # Redis TIME in whole seconds and the fractional refill dropped on every admission: throttles
    # below the limit (under-admission); retry_after rounded up to whole seconds: waits too long
    # (wait-honesty, when a retry lands inside the rounding).
    Engine.THROTTLED_TOKEN_BUCKET: Expected(
        "token-bucket-whole-seconds",
        frozenset({"under-admission"}),
        ("a token bucket that loses its fractional refill does",),
        frozenset({"wait-honesty"}),
    ),
}
CORRECT = [engine for engine, expected in EXPECTED.items() if not expected.fails]


def run_engine(tmp_path: Path, engine: Engine, profile: str) -> tuple[int, dict[str, Any], str]:
    run_dir = tmp_path / "run"
    command = [sys.executable, "-m", "harness.cli.main", "run", "--scenario", str(SCENARIO)]
    command += ["--limiter", engine.value, "--out", str(run_dir), "--no-report"]
    done = subprocess.run(
        [*command, *PROFILES[profile]],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    verdict_file = run_dir / "verdict.json"
    assert verdict_file.is_file(), done.stderr[-3000:]
    return done.returncode, json.loads(verdict_file.read_text()), done.stdout


def failed(verdict: dict[str, Any]) -> dict[str, str]:
    """Each failing check's summary."""
    return {c["id"]: c["summary"] for c in verdict["checks"] if c["outcome"] == "fail"}


def _record_row(engine: Engine, profile: str, verdict: dict[str, Any]) -> None:
    out = os.environ.get("AISK_ENGINE_TABLE")
    if not out:
        return
    row = {
        "engine": engine.value,
        "profile": profile,
        "family": verdict["algorithm"],
        "status": verdict["status"],
        "failed": sorted(failed(verdict)),
    }
    with open(out, "a", encoding="utf-8") as rows:
        rows.write(json.dumps(row) + "\n")


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("engine", list(EXPECTED))
def test_each_engine_gets_the_verdict_its_library_earns(
    engine: Engine, profile: str, tmp_path: Path
) -> None:
    code, verdict, stdout = run_engine(tmp_path, engine, profile)
    _record_row(engine, profile, verdict)
    expected = EXPECTED[engine]
    fails = failed(verdict)
    assert expected.fails <= set(fails) <= expected.fails | expected.also, stdout[-4000:]
    for check in expected.fails:
        assert any(words in fails[check] for words in expected.names), stdout[-4000:]
    assert verdict["status"] == ("not-conformant" if expected.fails else "conformant"), stdout
    assert code == (1 if expected.fails else 0)
    if expected.family is not None:
        assert verdict["algorithm"] == expected.family, stdout[-4000:]


@pytest.mark.slow
@pytest.mark.parametrize("repetition", range(5))
@pytest.mark.parametrize("engine", CORRECT)
def test_correct_engines_never_fail_at_llm_latency(
    engine: Engine, repetition: int, tmp_path: Path
) -> None:
    code, verdict, stdout = run_engine(tmp_path, engine, "llm")
    assert failed(verdict) == {}, stdout[-4000:]
    assert code == 0
    assert verdict["algorithm"] == EXPECTED[engine].family
