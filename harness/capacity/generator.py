"""Is a step the target's figure, or the load generator's? (``harness.run.generator_cpu``)

A Locust process above ``BUSY_PERCENT`` of its core during a step's window sends as fast as it
can, not as the step asked: its throughput is the generator's ceiling and its latencies include
its own queue. Such a step is *generator-bound*: it is shown, but never counted as the target's
capacity (``sweep.bracket`` and ``open_result`` leave it out), and the sentence says so.

A process can also be starved without showing its CPU busy (a host shared with other work, a
CPU quota): an open step whose *scheduler* handed more than ``BEHIND_SHARE`` of its arrivals over
late (``recording.json``'s ``behind_schedule``) is generator-bound too. Late *sends* alone are not:
in an open step they are mostly arrivals that found every sender busy because the target held
them (the corrected latency counts that).
"""

from __future__ import annotations

from harness.capacity.result import StepResult
from harness.run.generator_cpu import BUSY_PERCENT, GeneratorCpu

__all__ = ["BEHIND_SHARE", "mark_generator"]

BEHIND_SHARE = 0.01


def mark_generator(
    step: StepResult, cpu: GeneratorCpu | None, behind_share: float | None = None
) -> StepResult:
    """``step`` with its generator's CPU, its scheduler's lateness and the mark (unknown
    without CPU samples in its window or an open schedule)."""
    busiest = cpu.busiest(step.start_ns, step.end_ns) if cpu is not None else None
    if busiest is None and behind_share is None:
        return step
    process, percent = busiest if busiest is not None else (None, None)
    bound = (percent is not None and percent > BUSY_PERCENT) or (
        behind_share is not None and behind_share > BEHIND_SHARE
    )
    return step.model_copy(
        update={
            "generator_cpu_percent": None if percent is None else round(percent, 1),
            "generator_process": process,
            "generator_bound": bound,
            "behind_share": behind_share,
        }
    )
