"""The CPU sampler of the recording process (``harness.run.generator_cpu``): a greenlet that
reads, every second, this process's CPU use (psutil) and each worker's (Locust's heartbeats)."""

from __future__ import annotations

import time
from collections.abc import Callable

import gevent
import psutil

from harness.run.generator_cpu import INTERVAL_S, CpuSample, GeneratorCpu

__all__ = ["CpuSampler"]


class CpuSampler:
    """Samples ``process`` (this one) and ``workers()`` (name → percent) until ``stop``."""

    def __init__(self, process: str, workers: Callable[[], dict[str, float]]) -> None:
        self._process = process
        self._workers = workers
        self._own = psutil.Process()
        self._own.cpu_percent(None)  # the first reading starts the interval
        self.samples: list[CpuSample] = []
        self._greenlet = gevent.spawn(self._sample_forever)

    def _sample_forever(self) -> None:
        while True:
            gevent.sleep(INTERVAL_S)
            now = time.time_ns()
            self.samples.append(
                CpuSample(wall_ns=now, process=self._process, percent=self._own.cpu_percent(None))
            )
            for name, percent in self._workers().items():
                self.samples.append(CpuSample(wall_ns=now, process=name, percent=percent))

    def stop(self) -> GeneratorCpu:
        self._greenlet.kill(block=False)
        return GeneratorCpu(interval_s=INTERVAL_S, samples=self.samples)
