"""Listening to Locust's events, typed (Locust's ``EventHook.add_listener`` is not annotated)."""

from __future__ import annotations

from locust.event import EventHook

from collections.abc import Callable

__all__ = ["on_event"]


def on_event(hook: EventHook, listener: Callable[..., object]) -> None:
    hook.add_listener(listener)  # type: ignore[no-untyped-call]
