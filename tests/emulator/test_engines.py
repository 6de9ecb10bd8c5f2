"""Real limiter engines in the emulator: the library decides on a real Redis, its wait is written
as it gave it, and a Redis that goes away is one clear failure.

The engines read the wall clock, so these tests run in real time on a ``SystemClock``: each sends
a burst far faster than its window (a 10 s window; the burst takes milliseconds), so what is
asserted cannot depend on the machine's speed, and every bound on a wait is derived from the
window and the time the test itself measured around the burst.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from harness.api.duration import parse_duration
from harness.emulator import BackgroundEmulator, EmulatorConfig, ManualClock, SystemClock
from harness.emulator.engines import Engine, EngineDecision, open_engine
from harness.emulator.limiter import Rule
from harness.emulator.policy import policy_for
from harness.emulator.redis_server import PrivateRedis, RedisUnavailableError

ChatbotFactory = Callable[..., tuple[str, str]]
BodyFactory = Callable[..., dict[str, Any]]
Bearer = Callable[[str], dict[str, str]]
Metadata = Callable[[httpx.Response], dict[str, str]]

CHAT = "/bv/aisk/v1/prompts:chat"
REAL = [engine for engine in Engine if engine is not Engine.BUILTIN]
S = 1_000_000_000
KEY = "org-key-for-engine-tests-5d2a"


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with PrivateRedis() as url:
        yield url


def _emulator(engine: Engine, redis_url: str) -> BackgroundEmulator:
    config = EmulatorConfig(api_keys=(SecretStr(KEY),), limiter=engine, redis_url=redis_url)
    return BackgroundEmulator(config, SystemClock())


@pytest.mark.parametrize("engine", REAL)
def test_an_engine_admits_the_limit_then_throttles_with_its_own_wait(
    engine: Engine,
    redis_url: str,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    bearer: Bearer,
    throttle_metadata: Metadata,
) -> None:
    with _emulator(engine, redis_url) as emulator, httpx.Client(base_url=emulator.base_url) as c:
        _, token = new_chatbot(c, chatbot_body(limit=3, duration="10s"), api_key=KEY)
        start = time.monotonic_ns()
        answers = [c.post(CHAT, json=chat_body("d-1"), headers=bearer(token)) for _ in range(5)]
        elapsed = time.monotonic_ns() - start
        assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
        # Another device has its own budget (its own Redis key).
        other = c.post(CHAT, json=chat_body("d-2"), headers=bearer(token))
        assert other.status_code == 200
        stats = c.get("/_emulator/stats", headers=bearer(KEY)).json()
    assert stats["throttled"] == 2
    assert stats["live_rate_keys"] == 0  # the builtin table is not used
    wait = parse_duration(throttle_metadata(answers[3])["wait"])
    if engine in (Engine.THROTTLED_GCRA, Engine.THROTTLED_TOKEN_BUCKET):
        # A bucket of 3 refilled at 3 per 10 s: the next token within 10/3 s (the token bucket
        # rounds its retry_after up to whole seconds: 4 s).
        assert 0 < wait <= 4 * S
    else:
        # Windows: the budget returns when the window of the first admission ends, less the
        # time the burst took (the fixed window's reset is a whole-second TTL: +-0.5 s).
        assert 10 * S - elapsed - S // 2 <= wait <= 10 * S + S // 2


def test_the_library_decides_even_against_the_emulators_own_limiter(redis_url: str) -> None:
    """The adapters alone: one atomic decision per request, and the library's own refusal wait."""
    rule = Rule(2, 10 * S)
    for engine in REAL:
        adapter = open_engine(engine, redis_url)
        try:
            key = f"direct-{engine.value}"
            decisions = [adapter.hit(key, rule) for _ in range(3)]
        finally:
            adapter.close()
        assert decisions[:2] == [EngineDecision(True), EngineDecision(True)]
        assert not decisions[2].admitted
        if engine is Engine.LIMITS_SLIDING_WINDOW_COUNTER:
            # Its reset estimate lies in the past in some phases of its clock-aligned window
            # (seen in 3 of 4 fresh keys): the emulator writes the library's figure, a past
            # reset as 0, uncorrected.
            assert decisions[2].wait_ns >= 0
        else:
            assert decisions[2].wait_ns > 0


def test_a_real_engine_refuses_a_manual_clock_and_faults_it_cannot_have(redis_url: str) -> None:
    config = EmulatorConfig(
        api_keys=(SecretStr(KEY),), limiter=Engine.LIMITS_MOVING_WINDOW, redis_url=redis_url
    )
    with pytest.raises(ValueError, match="real time only"):
        BackgroundEmulator(config, ManualClock(0))
    with pytest.raises(ValueError, match="count_throttled"):
        EmulatorConfig(
            api_keys=(SecretStr(KEY),),
            limiter=Engine.LIMITS_MOVING_WINDOW,
            redis_url=redis_url,
            policy=policy_for("count-throttled"),
        )
    no_redis = EmulatorConfig(api_keys=(SecretStr(KEY),), limiter=Engine.THROTTLED_GCRA)
    with pytest.raises(ValueError, match="needs a Redis URL"):
        BackgroundEmulator(no_redis, SystemClock())


def test_faults_that_shape_answers_still_apply_over_an_engine(
    redis_url: str,
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    bearer: Bearer,
) -> None:
    config = EmulatorConfig(
        api_keys=(SecretStr(KEY),),
        limiter=Engine.LIMITS_MOVING_WINDOW,
        redis_url=redis_url,
        policy=policy_for("throttle-503"),
    )
    with BackgroundEmulator(config, SystemClock()) as emulator:
        with httpx.Client(base_url=emulator.base_url) as c:
            _, token = new_chatbot(c, chatbot_body(limit=1, duration="10s"), api_key=KEY)
            codes = [
                c.post(CHAT, json=chat_body("d-1"), headers=bearer(token)).status_code
                for _ in range(2)
            ]
    assert codes == [200, 503]


def test_a_redis_gone_mid_run_is_a_503_and_one_recorded_failure(
    chatbot_body: BodyFactory,
    chat_body: BodyFactory,
    new_chatbot: ChatbotFactory,
    bearer: Bearer,
) -> None:
    private = PrivateRedis()
    url = private.start()
    emulator = _emulator(Engine.THROTTLED_GCRA, url).start()
    failures: list[str] = []
    emulator.service.on_engine_failure = failures.append
    try:
        with httpx.Client(base_url=emulator.base_url) as c:
            _, token = new_chatbot(c, chatbot_body(limit=5, duration="10s"), api_key=KEY)
            assert c.post(CHAT, json=chat_body("d"), headers=bearer(token)).status_code == 200
            private.stop()
            assert not private.alive()
            gone = [c.post(CHAT, json=chat_body("d"), headers=bearer(token)) for _ in range(2)]
    finally:
        emulator.stop()
        private.stop()
    assert [answer.status_code for answer in gone] == [503, 503]
    assert len(failures) == 1  # the first failure only
    assert emulator.service.engine_failure == failures[0]


def test_no_redis_server_installed_is_one_line_naming_the_package() -> None:
    with pytest.raises(RedisUnavailableError, match=r"apt-get install redis-server"):
        PrivateRedis(binary="redis-server-that-is-not-installed")


def test_a_private_redis_leaves_nothing_behind() -> None:
    private = PrivateRedis()
    url = private.start()
    pid = private.pid
    assert url.startswith("unix://")
    assert private.alive()
    private.stop()
    private.stop()  # idempotent
    assert not private.alive()
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        _signal_zero(pid)


def _signal_zero(pid: int) -> None:
    os.kill(pid, 0)
