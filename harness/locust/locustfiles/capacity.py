"""The capacity search's locustfile: the harness's recording users under a stepped load shape.

``aisk-harness capacity`` drives it headless; run directly it takes the ``--aisk-*`` options of
``aisk.py`` plus ``--aisk-steps`` and ``--aisk-step-duration``, and a scenario whose one case
hammers (one slot per user; see ``harness/cli/capacity.py`` for the one it writes).
"""

from locust import events

from harness.locust.attach import attach
from harness.locust.shape import StepShape, register_steps
from harness.locust.user import KeyUser

attach(events)
register_steps(events)

__all__ = ["KeyUser", "StepShape"]
