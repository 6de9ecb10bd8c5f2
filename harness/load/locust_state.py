"""What one Locust process of a run knows: the set-up, the slots, and where its records go.

Set-up happens once, on the master (or the single local process); workers receive it in one
``aisk_setup`` message before any user is spawned, and claim slots from the master one at a time.
"""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from gevent.event import AsyncResult, Event
from pydantic import SecretStr

from harness.load.budget import SlotShare, split_budget
from harness.load.keys import KeyPlan, plan_keys, url_host
from harness.load.locust_recorder import Recorder
from harness.load.scenario import Scenario
from harness.load.schedule import Slot, build_slots

__all__ = ["CaseSetup", "LoadState", "state_of"]

SETUP_WAIT_S = 120.0
CLAIM_WAIT_S = 30.0


@dataclass(frozen=True, slots=True)
class CaseSetup:
    chatbot_id: str
    token: SecretStr


class LoadState:
    """The run as this process sees it. ``role`` is local, master or worker."""

    def __init__(self, environment: Any, role: str, request_timeout_s: float) -> None:
        self.environment = environment
        self.role = role
        self.request_timeout_s = request_timeout_s
        self.host: str = environment.host or ""
        self.run_id = ""
        self.scenario: Scenario | None = None
        self.setups: dict[str, CaseSetup] = {}
        self.plans: dict[str, list[KeyPlan]] = {}
        self.slots: list[Slot] = []
        self.shares: list[SlotShare] = []
        self.recorder: Recorder  # set by the hooks before any user starts
        self.ready = Event()
        self._next_slot = itertools.count()
        self._claims: dict[str, AsyncResult] = {}

    def install(
        self,
        run_id: str,
        scenario: Scenario,
        setups: dict[str, CaseSetup],
        forwarded_for: bool,
        max_requests: int | None = None,
        max_rps: float | None = None,
    ) -> None:
        """Take the run's set-up and derive the slots and their budget shares (the same on every
        process).

        Users wait for ``ready``, which the caller sets once the process may send.
        """
        self.run_id = run_id
        self.scenario = scenario
        self.setups = setups
        host = url_host(self.host)
        self.plans = plan_keys(scenario, run_id, target_host=host, forwarded_for=forwarded_for)
        self.slots = build_slots(scenario, self.plans)
        self.shares = split_budget(self.slots, max_requests, max_rps)

    def setup_for(self, case: str) -> CaseSetup:
        return self.setups[case]

    def next_slot_index(self) -> int:
        """The master's (or local process's) dispenser: -1 once every slot is taken."""
        index = next(self._next_slot)
        return index if index < len(self.slots) else -1

    def claim_slot(self) -> Slot | None:
        """A slot for a newly started user, or None (no set-up in time, or no slot left)."""
        if not self.ready.wait(SETUP_WAIT_S):
            return None
        if self.role != "worker":
            index = self.next_slot_index()
        else:
            nonce = uuid.uuid4().hex
            result: AsyncResult = AsyncResult()
            self._claims[nonce] = result
            runner = self.environment.runner
            runner.send_message("aisk_claim", {"nonce": nonce, "client_id": runner.client_id})
            try:
                index = int(result.get(timeout=CLAIM_WAIT_S))
            except Exception:
                return None
            finally:
                self._claims.pop(nonce, None)
        return self.slots[index] if index >= 0 else None

    def answer_claim(self, nonce: str, index: int) -> None:
        result = self._claims.get(nonce)
        if result is not None:
            result.set(index)


def state_of(environment: Any) -> LoadState:
    state = getattr(environment, "aisk_state", None)
    if not isinstance(state, LoadState):
        raise RuntimeError("the aisk-harness locustfile hooks are not registered")
    return state
