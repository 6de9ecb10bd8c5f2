"""What every command that sends load shares: its run directory, its target, its Locust child.

Locust runs headless in a child process (it gevent-patches whatever imports it), in a session of
its own so that one Ctrl-C reaches it exactly once, through us: the run then stops, ships and
writes every record, and deletes its chatbots before it ends. The child gets the run's settings
as one file (``--aisk-settings``) and its API keys in the environment, never on its command line.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from urllib.parse import urlsplit

import harness
from harness.cli.calibrate import CALIBRATION_FILE
from harness.cli.rails import check_target
from harness.errors import ConfigError, HarnessError
from harness.load.options import API_KEY_ENV
from harness.load.settings import RunSettings, write_settings
from harness.run.interruption import interruption_now, write_interruption
from harness.run.parts import part_paths, records_dir
from harness.run.plan import PLAN_FILE
from harness.run.recording import RECORDING_FILE, read_recording

__all__ = [
    "STOP_GRACE_S",
    "cli_spell",
    "free_master_port",
    "kept_only_if_recorded",
    "locust_command",
    "make_run_dir",
    "run_dir_path",
    "run_id_now",
    "run_locust",
    "target_api_key",
]

STOP_GRACE_S = 60.0
EPHEMERAL_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range"
MASTER_PORT_FLOOR = 20000  # above the ports services commonly listen on
# Shipped in the package (``harness/locust/locustfiles``), found beside wherever it is installed;
# a path, not an import: Locust loads a locust file by its path, and this process never imports
# Locust.
LOCUSTFILES = Path(harness.__file__).resolve().parent / "locust" / "locustfiles"


def cli_spell(name: str) -> str:
    """An option as ``aisk-harness`` spells it."""
    return f"--{name}"


def run_id_now() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def run_dir_path(out: str | None) -> Path:
    """``--out``, or ``reports/runs/<UTC stamp>`` (not made yet: see ``make_run_dir``)."""
    return Path(out) if out else Path("reports/runs") / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def make_run_dir(out: str | Path | None) -> Path:
    """The run directory: created, writable, and not an earlier run."""
    run_dir = out if isinstance(out, Path) else run_dir_path(out)
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


@contextlib.contextmanager
def kept_only_if_recorded(run_dir: Path) -> Iterator[None]:
    """Whatever stops a run before it recorded anything (a target it cannot connect to, a bad
    answer in set-up, an interrupt) takes away what the run made of its directory: no empty run
    directory is left to be mistaken for a run. Once a request was sent (calibration, set-up,
    load) the directory stays, with what it holds, for ``check`` and for a person to read."""
    before = set(run_dir.iterdir()) if run_dir.is_dir() else None
    try:
        yield
    except BaseException:
        if not _recorded(run_dir):
            _remove_made(run_dir, before)
        raise


def _recorded(run_dir: Path) -> bool:
    """Whether the run sent a request it keeps a trace of: calibration chats, chatbots made
    (``run.json``, or named as not deleted), records (written, or counted lost)."""
    if any((run_dir / name).exists() for name in (CALIBRATION_FILE, PLAN_FILE)):
        return True
    if part_paths(records_dir(run_dir)):
        return True
    if not (run_dir / RECORDING_FILE).exists():
        return False
    try:
        recording = read_recording(run_dir)
    except HarnessError:
        return True  # unreadable: what it held cannot be told, so it is kept
    return bool(
        recording.records_written or recording.records_lost or recording.chatbots_not_deleted
    )


def _remove_made(run_dir: Path, before: set[Path] | None) -> None:
    """What the run made in ``run_dir`` (all of it if the run made the directory) removed."""
    with contextlib.suppress(OSError):
        if before is None:
            shutil.rmtree(run_dir)
            return
        for path in set(run_dir.iterdir()) - before:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink()


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


def _ephemeral_ports() -> range:
    """The ports the kernel hands out to sockets bound to port 0 and to outgoing connections."""
    try:
        low, high = Path(EPHEMERAL_RANGE_FILE).read_text().split()
        return range(int(low), int(high) + 1)
    except (OSError, ValueError):
        return range(32768, 61000)  # Linux's default


def free_master_port(attempts: int = 64) -> int:
    """A port for a Locust master to bind on every address, below the ephemeral range.

    Between this probe and the master's bind, any port the kernel hands out (another test's
    listener on port 0, any outgoing connection on a busy host) could take an ephemeral one,
    and the master failed to start (seen beside other runs); a random port below the range is
    taken only by another listener that chose it."""
    ephemeral = _ephemeral_ports()
    candidates = range(MASTER_PORT_FLOOR, max(ephemeral.start, MASTER_PORT_FLOOR + attempts))
    for port in random.sample(candidates, attempts):
        with socket.socket() as probe:
            try:
                probe.bind(("", port))  # Locust's master binds tcp://*:port
            except OSError:
                continue
            return port
    raise HarnessError("no free port for Locust's master below the ephemeral range")


def locust_command(
    locustfile: str,
    settings: RunSettings,
    *,
    users: int | None,
    processes: int = 1,
    extra: Sequence[str] = (),
    locust_stats: bool = False,
) -> list[str]:
    """The Locust child of a run: headless, its settings in one file, its reports beside them.

    ``users`` None leaves the users to a load shape (the capacity search). Locust's periodic
    request tables are left out (``--only-summary``: the lead prints a progress line instead)
    unless ``locust_stats``.
    """
    run_dir = Path(settings.run_dir)
    settings_path = write_settings(run_dir, settings)
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILES / locustfile),
        "--headless",
        "--host",
        settings.target,
        "--aisk-settings",
        str(settings_path),
        "--csv",
        str(run_dir / "locust"),
        "--html",
        str(run_dir / "locust.html"),
        # Locust's CSV can trail its last second; its JSON file holds the final counts.
        "--json-file",
        str(run_dir / "locust_stats"),  # Locust adds ".json"
    ]
    if not locust_stats:
        command.append("--only-summary")
    if users is not None:
        command += ["-u", str(users), "-r", str(users)]
    if processes > 1:
        # A port of our own: two distributed runs on one host must not share Locust's 5557.
        port = str(free_master_port())
        command += ["--processes", str(processes), "--master-bind-port", port]
        command += ["--master-port", port]
    return [*command, *extra]


def run_locust(command: list[str], env: dict[str, str], run_dir: Path | None = None) -> int:
    """Run Locust to its end; an interrupt is passed on once and the run allowed to finish.

    ``run_dir``: where the first interrupt is written down (``interrupted.json``), so that the
    verdict, the summary line and the report say the run was interrupted, by what and when."""
    child = subprocess.Popen(command, env=env, start_new_session=True)
    interrupted = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        if run_dir is not None and not interrupted:
            interrupted = True
            with contextlib.suppress(OSError):  # the run goes on; the verdict will not say it
                write_interruption(run_dir, interruption_now(signum))
        # SIGTERM, whatever we got: Locust handles it in a greenlet of its own, whereas SIGINT
        # becomes a KeyboardInterrupt in whichever greenlet happens to run, mid-request.
        # Not child.poll(): it would reap the child under the wait below, whose session is
        # then no longer known to be its own. Unreaped, its pid is still the child's.
        if child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with contextlib.suppress(ChildProcessError):  # reaped already: the session is unknown
            os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # ended, not yet reaped
            _stop_session(child.pid)  # its id cannot be anyone else's until it is reaped
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


def _stop_session(session: int) -> None:
    """Kill what is left of the Locust child's session once the child has ended (before it is
    reaped, so that the session's id is still its own).

    The workers of ``--processes N`` outlive a master that failed (a port taken, a crash): they
    would wait for it for ever, hold our output open, and join the next master that binds their
    port. They hold no record (the master writes them), so nothing is lost."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(session, signal.SIGKILL)
