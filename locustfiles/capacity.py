"""The capacity search's locustfile: the harness's recording users under a stepped load shape.

``aisk-harness capacity`` drives it headless; run directly it takes the ``--aisk-*`` options of
``locust --help`` plus ``--aisk-steps`` and ``--aisk-step-duration``, and a scenario whose one case
hammers (one slot per user; see ``harness/cli/capacity.py`` for the one it writes).
"""

from locust import events

from harness.load.locust_capacity import StepShape, register_steps
from harness.load.locust_hooks import register
from harness.load.locust_user import KeyUser

register(events)
register_steps(events)

__all__ = ["KeyUser", "StepShape"]
