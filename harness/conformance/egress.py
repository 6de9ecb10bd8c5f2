"""Distinct IP keys that behave as one: the target's fault, or one egress address (NAT, proxy).

A limiter keyed by IP sees the address a connection reaches it from. Two source addresses that
leave through one NAT (or one proxy that does not forward the client's address) reach it as one,
and their keys then share one budget: the target behaves correctly for what it sees. The records
cannot tell the two apart, so where the keys by IP of a case share a budget while keys by device
id do not, the finding says both explanations and names the addresses (README: "Egress
addresses" tells how to check them).
"""

from __future__ import annotations

from harness.api.chatbot import RateLimitVaryBy
from harness.conformance.buckets import Bucket

__all__ = ["egress_note"]

MAX_NAMED = 6


def _shared_distinct(bucket: Bucket, keys_per_case: dict[str, int]) -> bool:
    """One of several distinct keys of its case (no rotation): judged as not sharing a budget."""
    return bucket.case.rotate == "none" and keys_per_case[bucket.case.name] > 1


def egress_note(
    failing: list[Bucket], judged: list[Bucket], keys_per_case: dict[str, int]
) -> str | None:
    """The sentence for a vary-isolation failure of distinct IP keys, or None where it does not
    apply (no such failure, or keys by device id failed alike: then the target is at fault)."""
    ip = RateLimitVaryBy.IP.value
    device = RateLimitVaryBy.DEVICE_ID.value
    shared_ip = [b for b in failing if b.rate.vary_by == ip and _shared_distinct(b, keys_per_case)]
    if not shared_ip:
        return None
    failing_ids = {id(b) for b in failing}
    devices = [b for b in judged if b.rate.vary_by == device and _shared_distinct(b, keys_per_case)]
    if any(id(b) in failing_ids for b in devices):
        return None
    cases = sorted({b.case.name for b in shared_ip})
    addresses = sorted({b.key for b in judged if b.case.name in cases})
    named = ", ".join(addresses[:MAX_NAMED]) + (", ..." if len(addresses) > MAX_NAMED else "")
    contrast = (
        "while keys by device id kept their own"
        if devices
        else "(no case keyed by device id to compare with)"
    )
    return (
        f"the IP keys of {', '.join(repr(c) for c in cases)} ({named}) shared one budget "
        f"{contrast}: either the target does not vary by IP, or these addresses reach it as one "
        "(a NAT or a proxy between them and the target); check the egress addresses (README, "
        "'Egress addresses')"
    )
