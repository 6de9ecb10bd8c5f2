"""How a worker's clock relates to the master's: an NTP-style estimate from ping samples."""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["ClockOffset", "estimate_offset"]


class ClockOffset(NamedTuple):
    """Add ``clock_offset_ns`` to this process's clocks to get the master's, within
    ``clock_offset_err_ns``; the field names are the record's columns."""

    clock_offset_ns: int
    clock_offset_err_ns: int


def estimate_offset(samples: list[tuple[int, int, int]]) -> ClockOffset:
    """NTP-style offset from (send, remote, receive) samples; the least-delayed one wins.

    The remote clock read ``remote`` somewhere between ``send`` and ``receive`` of the local clock,
    so the true offset lies within half the round trip of ``remote - midpoint`` (RFC 5905 §8).
    """
    best = min(samples, key=lambda sample: sample[2] - sample[0])
    send, remote, receive = best
    return ClockOffset(remote - (send + receive) // 2, (receive - send + 1) // 2)
