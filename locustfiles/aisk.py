"""``locust -f locustfiles/aisk.py --host URL``: the packaged locustfile, for Locust by hand.

The logic is in ``harness/locust/locustfiles/aisk.py`` (what ``aisk-harness run`` hands Locust);
importing it attaches the harness to Locust's events once. ``python locustfiles/aisk.py --help``
lists the ``--aisk-NAME`` options.
"""

from harness.locust.locustfiles.aisk import KeyUser

__all__ = ["KeyUser"]

if __name__ == "__main__":
    from harness.locust.options import print_locust_options

    print_locust_options()
