"""The check registry: each check declares its id, title and place once, with ``@check``.

The verdict, JUnit, the printed table and the report all iterate what is registered here (through
the verdict's checks), so no other module keeps a list of check ids. A check is a function of one
signature, ``(CheckContext) -> Finding``; its place (``number``) is its position in the verdict,
so the order does not depend on which module happens to be imported first. The registry is
complete once ``harness.conformance.checks`` has imported every module that registers one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from harness.conformance.context import CheckContext
from harness.conformance.findings import Finding

__all__ = ["REGISTRY", "Check", "Judge", "Registry", "UnknownCheckError", "check"]

Judge = Callable[[CheckContext], Finding]


class UnknownCheckError(LookupError):
    """A name that should be a registered check's id is not one (a fault's ``caught_by``)."""


@dataclass(frozen=True, slots=True)
class Check:
    """A registered check: where it stands in the verdict, its id and title, and its judge."""

    number: int
    id: str
    title: str
    judge: Judge


class Registry:
    """Checks by id, iterated in the order of their numbers; an id or number taken twice is
    refused when the second one registers (at import), not found later in a verdict."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def check(self, number: int, check_id: str, title: str) -> Callable[[Judge], Judge]:
        """The decorator: registers the function it decorates and returns it unchanged."""

        def register(judge: Judge) -> Judge:
            self.add(Check(number, check_id, title, judge))
            return judge

        return register

    def add(self, entry: Check) -> None:
        if entry.id in self._checks:
            raise ValueError(f"check id {entry.id!r} is registered twice")
        taken = {c.number: c.id for c in self._checks.values()}
        if entry.number in taken:
            raise ValueError(
                f"check {entry.id!r}: number {entry.number} is taken by {taken[entry.number]!r}"
            )
        self._checks[entry.id] = entry

    def __iter__(self) -> Iterator[Check]:
        return iter(sorted(self._checks.values(), key=lambda entry: entry.number))

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(entry.id for entry in self)

    def require(self, caught_by: Mapping[str, str]) -> None:
        """Every name → check id in ``caught_by`` (a fault and the check meant to catch it) names
        a registered check; the first that does not raises, naming both."""
        for name, check_id in caught_by.items():
            if check_id not in self._checks:
                known = ", ".join(self.ids)
                raise UnknownCheckError(
                    f"{name!r} names check {check_id!r}, which is not registered (known: {known})"
                )


REGISTRY = Registry()
check = REGISTRY.check
