"""What every check is handed: the run's inputs, its keys as buckets, and the limiter identified.

Buckets and the identification are built once per verdict and shared by every check; a check
reads only what it needs from here (one signature for all of them, see ``registry.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.conformance.buckets import Bucket, buckets
from harness.conformance.identify import Family, Identification, identify
from harness.conformance.spec import CheckInput, Tolerance

__all__ = ["CheckContext"]


@dataclass(frozen=True)
class CheckContext:
    """``data``: the records and each case's configuration; ``buckets``: every key of every
    rate-limited case; ``identification``: the limiter family the trace is held to."""

    data: CheckInput
    buckets: list[Bucket]
    identification: Identification

    @property
    def tolerance(self) -> Tolerance:
        """The slack of every inequality: the run's, one value for every check."""
        return self.data.tolerance

    @classmethod
    def of(cls, data: CheckInput) -> CheckContext:
        keyed = list(buckets(data))
        # Computed here, once: the checks read them from several threads (``checks.evaluate``).
        data.chats.shape, data.probes.shape  # noqa: B018
        declared = Family(data.declared_family) if data.declared_family else None
        return cls(data, keyed, identify(keyed, data.tolerance, declared))
