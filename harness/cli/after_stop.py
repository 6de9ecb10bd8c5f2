"""``python -m harness.cli.after_stop RUN_DIR``: a run of Locust's web UI judged and reported as
``aisk-harness run`` judges and reports its own, once its Start has stopped.

The Locust process starts it (``harness.locust.starts``): the checks and the notebooks must not
run in Locust's gevent-patched process, nor hold up its web UI. It writes ``verdict.json``,
``junit.xml`` and ``report.html`` in the run directory, prints what ``run`` prints of them, and
ends with one line the web UI shows: the verdict line (``check.verdict_line``), or ``not judged:
<why>``. Its exit code is the verdict's (0, 1, 3), or 2 when there is no verdict.
"""

from __future__ import annotations

import sys
from pathlib import Path

from harness.cli.check import judge, print_verdict, verdict_line
from harness.cli.report import report_after_run
from harness.errors import HarnessError

__all__ = ["NOT_JUDGED", "main"]

NOT_JUDGED = "not judged: "


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(f"{NOT_JUDGED}usage: python -m harness.cli.after_stop RUN_DIR")
        return 2
    run_dir = Path(argv[0])
    try:
        verdict = judge(run_dir)
    except HarnessError as exc:
        print(f"{NOT_JUDGED}{exc}")
        return exc.exit_code
    print_verdict(verdict, run_dir)
    report_after_run(run_dir)
    print(verdict_line(verdict))
    return verdict.exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
