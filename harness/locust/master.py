"""The master of a distributed run: it leads the run, and its workers send the load.

Workers get the set-up in one ``SetUp`` message (to each, by name, so the master knows whom to
expect), claim slots one at a time, and ship record batches. When the run stops the master tells
every worker still owing its last batch to flush now (whatever stopped the run: Locust's own
``quit`` fires ``test_stop`` before it tells the workers anything) and waits, bounded, until each
has reported its total or is gone: only then is the sink closed. A worker that never reports is
lost, and named.

The run is over when every worker that had users at the start says ``UsersDone``, not when
Locust's count of the workers' users reads 0: that count comes from the workers' reports, which
on a busy host arrive seconds late (before the first one it reads 0, and a run was once ended a
second into its load with every key unsent). A worker Locust marks missing (no heartbeat for
about 3 s: a dead host, or one starved of CPU) is waited for ``MISSING_GRACE_S``: one that comes
back finishes its slots and ships its records into the run; one that does not is lost.
"""

from __future__ import annotations

from locust.env import Environment
from locust.runners import STATE_MISSING, MasterRunner

import logging
import time
from pathlib import Path

import gevent

from harness.load.keys import needs_host_addresses, url_host
from harness.load.settings import RunSettings, planned_over_senders, write_settings
from harness.locust.events import on_event
from harness.locust.lead import LeadSession
from harness.locust.protocol import (
    Claim,
    Flushed,
    FlushNow,
    Hello,
    Ping,
    Pong,
    Records,
    SetUp,
    SlotGrant,
    Sources,
    UsersDone,
    listen,
    send,
)
from harness.locust.quirks import keep_users_where_they_are
from harness.locust.session import Run

__all__ = ["MasterSession"]

log = logging.getLogger("aisk-harness")
# A worker's last batch follows its users' stop at once; this bounds the wait for a dead one
# (Locust marks it missing after three lost heartbeats, about 3 s).
FLUSH_WAIT_S = 15.0
SOURCES_WAIT_S = 10.0  # a worker says its addresses as it connects: this bounds a silent one
# How long a worker marked missing may take to come back before it is lost: a host starved of
# CPU for seconds resumes its heartbeats (Locust then says "self-healed"), a dead one never does.
MISSING_GRACE_S = 10.0


class MasterSession(LeadSession):
    process = "master"

    def __init__(self, environment: Environment, runner: MasterRunner) -> None:
        super().__init__(environment, runner)
        self.master = runner
        self._set_up: set[str] = set()  # workers sent this run's set-up
        self._flushed: set[str] = set()  # workers that reported their total
        self._sources: dict[str, list[str]] = {}  # each worker's source addresses, by client id
        self._known: set[str] = set()  # every worker that ever joined
        self._owe_users: set[str] = set()  # workers at the run's start: each says UsersDone
        self._users_done: set[str] = set()
        self._missing_since: dict[str, float] = {}  # monotonic instant first seen missing
        listen(runner, Hello, self._hello)
        listen(runner, Claim, self._claim)
        listen(runner, Records, self._records)
        listen(runner, Flushed, self._flushed_worker)
        listen(runner, UsersDone, self._worker_users_done)
        listen(runner, Ping, self._ping)
        listen(runner, Sources, self._worker_sources)
        keep_users_where_they_are(runner, lambda: self.run is not None)
        on_event(environment.events.worker_connect, self._joined)

    def worker_cpu(self) -> dict[str, float]:
        return {self.process_of(c.id): float(c.cpu_usage) for c in self.master.clients.all}

    def process_of(self, client_id: str) -> str:
        index = self.master.get_worker_index(client_id)  # type: ignore[no-untyped-call]
        return f"w{index}"

    def place(self, settings: RunSettings) -> RunSettings:
        """IP keys against a remote target are the workers' own addresses: planned over them
        once every connected worker has said what it has, each key on the worker that owns it."""
        if not needs_host_addresses(url_host(settings.target), settings.forwarded_for):
            return settings
        clients = [client.id for client in self.master.clients.all]
        deadline = time.monotonic() + SOURCES_WAIT_S
        while any(c not in self._sources for c in clients) and time.monotonic() < deadline:
            gevent.sleep(0.05)
        senders: dict[str, list[str]] = {}
        claimed: set[str] = set()  # workers on one host offer the same addresses: first wins
        for client in sorted(clients, key=self.master.get_worker_index):
            offered = self._sources.get(client)
            if offered is None:
                log.warning(
                    "aisk-harness: worker %s never said its source addresses; it gets no IP key",
                    self.process_of(client),
                )
            senders[self.process_of(client)] = [a for a in offered or [] if a not in claimed]
            claimed.update(offered or [])
        placed = planned_over_senders(settings, senders)
        write_settings(Path(placed.run_dir), placed)
        self._say_placement(placed)
        return placed

    def _say_placement(self, settings: RunSettings) -> None:
        """The plan's last part, printed before the load: which worker sends which IP keys."""
        by_sender: dict[str, list[str]] = {name: [] for name in settings.senders or {}}
        for slot, sender in zip(settings.slots, settings.slot_senders, strict=True):
            if sender is not None:
                by_sender[sender] += [f"{slot.case.name}/{key.index}" for key in slot.keys]
        for sender, keys in by_sender.items():
            addresses = ", ".join((settings.senders or {}).get(sender, [])) or "no address"
            log.info(
                "aisk-harness: worker %s (%s) sends the IP keys %s; any worker the rest",
                sender,
                addresses,
                ", ".join(keys) or "none",
            )

    def announce(self, run: Run) -> None:
        self._set_up, self._flushed, self._users_done = set(), set(), set()
        for client in list(self.master.clients.all):
            self._send_set_up(run, client.id)
        self._owe_users = set(self._set_up)  # a late joiner gets no users (quirks.py)

    def users_done(self) -> bool:
        """Locust sees no user left, and every worker that had users has said they are done
        or is gone for good."""
        if not super().users_done():
            return False
        return all(self._gone(client) for client in self._owe_users - self._users_done)

    def _send_set_up(self, run: Run, client_id: str) -> None:
        send(self.master, SetUp(settings=run.settings, chatbots=run.chatbots), client_id)
        self._set_up.add(client_id)

    def collect(self) -> None:
        owing = self._set_up - self._flushed
        for client_id in owing:
            send(self.master, FlushNow(), client_id)
        deadline = time.monotonic() + FLUSH_WAIT_S
        while owing and time.monotonic() < deadline:
            gevent.sleep(0.05)
            owing = {client for client in owing - self._flushed if not self._gone(client)}

    def _gone(self, client_id: str) -> bool:
        """The worker quit, or has been missing longer than ``MISSING_GRACE_S``."""
        client = self.master.clients.get(client_id)
        if client is None:
            return True
        if client.state != STATE_MISSING:
            self._missing_since.pop(client_id, None)
            return False
        since = self._missing_since.setdefault(client_id, time.monotonic())
        return time.monotonic() - since > MISSING_GRACE_S

    def lost_workers(self) -> list[str]:
        lost = sorted(self.process_of(client) for client in self._set_up - self._flushed)
        senders = (self.run.settings.senders if self.run is not None else None) or {}
        for process in lost:
            addresses = ", ".join(senders.get(process, []))
            log.warning(
                "aisk-harness: worker %s%s was lost before it reported its last batch; the "
                "records it shipped are kept, requests it sent after its last batch are not "
                "recorded",
                process,
                f" ({addresses})" if addresses else "",
            )
        return lost

    # -- messages ------------------------------------------------------------------------------

    def _hello(self, _: Hello, client_id: str) -> None:
        run = self.run
        if run is not None and client_id not in self._set_up:
            if (
                run.settings.senders is not None
                and self.process_of(client_id) not in run.settings.senders
            ):
                addresses = ", ".join(self._sources.get(client_id, [])) or "no address"
                log.warning(
                    "aisk-harness: worker %s (%s) joined after the keys were planned: "
                    "it sends no IP key, only slots no one has taken",
                    self.process_of(client_id),
                    addresses,
                )
            self._send_set_up(run, client_id)

    def _joined(self, client_id: str, **_: object) -> None:
        # A worker says it is ready again after every stop: only a first join is news.
        first = client_id not in self._known
        self._known.add(client_id)
        if first and self.run is not None:
            log.warning(
                "aisk-harness: worker %s joined after the load began: it gets no keys "
                "and sends nothing (the running users stay where they are)",
                self.process_of(client_id),
            )

    def _worker_sources(self, sources: Sources, client_id: str) -> None:
        self._sources[client_id] = list(sources.addresses)

    def _claim(self, claim: Claim, client_id: str) -> None:
        index = self.claim_for(self.process_of(client_id))
        send(self.master, SlotGrant(nonce=claim.nonce, index=index), client_id)

    def _records(self, records: Records, client_id: str) -> None:
        lead = self._lead
        if lead is not None:
            lead.writer.take_shipped(self.process_of(client_id), records.table)

    def _flushed_worker(self, flushed: Flushed, client_id: str) -> None:
        lead = self._lead
        if lead is not None:
            lead.writer.report(
                self.process_of(client_id), flushed.recorded, flushed.dropped, flushed.behind
            )
        self._flushed.add(client_id)

    def _worker_users_done(self, _: UsersDone, client_id: str) -> None:
        self._users_done.add(client_id)

    def _ping(self, ping: Ping, client_id: str) -> None:
        send(self.master, Pong(sent_ns=ping.sent_ns, master_ns=time.time_ns()), client_id)
