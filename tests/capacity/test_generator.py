"""A step is the generator's, not the target's, when its Locust process was busy or behind."""

from __future__ import annotations

from harness.capacity import Slo, StepResult
from harness.capacity.generator import mark_generator
from harness.capacity.open_result import open_result
from harness.run.generator_cpu import CpuSample, GeneratorCpu

SLO = Slo(p95_s=2.0, max_error_rate=0.01)


def step(index: int, offered: float, within: bool, start: int = 100, end: int = 200) -> StepResult:
    return StepResult(
        index=index, offered=offered, offered_unit="req/s", start_ns=start, end_ns=end,
        requests=10, errors=0 if within else 5, throughput_rps=offered,
        error_rate=0.0 if within else 0.5, p50_s=0.04, p95_s=0.05, p99_s=0.06,
        within_slo=within, label=f"{offered:g}rps", goodput_rps=offered,
    )  # fmt: skip


def cpu(*samples: tuple[int, str, float]) -> GeneratorCpu:
    return GeneratorCpu(samples=[CpuSample(wall_ns=t, process=p, percent=c) for t, p, c in samples])


def test_the_busiest_process_in_the_window_decides() -> None:
    samples = cpu((90, "master", 99.0), (150, "master", 20.0), (150, "w1", 95.0),
                  (180, "w1", 93.0), (250, "w1", 10.0))  # fmt: skip
    assert samples.busiest(100, 200) == ("w1", 94.0)
    assert samples.busiest(300, 400) is None
    marked = mark_generator(step(2, 50, True), samples)
    assert (marked.generator_process, marked.generator_cpu_percent) == ("w1", 94.0)
    assert marked.generator_bound


def test_a_quiet_generator_is_not_bound_and_no_samples_is_unknown() -> None:
    marked = mark_generator(step(2, 50, True), cpu((150, "local", 40.0)))
    assert marked.generator_bound is False
    assert mark_generator(step(2, 50, True), None).generator_bound is None


def test_a_scheduler_behind_its_schedule_is_bound_whatever_its_cpu() -> None:
    marked = mark_generator(step(2, 50, True), cpu((150, "local", 50.0)), behind_share=0.05)
    assert marked.generator_bound
    assert not mark_generator(step(2, 50, True), None, behind_share=0.001).generator_bound


def test_generator_bound_steps_are_never_the_capacity_and_the_sentence_says_so() -> None:
    busy = cpu((150, "local", 99.0))
    rates = [step(2, 50, True), mark_generator(step(3, 500, True), busy),
             step(4, 100, False, 300, 400)]  # fmt: skip
    result = open_result("t", SLO, [], rates, "constant")
    assert result.capacity_rps == 50  # not 500, which only the generator limited
    assert "1 step was generator-bound (500rps: Locust process local at 99% CPU)" in (
        result.sentence
    )
