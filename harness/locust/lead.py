"""The process that leads a run: the local process, or the master of workers.

It sets the run up on the target (chatbots, tokens, READY, probes), writes ``run.json``, keeps
the sink every record goes to, dispenses slots, and when the run stops: collects every worker's
last batch, closes the sink, accounts for every record (``recording.json``), deletes the chatbots.
Whatever stops the run (its end, SIGINT, SIGTERM, a lost worker, a full disk, the web UI's stop
button), ``finish`` runs once, and no record received goes unwritten without being counted lost.
"""

from __future__ import annotations

from locust.env import Environment
from locust.runners import STATE_RUNNING, STATE_SPAWNING, LocalRunner, MasterRunner

import logging
import os
import time
from abc import abstractmethod
from argparse import Namespace
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import gevent

from harness.api.errors import AiskError
from harness.errors import HarnessError
from harness.load.options import API_KEY_ENV, SECOND_API_KEY_ENV
from harness.load.schedule import SlotDispenser, slot_count
from harness.load.settings import RunSettings, read_settings, run_settings, scenario_of
from harness.locust.cpu import CpuSampler
from harness.locust.live import LiveJudge
from harness.locust.options import locust_option_values, settings_file, spell
from harness.locust.recorder import Recorder
from harness.locust.session import Run, Session
from harness.locust.setup import Provisioned, delete_chatbots, provision, record_setup_probes
from harness.locust.starts import Start, Starts
from harness.locust.web_ui import show_starts
from harness.locust.writer import Writer
from harness.run.clock import ClockOffset
from harness.run.generator_cpu import write_generator_cpu
from harness.run.plan import plan_of, write_plan
from harness.run.recording import Recording, write_recording
from harness.run.sink import RecordSink
from harness.versions import versions

__all__ = ["LeadSession", "LocalSession"]

log = logging.getLogger("aisk-harness")
SPAWN_RATE = 100  # users started per second (Locust warns above it)
PROGRESS_INTERVAL_S = 5.0


@dataclass
class _Lead:
    """One run's state on the leading process, from its test start to its finish."""

    settings: RunSettings
    writer: Writer
    recorder: Recorder
    dispenser: SlotDispenser
    provisioned: Provisioned = field(default_factory=Provisioned)
    cpu: CpuSampler | None = None  # from the load's start
    live: LiveJudge | None = None  # judging while it records (settings.live)
    decided: frozenset[str] = frozenset()  # cases decided (run --until decided)
    stopping: bool = False
    finished: bool = False
    progress_from: float | None = None  # the load's start (monotonic), when progress is said


class LeadSession(Session):
    """What the local process and the master share."""

    process: str  # the ``process`` of its own records: "local" or "master"

    def __init__(self, environment: Environment, runner: LocalRunner | MasterRunner) -> None:
        super().__init__(environment, runner)
        options = environment.parsed_options
        path = settings_file(options) if options is not None else None
        self._preset = read_settings(path) if path is not None else None
        self._lead: _Lead | None = None
        # A plain Locust run: each Start a run of its own (``starts.py``); ``aisk-harness run``
        # hands over its one run's settings, directory included, and judges it itself.
        self._starts: Starts | None = None
        self._start: Start | None = None
        if self._preset is None:
            self._starts = Starts(
                web=environment.web_ui is not None,
                run_id=getattr(options, "aisk_run_id", "") or "",
            )
            if environment.web_ui is not None:
                show_starts(environment.web_ui, self._starts)
        if options is not None:
            self._users_for_every_slot(options)

    def _users_for_every_slot(self, options: Namespace) -> None:
        """Unless told otherwise, Locust starts one user per slot of the scenario (its own
        default, one user, would run one slot of it and leave the rest unjudged)."""
        scenario = (
            self._preset.scenario
            if self._preset
            else scenario_of(locust_option_values(options), spell)
        )
        slots = slot_count(scenario)
        if getattr(options, "num_users", None) is None:
            options.num_users = slots
            options.spawn_rate = options.spawn_rate or min(slots, SPAWN_RATE)

    # -- the run's life ------------------------------------------------------------------------

    def on_test_start(self) -> None:
        try:
            settings = self.place(self._settings())
            self._warn_if_too_few_users(len(settings.slots))
            sink = RecordSink(Path(settings.run_dir), self.process)
        except HarnessError as exc:
            self.fail(str(exc))
            return
        writer = Writer(sink, self._disk_failed)
        recorder = Recorder(self.process, ClockOffset(0, 0), partial(writer.take, self.process))
        recorder.start()
        lead = self._lead = _Lead(settings, writer, recorder, SlotDispenser(settings.slot_senders))
        api_key, second_key = self._api_keys()
        try:
            chatbots = provision(
                settings.target,
                api_key,
                settings.scenario,
                settings.run_id,
                settings.ready_timeout_s,
                lead.provisioned,
            )
        except (AiskError, HarnessError) as exc:
            self.fail(str(exc))  # the stop that follows deletes what was made
            return
        record_setup_probes(settings.target, api_key, second_key, chatbots, recorder)
        ids = {case: access.chatbot_id for case, access in chatbots.items()}
        write_plan(Path(settings.run_dir), plan_of(settings, ids, bool(second_key), versions()))
        run = Run(settings, chatbots, recorder)
        if settings.dry_run:  # the users never see the run: no load at all
            log.info("aisk-harness: dry run: the set-up is done; tearing it down, no load")
            gevent.spawn(self._stop_and_quit)
            return
        self.announce(run)
        lead.cpu = CpuSampler(self.process, self.worker_cpu)
        self.begin(run)
        if settings.live:
            run_dir, fail_fast = Path(settings.run_dir), settings.fail_fast
            lead.live = LiveJudge(run_dir, fail_fast, self._violation_proven, self._decided)
        log.info(
            "aisk-harness: run %s, %d slots, records in %s",
            settings.run_id,
            len(run.slots),
            settings.run_dir,
        )
        # Headless, nobody can start it again: quit once done. The web UI stays up.
        headless = bool(getattr(self.environment.parsed_options, "headless", False))
        gevent.spawn(self.stop_when_done, run, settings.autostop or headless)
        self._say_progress(lead, headless)

    def on_test_stop(self) -> None:
        self.finish()

    def _say_progress(self, lead: _Lead, headless: bool) -> None:
        """Headless, the planned duration (Locust's "No run time limit set" line is dropped:
        the harness ends the run itself); in place of Locust's request tables
        (``--only-summary``, as ``aisk-harness run`` asks unless ``--locust-stats``), one
        progress line every ``PROGRESS_INTERVAL_S`` and one at the end."""
        total_s = lead.settings.scenario.duration_ns / 1e9
        if headless:
            log.info(
                "aisk-harness: the run lasts %.0f s (its scenario's duration), then ends by "
                "itself; Ctrl-C ends it sooner, every record kept",
                total_s,
            )
        options = self.environment.parsed_options
        if options is None or not getattr(options, "only_summary", False):
            return
        lead.progress_from = time.monotonic()
        gevent.spawn(self._progress_lines, lead)

    def _progress_lines(self, lead: _Lead) -> None:
        while not lead.finished:
            gevent.sleep(PROGRESS_INTERVAL_S)
            if not lead.finished:
                self._progress_line(lead)

    def _progress_line(self, lead: _Lead) -> None:
        if lead.progress_from is None:
            return
        total_s = lead.settings.scenario.duration_ns / 1e9
        elapsed_s = min(time.monotonic() - lead.progress_from, total_s)
        log.info("aisk-harness: %s", lead.writer.progress.line(elapsed_s, total_s))

    def _warn_if_too_few_users(self, slots: int) -> None:
        users = self.runner.target_user_count
        if users is not None and users < slots:
            log.warning(
                "aisk-harness: %d users for %d slots: %d slots will not run, and the verdict "
                "will be inconclusive (start %d users, one per slot)",
                users,
                slots,
                slots - users,
                slots,
            )

    def on_quitting(self) -> None:
        if self._starts is not None:
            self._starts.quitting()
        if self.runner.state in (STATE_RUNNING, STATE_SPAWNING):
            self.runner.stop()  # its test_stop finishes the run, workers' last batches included
        self.finish()

    def claim_index(self) -> int:
        return self.claim_for(None)

    def claim_for(self, sender: str | None) -> int:
        """The next slot for a user of ``sender`` (a worker's name; None: this process)."""
        lead = self._lead
        if lead is None or self.run is None:
            return -1
        return lead.dispenser.next(sender)

    def finish(self) -> None:
        """Collect, write and account for every record; delete the chatbots. Once per run."""
        lead = self._lead
        if lead is None or lead.finished:
            return
        lead.finished = True
        if lead.live is not None:
            lead.live.stop()
        self.collect()
        run = self.run
        lead.writer.finish(lead.recorder, run.dropped if run else {}, run.behind if run else {})
        self._progress_line(lead)  # every record counted: the run's last word on progress
        left = self._tear_down(lead)
        recording = lead.writer.recording(
            lead.settings.run_id, self.lost_workers(), self._slots_not_run(lead), left
        )
        try:
            write_recording(Path(lead.settings.run_dir), recording)
            if lead.cpu is not None:
                write_generator_cpu(Path(lead.settings.run_dir), lead.cpu.stop())
        except OSError as exc:
            log.error("aisk-harness: cannot write recording.json: %s", exc)
        self._say(recording)
        self.end()
        if self._starts is not None and self._start is not None:
            self._starts.stopped(self._start)
            self._start = None

    # -- what the master does more ---------------------------------------------------------------

    def place(self, settings: RunSettings) -> RunSettings:
        """The settings with every key placed on a process that can send it (the master plans
        the IP keys over its workers' addresses)."""
        return settings

    @abstractmethod
    def announce(self, run: Run) -> None:
        """The run is set up (the master tells its workers)."""

    @abstractmethod
    def collect(self) -> None:
        """Every record still on its way reaches the writer (the master waits for its workers)."""

    @abstractmethod
    def lost_workers(self) -> list[str]: ...

    def worker_cpu(self) -> dict[str, float]:
        """Each worker's CPU use as its last heartbeat said (by name); none in one process."""
        return {}

    # -- helpers -----------------------------------------------------------------------------------

    def _settings(self) -> RunSettings:
        """The handed settings, or (a plain Locust run) the options as they are now, in a run
        directory of this Start's own: the web UI's form may have changed them since the process
        started, and every Start is a run."""
        if self._preset is not None or self._starts is None:
            assert self._preset is not None  # one of the two, from __init__
            return self._preset
        options = self.environment.parsed_options
        values = locust_option_values(options) if options is not None else {}
        start = self._starts.next(values.get("out"))
        try:
            settings = run_settings(
                values,
                spell=spell,
                run_id=start.run_id,
                run_dir=start.run_dir,
                target=self.environment.host or "",
            )
        except HarnessError:
            self._starts.forget(start)
            raise
        self._start = start
        return settings

    def _api_keys(self) -> tuple[str, str]:
        options = self.environment.parsed_options
        key = getattr(options, "aisk_api_key", None) or os.environ.get(API_KEY_ENV, "")
        second = getattr(options, "aisk_second_api_key", None) or os.environ.get(
            SECOND_API_KEY_ENV, ""
        )
        return key, second

    def _disk_failed(self, error: str) -> None:
        """Records can no longer be written: stop the load (it would go unrecorded) with exit 2."""
        log.error("aisk-harness: %s; stopping the run (every record written so far is kept)", error)
        self.environment.process_exit_code = 2
        # Locust writes its HTML and JSON reports unguarded after the run: on a full or read-only
        # disk they would end it with a traceback. They are skipped, and the summary says so.
        options = self.environment.parsed_options
        if options is not None and (options.html_file or options.json_file):
            log.error("aisk-harness: Locust's HTML and JSON reports are not written either")
            options.html_file, options.json_file = None, None
        gevent.spawn(self._stop_and_quit)

    def _violation_proven(self) -> None:
        """--fail-fast: the live judge proved a violation (and printed it); the run stops as
        at its end, and the offline verdict of what was recorded says the rest."""
        log.error("aisk-harness: --fail-fast: a violation is proven; stopping the run")
        gevent.spawn(self._stop_and_quit)

    def _decided(self, cases: frozenset[str]) -> None:
        """--until decided: a decided case's keys stop; once every case is, the run does."""
        lead, run = self._lead, self.run
        if lead is None or run is None or not lead.settings.until_decided:
            return
        for case in sorted(cases - lead.decided):
            log.info("aisk-harness: --until decided: case %s is decided; its keys stop", case)
            run.stop_case(case)
        lead.decided |= cases
        every = {case.name for case in lead.settings.scenario.cases}
        if every <= lead.decided and not lead.stopping:
            lead.stopping = True
            log.info("aisk-harness: --until decided: every case is decided; the run ends")
            gevent.spawn(self._stop_and_quit)

    def _stop_and_quit(self) -> None:
        self.runner.stop()  # lets workers ship their last batch, as at a normal end
        self.runner.quit()

    def _tear_down(self, lead: _Lead) -> list[str]:
        """Delete the run's chatbots; a target that cannot take it is a warning, not the end."""
        if not lead.provisioned.chatbot_ids:
            return []
        api_key, _ = self._api_keys()
        timeout_s = max(5.0, min(30.0, lead.settings.request_timeout_s))
        left = delete_chatbots(
            lead.settings.target, api_key, lead.provisioned.chatbot_ids, timeout_s
        )
        for problem in left.values():
            log.warning("aisk-harness: %s; delete it by hand", problem)
        return list(left)

    def _slots_not_run(self, lead: _Lead) -> list[str]:
        """Slots no user took: too few Locust users for the scenario, or a stop before they ran."""
        slots = lead.settings.slots
        if self.run is None or lead.settings.dry_run:
            return []
        return [
            f"{slot.case.name}/{slot.keys[0].index}"
            for slot in slots
            if slot.index not in lead.dispenser.taken
        ]

    def _say(self, recording: Recording) -> None:
        """Every record accounted for, or the run exits 3 and says what is missing."""
        for process, seen in recording.processes.items():
            if seen.recorded is None:
                continue  # a lost worker: named by lost_workers
            if not seen.complete:
                log.error(
                    "aisk-harness: %s recorded %d requests; %d reached the parts, %d counted lost",
                    process,
                    seen.recorded,
                    seen.written,
                    seen.lost,
                )
        if recording.records_lost:
            log.error(
                "aisk-harness: %d records could not be written; the %d written are kept",
                recording.records_lost,
                recording.records_written,
            )
        if recording.slots_not_run:
            slots = ", ".join(recording.slots_not_run[:10])
            log.warning(
                "aisk-harness: %d slots of the scenario never ran (too few users?): %s",
                len(recording.slots_not_run),
                slots,
            )
        incomplete = not recording.invariant_holds or recording.slots_not_run
        if incomplete and self.environment.process_exit_code is None:
            self.environment.process_exit_code = 3


class LocalSession(LeadSession):
    """A run in one process: its users claim slots here, its records go straight to the sink."""

    process = "local"

    def announce(self, run: Run) -> None:
        return

    def collect(self) -> None:
        return

    def lost_workers(self) -> list[str]:
        return []
