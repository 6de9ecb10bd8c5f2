"""The aisk-harness locustfile: ``locust -f locustfiles/aisk.py --host URL`` (web UI or headless).

``aisk-harness run`` drives it headless; run directly, it takes the harness options shown under
"aisk-harness" in ``locust --help`` (the API key from AISK_API_KEY).
"""

from locust import events

from harness.load.locust_hooks import register
from harness.load.locust_user import KeyUser

register(events)

__all__ = ["KeyUser"]
