"""The locust files ``run``, ``capacity`` and ``worker`` hand Locust, shipped in the package.

Locust loads a locust file by its path (``locust -f``), so the commands find these beside the
installed package (``harness/cli/load_job.py: LOCUSTFILES``), never in the checkout's layout; the
checkout's ``locustfiles/*.py`` only import them, for ``locust -f`` by hand. This package's face
imports nothing: importing Locust gevent-patches the process.
"""
