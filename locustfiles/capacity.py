"""``locust -f locustfiles/capacity.py``: the packaged capacity locustfile, for Locust by hand.

The logic is in ``harness/locust/locustfiles/capacity.py`` (what ``aisk-harness capacity`` hands
Locust); Locust finds its user and its load shape among this module's names.
"""

from harness.locust.locustfiles.capacity import KeyUser, StepShape

__all__ = ["KeyUser", "StepShape"]
