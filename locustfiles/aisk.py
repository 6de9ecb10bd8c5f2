"""The aisk-harness locustfile: ``locust -f locustfiles/aisk.py --host URL`` (web UI or headless).

``aisk-harness run`` drives it headless with one option, ``--aisk-settings``; run directly, it
takes the harness's run options as ``--aisk-NAME`` (the API key from AISK_API_KEY).
"""

from locust import events

from harness.locust.attach import attach
from harness.locust.user import KeyUser

attach(events)

__all__ = ["KeyUser"]
