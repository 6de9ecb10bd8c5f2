"""Staged arrival rates: the schedule follows ramp, hold and spike, constant or Poisson."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.errors import ConfigError
from harness.load.scenario import parse_scenario
from harness.load.stages import (
    Stage,
    Think,
    stage_bounds_ns,
    staged_arrivals,
    staged_count,
    staged_instants,
    staged_level,
    think_draws,
)

NS = 1_000_000_000
# Ramp 0 → 30/s over 10 s, hold 10 s, spike to 60/s in 1 s, hold it 4 s, ramp down over 5 s.
PROFILE = [Stage(duration="10s", target=30), Stage(duration="10s", target=30),
           Stage(duration="1s", target=60), Stage(duration="4s", target=60),
           Stage(duration="5s", target=0)]  # fmt: skip


def in_window(instants: list[int], start_s: float, end_s: float) -> int:
    return sum(start_s * NS <= t < end_s * NS for t in instants)


def test_constant_arrivals_follow_each_stage() -> None:
    instants = list(staged_instants(0, 10**12, PROFILE, 0.0, "constant", seed=1))
    # Λ: 150 in the ramp, 300 in the hold, 45 in the spike, 240 at 60/s, 150 ramping down.
    assert len(instants) == 150 + 300 + 45 + 240 + 150
    assert in_window(instants, 0, 10) == 149  # the 150th lands on 10 s itself
    assert in_window(instants, 10, 20) == 300
    assert in_window(instants, 21, 25) == 240
    assert instants == sorted(instants)
    assert instants[-1] <= 30 * NS  # nothing after the last stage (the 885th ends it)
    # In the hold, evenly spaced at 1/30 s.
    hold = [t for t in instants if 12 * NS <= t < 18 * NS]
    gaps = {round((b - a) / 1e6, 3) for a, b in itertools.pairwise(hold)}
    assert gaps <= {33.333, 33.334, 33.332}


def test_the_end_cuts_the_schedule_and_the_count_says_so() -> None:
    instants = list(staged_instants(5, 5 + 10 * NS, PROFILE, 0.0, "constant", seed=1))
    assert len(instants) == 149  # Λ(10 s) = 150: the 150th lands on the end itself
    assert all(5 <= t < 5 + 10 * NS for t in instants)
    assert staged_count(PROFILE, 0.0, 10 * NS) == pytest.approx(150)
    assert staged_count(PROFILE, 0.0, 10**12) == pytest.approx(885)
    assert staged_arrivals(PROFILE, 0.0) == pytest.approx(885 / 30)
    assert stage_bounds_ns(PROFILE)[2] == (20 * NS, 21 * NS)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_poisson_arrivals_follow_the_stages_on_average(seed: int) -> None:
    instants = list(staged_instants(0, 10**12, PROFILE, 0.0, "poisson", seed=seed))
    # Poisson counts: mean Λ, sd √Λ; 5 sd either side.
    for (start, end), expected in (((10, 20), 300), ((21, 25), 240), ((0, 30), 885)):
        assert abs(in_window(instants, start, end) - expected) < 5 * expected**0.5
    assert instants == sorted(instants)


def test_a_start_rate_ramps_from_it() -> None:
    instants = list(staged_instants(0, 10**12, [Stage(duration="2s", target=10)], 10.0,
                                    "constant", seed=1))  # fmt: skip
    assert len(instants) == 20
    assert instants[0] == pytest.approx(NS / 10, abs=2)


def test_a_scenario_gives_one_of_rate_over_and_stages() -> None:
    staged = {"kind": "open", "stages": [{"duration": "10s", "target": 30}]}
    scenario = parse_scenario({"name": "x", "duration": "30s",
                               "cases": [{"name": "s", "behaviour": staged}]}, "test")  # fmt: skip
    assert scenario.cases[0].arrival_rate == pytest.approx(15)
    both = {**staged, "rate": 3}
    with pytest.raises(ConfigError, match="exactly one of 'rate'"):
        parse_scenario({"name": "x", "duration": "30s",
                        "cases": [{"name": "s", "behaviour": both}]}, "test")  # fmt: skip
    bad = {"kind": "open", "stages": [{"duration": "soon", "target": 30}]}
    with pytest.raises(ConfigError, match="stages"):
        parse_scenario({"name": "x", "duration": "30s",
                        "cases": [{"name": "s", "behaviour": bad}]}, "test")  # fmt: skip


def test_the_level_of_staged_users_ramps_holds_and_ends() -> None:
    stages = [Stage(duration="2s", target=4), Stage(duration="2s", target=4),
              Stage(duration="2s", target=0)]  # fmt: skip
    assert staged_level(stages, 0.0, 0) == 0
    assert staged_level(stages, 0.0, NS) == pytest.approx(2)
    assert staged_level(stages, 0.0, 3 * NS) == pytest.approx(4)
    assert staged_level(stages, 0.0, 5 * NS) == pytest.approx(2)
    assert staged_level(stages, 0.0, 6 * NS) is None  # over


@pytest.mark.parametrize("distribution", ["constant", "exponential", "uniform"])
def test_think_times_have_the_mean_asked_for(distribution: str) -> None:
    think = Think(distribution=distribution, mean="200ms")  # type: ignore[arg-type]
    draws = list(itertools.islice(think_draws(think, seed=3), 4000))
    assert sum(draws) / len(draws) == pytest.approx(0.2, rel=0.05)
    assert min(draws) >= 0
    if distribution == "uniform":
        assert max(draws) <= 0.4
    assert draws[:10] == list(itertools.islice(think_draws(think, seed=3), 10))  # reproducible


def one_case(behaviour: dict[str, object], users_per_key: int) -> dict[str, object]:
    case = {"name": "s", "behaviour": behaviour, "population": {"users_per_key": users_per_key}}
    return {"name": "x", "duration": "5s", "cases": [case]}


def test_staged_users_cannot_ask_for_more_clients_than_a_key_has() -> None:
    hammer = {"kind": "hammer", "stages": [{"duration": "2s", "target": 5}],
              "think": {"distribution": "exponential", "mean": "1s"}}  # fmt: skip
    ok = parse_scenario(one_case(hammer, 5), "test")
    assert ok.cases[0].behaviour.stages is not None  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="users_per_key"):
        parse_scenario(one_case(hammer, 4), "test")
    bad = {**hammer, "think": {"distribution": "normal", "mean": "1s"}}
    with pytest.raises(ConfigError, match="think"):
        parse_scenario(one_case(bad, 5), "test")
