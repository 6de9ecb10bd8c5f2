"""The run options as Locust hands them over: one typed key for each run option.

``harness.locust.options`` imports Locust, which gevent-patches the process: it is read in a
subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys

from testkit import clean_env

# Each option's type from the command line, and text for a number Locust's web form set.
EXPECTED = {
    "flag": "bool",
    "str": "str | None",
    "int": "int | str | None",
    "float": "float | str | None",
}

READ_TYPES = """
import json, typing
from harness.load.options import RUN_OPTIONS
from harness.locust.options import LocustOptionValues
hints = typing.get_type_hints(LocustOptionValues)
print(json.dumps({
    "declared": {
        name: hint.__name__ if isinstance(hint, type) else str(hint)
        for name, hint in hints.items()
    },
    "options": {o.name: "flag" if o.flag else o.type.__name__ for o in RUN_OPTIONS},
}))
"""


def test_every_run_option_has_its_key_with_the_type_locust_hands_over() -> None:
    done = subprocess.run(
        [sys.executable, "-c", READ_TYPES],
        capture_output=True, text=True, env=clean_env(), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["declared"] == {name: EXPECTED[kind] for name, kind in found["options"].items()}
