"""The Locust event hooks of a run: set-up, record shipping, clock offsets, autostop, teardown.

Roles: the local process or the master creates the chatbots and tokens once (``test_start``),
writes ``run.json`` and the records; workers receive the set-up in one message, claim slots,
estimate their clock offset to the master, and ship record batches. On stop the master waits for
every worker's last batch (Locust's own stop barrier: a worker's ``test_stop`` runs before it
reports "client_stopped"), then deletes the chatbots, also after a failure or an interrupt.
"""

from __future__ import annotations

from locust.runners import (
    STATE_CLEANUP,
    STATE_RUNNING,
    STATE_STOPPED,
    STATE_STOPPING,
    MasterRunner,
    WorkerRunner,
)

import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gevent
import pyarrow as pa
from pydantic import SecretStr

from harness.api.client import AiskClient
from harness.api.duration import format_duration
from harness.api.errors import AiskError, TransportError
from harness.errors import HarnessError
from harness.load.budget import RunBudget
from harness.load.chatbots import chatbot_for_case
from harness.load.classify import classify_answer, transport_answer, unread_answer
from harness.load.clock_offset import estimate_offset
from harness.load.locust_options import add_harness_options
from harness.load.locust_recorder import Recorder
from harness.load.locust_state import CaseSetup, LoadState, state_of
from harness.load.plan import RECORDING_FILE, CasePlan, KeyRecord, RunPlan, write_plan
from harness.load.row_buffer import RequestContext, table_from_bytes, table_to_bytes
from harness.load.scenario import (
    Scenario,
    default_scenario_path,
    load_scenario,
    parse_scenario,
    with_overrides,
)
from harness.load.setup_probes import run_setup_probes
from harness.load.sink import RecordSink

__all__ = ["register"]

log = logging.getLogger("aisk-harness")
CLOCK_SAMPLES = 8
AUTOSTOP_GRACE_S = 30.0


def register(events: Any) -> None:
    events.init_command_line_parser.add_listener(add_harness_options)
    events.init.add_listener(_on_init)
    events.test_start.add_listener(_on_test_start)
    events.test_stop.add_listener(_on_test_stop)
    events.quitting.add_listener(_on_quitting)


class _Master:
    """What only the recording process (local or master) keeps."""

    def __init__(self, scenario: Scenario, options: Any) -> None:
        self.scenario = scenario
        self.options = options
        self.run_dir: Path | None = None
        self.sink: RecordSink | None = None
        self.plan: RunPlan | None = None
        self.received: dict[str, int] = {}
        self.reported: dict[str, int] = {}
        self.torn_down = True
        self.loss_logged = False
        self.warned_lost: set[str] = set()


def _fail(environment: Any, message: str) -> None:
    """End the run with exit code 2 and a one-line reason (no traceback)."""
    log.error("aisk-harness: %s", message)
    environment.process_exit_code = 2
    runner = environment.runner
    if runner is not None:
        gevent.spawn_later(0.1, runner.quit)


def _stop_on_write_failure(environment: Any, error: str) -> None:
    """Records can no longer be written: stop the load (it would go unrecorded) with exit 2."""
    log.error("aisk-harness: %s; stopping the run (every record written so far is kept)", error)
    environment.process_exit_code = 2
    # Locust writes its HTML and JSON reports unguarded after the run: on a full or read-only
    # disk they would end it with a traceback. They are skipped, and the summary says so.
    options = environment.parsed_options
    if options.html_file or options.json_file:
        log.error("aisk-harness: Locust's HTML and JSON reports are not written either")
        options.html_file, options.json_file = None, None

    def stop() -> None:
        runner = environment.runner
        runner.stop()  # lets workers ship their last batch, as at a normal end
        runner.quit()

    gevent.spawn(stop)


def _scenario(options: Any) -> Scenario:
    path = Path(options.aisk_scenario) if options.aisk_scenario else default_scenario_path()
    scenario = load_scenario(path)
    if options.aisk_duration or options.aisk_clients_per_key:
        scenario = with_overrides(
            scenario, options.aisk_duration or None, options.aisk_clients_per_key or None
        )
    return scenario


def _on_init(environment: Any, **_: Any) -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per set-up call is noise
    options = environment.parsed_options
    runner = environment.runner
    role = (
        "master"
        if isinstance(runner, MasterRunner)
        else "worker"
        if isinstance(runner, WorkerRunner)
        else "local"
    )
    state = LoadState(environment, role, options.aisk_request_timeout)
    environment.aisk_state = state
    if role == "worker":

        def ship(table: pa.Table) -> None:
            batch = {"process": state.recorder.process, "table": table_to_bytes(table)}
            runner.send_message("aisk_records", batch)

        state.recorder = Recorder("w?", ship=ship)
        runner.register_message("aisk_setup", _worker_setup, concurrent=True)
        runner.register_message("aisk_slot", _worker_slot)
        runner.register_message("aisk_pong", _worker_pong)
        return
    try:
        scenario = _scenario(options)
        _budget(options)
    except HarnessError as exc:
        raise SystemExit(_exit_with(str(exc))) from None
    environment.aisk_master = _Master(scenario, options)
    if role == "master":
        runner.register_message("aisk_claim", _master_claim)
        runner.register_message("aisk_records", _master_records)
        runner.register_message("aisk_flushed", _master_flushed)
        runner.register_message("aisk_ping", _master_ping)


def _exit_with(message: str) -> int:
    log.error("aisk-harness: %s", message)
    return 2


def _run_dir(options: Any) -> Path:
    if options.aisk_out:
        return Path(options.aisk_out)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path("reports") / "runs" / stamp


def _on_test_start(environment: Any, **_: Any) -> None:
    state = state_of(environment)
    if state.role == "worker":
        return
    master: _Master = environment.aisk_master
    options = master.options
    run_id = options.aisk_run_id or datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    run_dir = _run_dir(options)
    try:
        sink = RecordSink(
            run_dir, state.role, on_failure=lambda error: _stop_on_write_failure(environment, error)
        )
        setups = _create_chatbots(state.host, options.aisk_api_key, master.scenario, run_id)
    except (HarnessError, AiskError) as exc:
        _fail(environment, str(exc))
        return
    master.run_dir, master.sink, master.torn_down = run_dir, sink, False
    master.received, master.reported = {}, {}
    state.recorder = Recorder(state.role, sink=sink)
    state.recorder.start()
    _record_setup_probes(state, options, setups)
    budget = _budget(options)
    state.install(run_id, master.scenario, setups, options.aisk_forwarded_for, *budget)
    master.plan = _write_plan(state, master, setups)
    state.ready.set()
    if state.role == "master":
        environment.runner.send_message(
            "aisk_setup",
            {
                "run_id": run_id,
                "scenario": master.scenario.model_dump(mode="json"),
                "forwarded_for": options.aisk_forwarded_for,
                "budget": budget,
                "cases": {
                    name: [setup.chatbot_id, setup.token.get_secret_value()]
                    for name, setup in setups.items()
                },
            },
        )
    if options.aisk_autostop:
        limit_s = master.scenario.duration_ns / 1e9 + AUTOSTOP_GRACE_S
        gevent.spawn(_autostop, environment, limit_s)
    log.info("aisk-harness: run %s, %d slots, records in %s", run_id, len(state.slots), run_dir)


def _budget(options: Any) -> tuple[int | None, float | None]:
    """The run's (max requests, max requests/s); 0 on the command line means no cap."""
    if options.aisk_max_requests < 0 or not options.aisk_max_rps >= 0:
        raise HarnessError("--aisk-max-requests and --aisk-max-rps: expected 0 (no cap) or more")
    return options.aisk_max_requests or None, options.aisk_max_rps or None


def _create_chatbots(
    host: str, api_key: str, scenario: Scenario, run_id: str
) -> dict[str, CaseSetup]:
    """One chatbot and one token per case; on failure, what was created is deleted again."""
    if not api_key:
        raise HarnessError("no API key: set AISK_API_KEY or pass --aisk-api-key")
    setups: dict[str, CaseSetup] = {}
    with AiskClient(host, api_key, timeout=30.0) as client:
        try:
            for case in scenario.cases:
                chatbot = client.create_chatbot(chatbot_for_case(case, run_id))
                setups[case.name] = CaseSetup(chatbot.id, SecretStr(""))
                token = client.create_chatbot_token(chatbot.id)
                setups[case.name] = CaseSetup(chatbot.id, token)
        except AiskError:
            _delete_chatbots(host, api_key, setups)
            raise
    return setups


def _record_setup_probes(state: LoadState, options: Any, setups: dict[str, CaseSetup]) -> None:
    """The settings round trip and access probes, recorded before the load starts."""
    chatbots = {name: setup.chatbot_id for name, setup in setups.items()}
    probes = run_setup_probes(
        state.host, options.aisk_api_key, options.aisk_second_api_key, chatbots
    )
    for probe in probes:
        if not probe.http_status:
            answer = transport_answer(probe.error_class, probe.error)
        elif probe.error_class:  # a status, but the body was not read whole
            answer = unread_answer(probe.http_status, probe.error_class, probe.error, 0)
        else:
            answer = classify_answer(probe.kind, probe.http_status, probe.body)
        context = RequestContext(probe.case, probe.chatbot_id, "", "", "", "", "", "setup")
        state.recorder.add(probe.kind, probe.phase, context, *probe.times, answer)


def _delete_chatbots(
    host: str, api_key: str, setups: dict[str, CaseSetup], timeout_s: float = 30.0
) -> dict[str, str]:
    """Delete every chatbot of the run; returns the ones left, with why (the run goes on).

    Once the target cannot be reached, the remaining chatbots are reported without trying each
    (a dead or hung target would otherwise cost a timeout per chatbot).
    """
    left: dict[str, str] = {}
    unreachable = ""
    with AiskClient(host, api_key, timeout=timeout_s) as client:
        for name, setup in setups.items():
            where = f"case {name}: chatbot {setup.chatbot_id} was not deleted"
            if unreachable:
                left[setup.chatbot_id] = f"{where} (the target is unreachable: {unreachable})"
                continue
            try:
                client.delete_chatbot(setup.chatbot_id)
            except TransportError as exc:
                unreachable = exc.kind
                left[setup.chatbot_id] = f"{where}: {exc}"
            except AiskError as exc:
                left[setup.chatbot_id] = f"{where}: {exc}"
    return left


def _write_plan(state: LoadState, master: _Master, setups: dict[str, CaseSetup]) -> RunPlan:
    assert master.run_dir is not None
    assert state.scenario is not None
    options = master.options
    plans = state.plans  # derived once, in LoadState.install
    emulator = json.loads(options.aisk_emulator) if options.aisk_emulator else None
    plan = RunPlan(
        run_id=state.run_id,
        created_at=datetime.now(UTC).isoformat(),
        target=state.host,
        embedded_emulator=emulator is not None,
        emulator=emulator,
        org_timezone=options.aisk_org_timezone,
        forwarded_for=options.aisk_forwarded_for,
        scenario=state.scenario,
        cases=[
            CasePlan(
                case=case,
                chatbot_id=setups[case.name].chatbot_id,
                duration_ns=state.scenario.case_duration_ns(case),
                keys=[KeyRecord.of(key) for key in plans[case.name]],
            )
            for case in state.scenario.cases
        ],
        second_org=bool(options.aisk_second_api_key),
        budget=RunBudget(
            max_requests=_budget(options)[0],
            max_rps=_budget(options)[1],
            duration=format_duration(state.scenario.duration_ns),
        ),
        label=options.aisk_label or None,
    )
    write_plan(master.run_dir, plan)
    return plan


def _autostop(environment: Any, limit_s: float) -> None:
    """Stop once every user has finished its slot (or the scenario's time is long past)."""
    runner = environment.runner
    started = time.monotonic()
    while True:
        gevent.sleep(0.5)
        if runner.state in (STATE_STOPPING, STATE_STOPPED, STATE_CLEANUP):
            return
        finished = runner.state == STATE_RUNNING and runner.user_count == 0
        if finished or time.monotonic() - started > limit_s:
            if not finished:
                log.warning("aisk-harness: the scenario overran its time; stopping the users")
            runner.stop()
            runner.quit()
            return


def _on_test_stop(environment: Any, **_: Any) -> None:
    state = state_of(environment)
    if state.role == "worker":
        if state.ready.is_set():
            state.recorder.flush()
            environment.runner.send_message(
                "aisk_flushed",
                {"process": state.recorder.process, "recorded": state.recorder.recorded},
            )
        return
    _finish(environment)


def _on_quitting(environment: Any, **_: Any) -> None:
    state = getattr(environment, "aisk_state", None)
    if state is None or state.role == "worker":
        return
    runner = environment.runner
    if runner is not None and runner.state not in (STATE_STOPPED, STATE_STOPPING, STATE_CLEANUP):
        # Stopping first lets every worker ship its last batch before the master goes.
        runner.stop()
    _finish(environment)


def _finish(environment: Any) -> None:
    """Write what is buffered, account for every process's records, delete the chatbots."""
    state = state_of(environment)
    master: _Master = environment.aisk_master
    if master.sink is None or master.run_dir is None:
        return
    state.recorder.hand_over()
    sink = master.sink
    sink.close()
    if sink.lost and not master.loss_logged:
        master.loss_logged = True
        log.error(
            "aisk-harness: %s; %d records could not be written, the %d written are kept",
            sink.write_error or "the records directory could not be written", sink.lost,
            sink.written,
        )  # fmt: skip
        environment.process_exit_code = 2
    local = state.recorder.recorded if state.role == "local" else 0
    recording: dict[str, Any] = {
        "records_written": sink.written,
        "records_lost": sink.lost,
        "local_recorded": local,
        "workers": {
            process: {"recorded": master.reported.get(process), "received": received}
            for process, received in sorted(master.received.items())
        },
    }
    for process, reported in master.reported.items():
        if master.received.get(process, 0) != reported:
            log.error(
                "aisk-harness: worker %s recorded %d requests but %d reached the master",
                process, reported, master.received.get(process, 0),
            )  # fmt: skip
    if state.role == "master":
        recording["lost_workers"] = _lost_workers(environment.runner, master)
    if not master.torn_down:
        master.torn_down = True
        recording["chatbots_not_deleted"] = _tear_down(state, master)
    _write_recording(master.run_dir, recording)


def _lost_workers(runner: MasterRunner, master: _Master) -> list[str]:
    """Workers that joined but never reported their last batch: killed, or cut off.

    A worker's ``aisk_flushed`` precedes its "client_stopped" (Locust's stop barrier), so by the
    master's ``test_stop`` every live worker has sent it; Locust itself only marks the others
    "missing" after three lost heartbeats.
    """
    lost = sorted(
        f"w{index}"
        for index in runner.worker_indexes.values()
        if f"w{index}" not in master.reported
    )
    for process in lost:
        if process in master.warned_lost:
            continue
        master.warned_lost.add(process)
        log.warning(
            "aisk-harness: worker %s was lost before it reported its last batch; the %d records "
            "it shipped are kept, requests it sent after its last batch are not recorded",
            process, master.received.get(process, 0),
        )  # fmt: skip
    return lost


def _tear_down(state: LoadState, master: _Master) -> list[str]:
    """Delete the run's chatbots; a target that cannot take it is a warning, not the run's end."""
    left = _delete_chatbots(
        state.host, master.options.aisk_api_key, state.setups,
        timeout_s=max(5.0, min(30.0, master.options.aisk_request_timeout)),
    )  # fmt: skip
    for problem in left.values():
        log.warning("aisk-harness: %s; delete it by hand", problem)
    return list(left)


def _write_recording(run_dir: Path, recording: dict[str, Any]) -> None:
    """recording.json, merged with what an earlier call wrote (teardown happens only once)."""
    path = run_dir / RECORDING_FILE
    try:
        earlier = json.loads(path.read_text()) if path.exists() else {}
        path.write_text(json.dumps({**earlier, **recording}, indent=2))
    except (OSError, ValueError) as exc:
        log.error("aisk-harness: cannot write %s: %s", path, exc)


# -- messages ------------------------------------------------------------------------------


def _master_claim(environment: Any, msg: Any, **_: Any) -> None:
    state = state_of(environment)
    index = state.next_slot_index()
    environment.runner.send_message(
        "aisk_slot", {"nonce": msg.data["nonce"], "index": index}, msg.data["client_id"]
    )


def _master_records(environment: Any, msg: Any, **_: Any) -> None:
    master: _Master = environment.aisk_master
    process = str(msg.data["process"])
    try:
        table = table_from_bytes(msg.data["table"])
    except ValueError as exc:
        log.error("aisk-harness: a record batch from %s was unreadable: %s", process, exc)
        return
    if master.sink is not None and table.num_rows:
        master.sink.append_table(table)
        master.received[process] = master.received.get(process, 0) + table.num_rows


def _master_flushed(environment: Any, msg: Any, **_: Any) -> None:
    master: _Master = environment.aisk_master
    master.reported[msg.data["process"]] = int(msg.data["recorded"])
    master.received.setdefault(msg.data["process"], 0)


def _master_ping(environment: Any, msg: Any, **_: Any) -> None:
    environment.runner.send_message(
        "aisk_pong", {"t1": msg.data["t1"], "t2": time.time_ns()}, msg.data["client_id"]
    )


def _worker_setup(environment: Any, msg: Any, **_: Any) -> None:
    state = state_of(environment)
    runner = environment.runner
    data = msg.data
    setups = {
        name: CaseSetup(chatbot_id, SecretStr(token))
        for name, (chatbot_id, token) in data["cases"].items()
    }
    scenario = parse_scenario(data["scenario"], "set-up message")
    state.recorder.process = f"w{runner.worker_index}"
    state.install(data["run_id"], scenario, setups, data["forwarded_for"], *data["budget"])
    environment.aisk_pongs = []
    for _sample in range(CLOCK_SAMPLES):
        runner.send_message("aisk_ping", {"client_id": runner.client_id, "t1": time.time_ns()})
        gevent.sleep(0.02)
    deadline = time.monotonic() + 2.0
    while len(environment.aisk_pongs) < CLOCK_SAMPLES and time.monotonic() < deadline:
        gevent.sleep(0.01)
    if environment.aisk_pongs:
        state.recorder.offset = estimate_offset(environment.aisk_pongs)
    state.recorder.start()
    state.ready.set()


def _worker_slot(environment: Any, msg: Any, **_: Any) -> None:
    state_of(environment).answer_claim(msg.data["nonce"], int(msg.data["index"]))


def _worker_pong(environment: Any, msg: Any, **_: Any) -> None:
    environment.aisk_pongs.append((msg.data["t1"], msg.data["t2"], time.time_ns()))
