"""The CLI tests' fixtures: an emulator in this process for a run to target."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from run_target import API_KEY, Target

from harness.emulator import BackgroundEmulator, EmulatorConfig


@pytest.fixture
def target() -> Iterator[Target]:
    with BackgroundEmulator(EmulatorConfig(api_keys=(SecretStr(API_KEY),))) as emulator:
        yield Target(emulator)
