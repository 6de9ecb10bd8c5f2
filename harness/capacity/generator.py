"""Is a step the target's figure, or the load generator's? (``harness.run.generator_cpu``)

A Locust process above ``BUSY_PERCENT`` of its core during a step's window sends as fast as it
can, not as the step asked: its throughput is the generator's ceiling and its latencies include
its own queue. Such a step is *generator-bound*: it is shown, but never counted as the target's
capacity (``sweep.bracket`` and ``open_result`` leave it out), and the sentence says so.

Late sends alone are not taken as generator-bound: in an open step they are mostly arrivals that
found every sender busy because the target held them (the corrected latency counts that), and
the sender's own lateness is measured apart (``bench open_sender``: < 0.2 % at 2 000 req/s).
"""

from __future__ import annotations

from harness.capacity.result import StepResult
from harness.run.generator_cpu import BUSY_PERCENT, GeneratorCpu

__all__ = ["mark_generator"]


def mark_generator(step: StepResult, cpu: GeneratorCpu | None) -> StepResult:
    """``step`` with its generator's CPU and mark (unknown without samples in its window)."""
    busiest = cpu.busiest(step.start_ns, step.end_ns) if cpu is not None else None
    if busiest is None:
        return step
    process, percent = busiest
    return step.model_copy(
        update={
            "generator_cpu_percent": round(percent, 1),
            "generator_process": process,
            "generator_bound": percent > BUSY_PERCENT,
        }
    )
