"""The emulator's capacity: at most N answers at once, the rest in FIFO order, 503 past the queue.

Concurrency is counted, not timed: the simulated model's work is an event the test releases.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from harness.emulator import EmulatorConfig, EmulatorService, LatencyRange, ManualClock
from harness.emulator.chat import Peer
from harness.emulator.delays import Sleep
from harness.emulator.gate import ConcurrencyGate

KEY = "org-key-gate-61c2"


class Model:
    """A stand-in for the model's answer time: each call holds its slot until released."""

    def __init__(self) -> None:
        self.inside = 0
        self.peak = 0
        self.started: list[int] = []
        self.release = asyncio.Event()

    async def work(self, ident: int) -> None:
        self.inside += 1
        self.peak = max(self.peak, self.inside)
        self.started.append(ident)
        await self.release.wait()
        self.inside -= 1


async def _through(gate: ConcurrencyGate, model: Model, ident: int) -> None:
    await gate.enter(0)
    try:
        await model.work(ident)
    finally:
        gate.leave(0)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def test_at_most_limit_run_at_once_and_waiters_enter_in_arrival_order() -> None:
    async def scenario() -> tuple[list[int], list[int], int]:
        gate, model = ConcurrencyGate(3), Model()
        tasks = [asyncio.create_task(_through(gate, model, i)) for i in range(8)]
        await _settle()
        first = list(model.started)
        assert (gate.active, gate.waiting) == (3, 5)
        model.release.set()
        await asyncio.gather(*tasks)
        assert (gate.active, gate.waiting) == (0, 0)
        return first, model.started, model.peak

    first, order, peak = asyncio.run(scenario())
    assert first == [0, 1, 2]
    assert order == list(range(8))
    assert peak == 3


def test_the_queue_bound_makes_the_gate_full_only_when_every_slot_and_place_is_taken() -> None:
    async def scenario() -> list[bool]:
        gate, model = ConcurrencyGate(2, max_waiting=1), Model()
        seen = [gate.full()]
        tasks = [asyncio.create_task(_through(gate, model, i)) for i in range(2)]
        await _settle()
        seen.append(gate.full())  # both slots busy, the queue still has a place
        tasks.append(asyncio.create_task(_through(gate, model, 2)))
        await _settle()
        seen.append(gate.full())
        model.release.set()
        await asyncio.gather(*tasks)
        seen.append(gate.full())
        return seen

    assert asyncio.run(scenario()) == [False, False, True, False]


def test_a_waiter_cancelled_in_the_queue_or_after_its_turn_never_leaks_a_slot() -> None:
    async def scenario() -> tuple[int, int, list[int]]:
        gate, model = ConcurrencyGate(1), Model()
        model.release.set()
        await gate.enter(0)  # the test holds the only slot
        queued = asyncio.create_task(_through(gate, model, 1))
        handed = asyncio.create_task(_through(gate, model, 2))
        last = asyncio.create_task(_through(gate, model, 3))
        await _settle()
        queued.cancel()  # leaves the queue before its turn
        gate.leave(0)  # hands the slot over, with no await...
        handed.cancel()  # ...so ``handed`` is cancelled after its turn came, before it resumed
        await asyncio.gather(queued, handed, return_exceptions=True)
        await asyncio.wait_for(last, 10)  # a leaked slot would leave it waiting forever
        return gate.active, gate.waiting, model.started

    active, waiting, started = asyncio.run(scenario())
    assert (active, waiting) == (0, 0)
    assert started == [3]


@pytest.mark.parametrize(("limit", "waiting"), [(0, None), (1, -1)])
def test_a_gate_needs_a_positive_limit_and_a_non_negative_bound(
    limit: int, waiting: int | None
) -> None:
    with pytest.raises(ValueError, match=r"at least 1|cannot be negative"):
        ConcurrencyGate(limit, waiting)


def _service(max_concurrency: int, max_queue: int | None, sleep: Sleep) -> EmulatorService:
    """A service whose model time (admitted answers only: no --latency) is ``sleep``."""
    config = EmulatorConfig(
        api_keys=(SecretStr(KEY),),
        max_concurrency=max_concurrency,
        max_queue=max_queue,
        model_latency=LatencyRange(1_000_000, 1_000_000),
    )
    return EmulatorService(config, ManualClock(1_800_000_000 * 1_000_000_000), sleep)


def _token(service: EmulatorService, body: dict[str, Any]) -> str:
    created = service.create_chatbot(KEY, json.dumps(body).encode())
    chatbot_id = json.loads(created.body)["chatbot"]["id"]
    return str(json.loads(service.create_token(KEY, chatbot_id, b"").body)["token"])


def test_the_service_answers_n_at_once_queues_m_and_refuses_the_rest_with_503(
    chatbot_body: Callable[..., dict[str, Any]], chat_body: Callable[..., dict[str, Any]]
) -> None:
    model = Model()
    calls = iter(range(100))

    async def generate(seconds: float) -> None:
        await model.work(next(calls))

    service = _service(max_concurrency=2, max_queue=1, sleep=generate)
    token = _token(service, chatbot_body(limit=None, quota=4))
    raw = json.dumps(chat_body()).encode()

    async def scenario() -> list[tuple[int, dict[str, object]]]:
        chats = [
            asyncio.create_task(service.chat(f"Bearer {token}", raw, Peer("127.0.0.1")))
            for _ in range(5)
        ]
        await _settle()
        assert model.inside == 2
        model.release.set()
        answers = await asyncio.gather(*chats)
        return [(answer.status, json.loads(answer.body)) for answer in answers]

    answers = asyncio.run(scenario())
    assert [status for status, _ in answers] == [200, 200, 200, 503, 503]
    assert all(body["code"] == 14 for _, body in answers[3:])
    assert model.peak == 2
    assert (service.stats.admitted, service.stats.overloaded) == (3, 2)
    # A refused request consumed no quota: one more answer fits, the next is out of quota.
    again = [
        asyncio.run(service.chat(f"Bearer {token}", raw, Peer("127.0.0.1"))).status
        for _ in range(2)
    ]
    assert again == [200, 429]


@pytest.mark.parametrize(
    ("settings", "rps"),
    [
        ({"max_concurrency": 4, "latency": LatencyRange(40_000_000, 40_000_000)}, 100.0),
        (
            {
                "max_concurrency": 4,
                "latency": LatencyRange(10_000_000, 30_000_000),
                "model_latency": LatencyRange(0, 40_000_000),
            },
            100.0,
        ),
        ({"max_concurrency": 2, "model_latency": LatencyRange(1_000_000_000, 3_000_000_000)}, 1.0),
        ({"max_concurrency": 4}, None),
        ({"latency": LatencyRange(40_000_000, 40_000_000)}, None),
    ],
)
def test_the_implied_capacity_is_slots_over_the_mean_time_an_admission_holds_one(
    settings: dict[str, Any], rps: float | None
) -> None:
    config = EmulatorConfig(api_keys=(SecretStr(KEY),), **settings)
    assert config.capacity_rps == (None if rps is None else pytest.approx(rps))


def test_a_late_event_loop_does_not_stretch_the_answers_queued_behind_a_slot(
    chatbot_body: Callable[..., dict[str, Any]], chat_body: Callable[..., dict[str, Any]]
) -> None:
    """Every sleep overshoots by 10 ms (a busy machine); one slot, answers of 100 ms. A waiter's
    answer starts when the previous one was planned to end, so the three end 100 ms apart
    (plus the last one's lateness), not 110 ms apart: the capacity stays what was configured."""
    clock = ManualClock(1_800_000_000 * 1_000_000_000)
    start = clock.now_ns()
    asked: list[int] = []

    async def late_sleep(seconds: float) -> None:
        asked.append(round(seconds * 1e9))
        await _settle()  # the other chats reach the gate while this one holds the slot
        clock.advance(round(seconds * 1e9) + 10_000_000)

    config = EmulatorConfig(
        api_keys=(SecretStr(KEY),),
        max_concurrency=1,
        model_latency=LatencyRange(100_000_000, 100_000_000),
    )
    service = EmulatorService(config, clock, late_sleep)
    token = _token(service, chatbot_body(limit=None))
    raw = json.dumps(chat_body()).encode()

    async def scenario() -> list[int]:
        async def one() -> int:
            await service.chat(f"Bearer {token}", raw, Peer("127.0.0.1"))
            return clock.now_ns() - start

        return list(await asyncio.gather(*(one() for _ in range(3))))

    ended = asyncio.run(scenario())
    assert asked == [100_000_000, 90_000_000, 90_000_000]
    assert sorted(ended) == [110_000_000, 210_000_000, 310_000_000]
