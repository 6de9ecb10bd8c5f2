"""An emulator of the chatbot API: the default target, with an injectable clock and faults.

It imports only ``harness.api`` among the harness's packages.
"""

from __future__ import annotations

from harness.emulator.app import build_app
from harness.emulator.clock import Clock, ManualClock, SystemClock
from harness.emulator.config import EmulatorConfig, LatencyRange
from harness.emulator.limiter import Algorithm
from harness.emulator.policy import CORRECT, FAULTS, Fault, Policy, policy_for
from harness.emulator.server import BackgroundEmulator, base_url_of, bind, serve
from harness.emulator.service import EmulatorService
from harness.emulator.training import Training

__all__ = [
    "CORRECT",
    "FAULTS",
    "Algorithm",
    "BackgroundEmulator",
    "Clock",
    "EmulatorConfig",
    "EmulatorService",
    "Fault",
    "LatencyRange",
    "ManualClock",
    "Policy",
    "SystemClock",
    "Training",
    "base_url_of",
    "bind",
    "build_app",
    "policy_for",
    "serve",
]
