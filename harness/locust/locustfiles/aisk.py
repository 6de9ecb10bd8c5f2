"""The aisk-harness locustfile: ``locust -f locustfiles/aisk.py --host URL`` (web UI or headless).

``aisk-harness run`` drives it headless with one option, ``--aisk-settings``; run directly, it
takes the harness's run options as ``--aisk-NAME`` (the API key from AISK_API_KEY). Locust prints
``--help`` before it loads a locustfile, so ``locust --help`` cannot list them;
``python locustfiles/aisk.py --help`` does.
"""

from locust import events

from harness.locust.attach import attach
from harness.locust.user import KeyUser

attach(events)

__all__ = ["KeyUser"]

if __name__ == "__main__":
    from harness.locust.options import print_locust_options

    print_locust_options()
