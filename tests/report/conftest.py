"""A real run, made once per session: the quick scenario against an emulator in this process.

The emulator runs here so the tests know every secret the run used (both organisations' keys
and every chatbot token it minted) and can look for them in the report. ``from conftest import
...`` is fragile: helpers come as fixtures (``harness``, ``capacity_fixture``).
``aisk-harness run`` is run as a user would, without ``--no-report``, so the report it writes
is the one under test.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from testkit import clean_env

from harness.emulator import BackgroundEmulator, EmulatorConfig, LatencyRange

QUICK = Path(__file__).resolve().parents[1] / "conformance" / "quick.toml"
CAPACITY_FIXTURE = Path(__file__).resolve().parent / "capacity.json"
API_KEYS = ("org-key-report-tests-8c2f", "second-org-key-report-tests-41aa")
RUN_TIMEOUT_S = 180


@dataclass
class MadeRun:
    run_dir: Path
    done: subprocess.CompletedProcess[str]
    secrets: list[str] = field(default_factory=list)


def harness_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "harness.cli.main", *args]


def run_harness(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        harness_command(*args), cwd=cwd, env=clean_env(), capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )  # fmt: skip


@pytest.fixture(scope="session")
def harness() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``aisk-harness ARGS...`` in a subprocess (cwd= keyword), without AISK_* variables."""
    return run_harness


@pytest.fixture(scope="session")
def capacity_fixture() -> Path:
    """A capacity.json as the capacity search writes it (8 steps, knee, capacity, errors)."""
    return CAPACITY_FIXTURE


@pytest.fixture(scope="session")
def made_run(tmp_path_factory: pytest.TempPathFactory) -> MadeRun:
    """A 3-second run of the quick scenario (11 cases, quota and throttles), with its report."""
    base = tmp_path_factory.mktemp("report-run")
    config = EmulatorConfig(
        api_keys=tuple(SecretStr(key) for key in API_KEYS),
        latency=LatencyRange(5_000_000, 30_000_000),
    )
    tokens: list[str] = []
    with BackgroundEmulator(config) as emulator:
        store = emulator.service.store
        mint = store.mint

        def remembering_mint(entry: Any) -> str:
            token: str = mint(entry)
            tokens.append(token)
            return token

        store.mint = remembering_mint  # type: ignore[method-assign]
        run_dir = base / "run"
        done = run_harness(
            "run", "--target", emulator.base_url, "--api-key", API_KEYS[0],
            "--second-api-key", API_KEYS[1], "--scenario", str(QUICK), "--duration", "3s",
            "--out", str(run_dir), cwd=base,
        )  # fmt: skip
    return MadeRun(run_dir, done, [*API_KEYS, *tokens])
