"""``generator_cpu.json``: how busy each sending process was while the load ran.

A load generator that runs out of CPU sends late and measures its own queue, not the target: a
capacity step measured so is *generator-bound*, not a figure of the target. The recording process
samples, every ``INTERVAL_S``, its own CPU use and (as master) each worker's, as Locust's
heartbeats report it; ``busiest`` says, for a window, the highest mean any one process had.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from harness.model_files import read_model, write_model

__all__ = [
    "BUSY_PERCENT",
    "GENERATOR_CPU_FILE",
    "CpuSample",
    "GeneratorCpu",
    "read_generator_cpu",
    "write_generator_cpu",
]

GENERATOR_CPU_FILE = "generator_cpu.json"
INTERVAL_S = 1.0
BUSY_PERCENT = 90.0  # above this share of one core, a process is taken to limit its own sending


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CpuSample(_Strict):
    """``process`` used ``percent`` of one core over the interval ending at ``wall_ns``."""

    wall_ns: int
    process: str
    percent: float = Field(ge=0)


class GeneratorCpu(_Strict):
    interval_s: float = INTERVAL_S
    samples: list[CpuSample] = Field(default_factory=list)

    def busiest(self, start_ns: int, end_ns: int) -> tuple[str, float] | None:
        """The process with the highest mean CPU over the samples in ``[start_ns, end_ns]``,
        and that mean; None when no sample lies there."""
        by_process: dict[str, list[float]] = {}
        for sample in self.samples:
            if start_ns <= sample.wall_ns <= end_ns:
                by_process.setdefault(sample.process, []).append(sample.percent)
        if not by_process:
            return None
        process, values = max(by_process.items(), key=lambda item: sum(item[1]) / len(item[1]))
        return process, sum(values) / len(values)


def write_generator_cpu(run_dir: Path, cpu: GeneratorCpu) -> Path:
    return write_model(run_dir / GENERATOR_CPU_FILE, cpu)


def read_generator_cpu(run_dir: Path) -> GeneratorCpu:
    return read_model(
        run_dir / GENERATOR_CPU_FILE,
        GeneratorCpu,
        missing=f"{str(run_dir)!r} holds no {GENERATOR_CPU_FILE}",
        kind="CPU samples",
    )
