"""What every command that sends load shares: its run directory, its target, its Locust child.

Locust runs headless in a child process (it gevent-patches whatever imports it), in a session of
its own so that one Ctrl-C reaches it exactly once, through us: the run then stops, ships and
writes every record, and deletes its chatbots before it ends.
"""

from __future__ import annotations

import os
import signal
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from harness.cli.rails import check_target
from harness.cli.serve import API_KEY_ENV
from harness.errors import ConfigError
from harness.load.plan import PLAN_FILE

__all__ = [
    "STOP_GRACE_S",
    "add_label_option",
    "label_locust_args",
    "make_run_dir",
    "run_locust",
    "target_api_key",
]

STOP_GRACE_S = 60.0
MAX_LABEL_CHARS = 100


def add_label_option(parser: Any) -> None:
    parser.add_argument(
        "--label", metavar="TEXT",
        help="what the run stands for, e.g. a release 'v1.4.2' (stored in run.json; "
        "`aisk-harness history --order label` sorts by it)",
    )  # fmt: skip


def label_locust_args(label: str | None) -> list[str]:
    """``--label`` checked (one printable line) and handed to Locust as ``--aisk-label``."""
    if label is None:
        return []
    if not 1 <= len(label.strip()) <= MAX_LABEL_CHARS or not label.isprintable():
        raise ConfigError(
            f"--label {label!r}: expected 1 to {MAX_LABEL_CHARS} printable characters on one line"
        )
    return ["--aisk-label", label.strip()]


def make_run_dir(out: str | None) -> Path:
    """``--out``, or ``reports/runs/<UTC stamp>``: created, writable, and not an earlier run."""
    run_dir = (
        Path(out) if out else Path("reports/runs") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    )
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        probe = run_dir / ".writable"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise ConfigError(f"--out: cannot write to {str(run_dir)!r}: {exc.strerror}") from None
    if (run_dir / PLAN_FILE).exists():
        raise ConfigError(f"--out: {str(run_dir)!r} already holds a run; choose a new directory")
    return run_dir


def target_api_key(target: str | None, api_key: str | None, allow_remote: bool) -> str:
    """The API key for ``--target`` (from ``--api-key`` or the environment), checked with it;
    a target outside loopback needs ``allow_remote`` (checked before any connection)."""
    key = api_key or os.environ.get(API_KEY_ENV, "")
    if target is not None:
        if urlsplit(target).scheme not in ("http", "https"):
            raise ConfigError(f"--target {target!r}: expected an http:// or https:// URL")
        check_target(target, allow_remote)
        if not key:
            raise ConfigError(f"--api-key (or {API_KEY_ENV}) is required with --target")
    return key


def run_locust(command: list[str], env: dict[str, str]) -> int:
    """Run Locust to its end; an interrupt is passed on once and the run allowed to finish."""
    child = subprocess.Popen(command, env=env, start_new_session=True)

    def forward(signum: int, frame: FrameType | None) -> None:
        # SIGTERM, whatever we got: Locust handles it in a greenlet of its own, whereas SIGINT
        # becomes a KeyboardInterrupt in whichever greenlet happens to run, mid-request.
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return child.wait()
    finally:
        if child.poll() is None:
            try:
                child.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
