"""Everything that runs inside Locust (gevent): the user and its sender, the recorder, the
sessions of the local process, the master and its workers, and the stepped load shape.

Only locustfiles import the modules that import Locust (``attach``, ``user``, ``shape``: importing
Locust gevent-patches the process), so this package's face imports nothing: the set-up's plain
httpx parts (``probes``) stay usable, and testable, in an unpatched process.
"""
