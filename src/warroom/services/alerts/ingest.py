"""Alert ingest: one use case per webhook body, written by group commit.

:class:`AlertIngest` takes one parsed body in ONE transaction: it reads the stored state
of every fingerprint at once, lets :func:`~warroom.domain.alerts.transitions.transition`
decide per alert, writes only what changed (so a redelivery writes nothing), and only the
alerts that changed cause incident work: firing ones attach to their service's open
incident or declare one by policy (else they wait in the triage queue,
:mod:`warroom.services.alerts.queue`); resolutions of attached alerts land on the
incident's timeline. The incident events are stamped into the hash chain and appended in
the same transaction, so the webhook's 2xx means all of it is committed.

Writer threads write the bodies queued while they wrote the last group together in one
transaction (:mod:`warroom.services.alerts.group_commit`), each with its own result.
"""

from __future__ import annotations

import itertools
import threading
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from warroom.domain.alerts.declaring import AlertFacts, declaration_for, signal_facts
from warroom.domain.alerts.formats import ChangeSignal
from warroom.domain.alerts.policy import AlertPolicy, DeclareRule
from warroom.domain.alerts.routing import UNROUTED, Route, Router
from warroom.domain.alerts.signals import AlertSignal, ParsedBatch
from warroom.domain.alerts.transitions import Known, Outcome, transition
from warroom.domain.incidents.changes import Change
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ConcurrencyConflict
from warroom.services.alerts.change_events import record_change_events
from warroom.services.alerts.group_commit import IngestResult, _parts, _Pending, _same_report
from warroom.services.alerts.incident_work import _declare, _extend, _IncidentWork, _States
from warroom.services.ports.alerts import AlertStore, IngestView
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

ATTEMPTS = 3
GROUP_SIGNALS = 5000  # most alerts written in one group transaction
WRITER_IDLE = 1.0  # seconds the writer thread waits for more before it ends
STORED_KEPT = 100_000  # fingerprints remembered as stored (about 10 MB)


@dataclass
class _Step:
    signal: AlertSignal
    outcome: Outcome
    known: Known | None
    route: Route | None
    alert_id: int | None = None
    ref: str | None = None
    declared: bool = False
    queued: bool = False

    @property
    def service(self) -> str:
        if self.route is not None:
            return self.route.service
        assert self.known is not None
        return self.known.service


class _Tally:
    """One body's share of a group's steps."""

    def __init__(self) -> None:
        self.steps: list[_Step] = []

    def add(self, step: _Step) -> None:
        self.steps.append(step)

    def result(self, received: int) -> IngestResult:
        steps = self.steps
        return IngestResult(
            received=received,
            new=sum(1 for s in steps if s.known is None),
            changed=len(steps),
            declared=tuple(sorted({s.ref for s in steps if s.declared and s.ref})),
            updated=tuple(sorted({s.ref for s in steps if not s.declared and s.ref})),
            queued=sum(1 for s in steps if s.queued),
        )


class _Relock(Exception):
    """Stored alerts belong to services the transaction did not lock; redo with them."""

    def __init__(self, services: frozenset[str]) -> None:
        super().__init__(", ".join(sorted(services)))
        self.services = services


class _Stored:
    """Fingerprints of alerts this process saw stored, per source, the newest
    :data:`STORED_KEPT` of each.

    Alerts are never deleted, so the first part of a group leaves these out of the insert it
    prepares before its locks: a redelivery, Alertmanager's periodic resend of what still
    fires, or a resolution costs no rows built and no probes. Only a shortcut: a new alert
    it left out (a database restored to an older state) is inserted the usual way."""

    def __init__(self, size: int = 0) -> None:
        self._size = size or STORED_KEPT
        self._sources: dict[str, dict[str, None]] = {}
        self._lock = threading.Lock()

    def of(self, source: str) -> Mapping[str, None]:
        return self._sources.get(source) or {}

    def add(self, source: str, fingerprints: Iterable[str]) -> None:
        with self._lock:
            kept = self._sources.setdefault(source, {})
            kept.update(dict.fromkeys(fingerprints))
            if len(kept) > self._size:  # forget the oldest half (dicts keep insertion order)
                for key in list(itertools.islice(kept, len(kept) // 2)):
                    del kept[key]


class AlertIngest:
    """Ingests webhook bodies for one application; build it once and share it.

    Writer threads write for every caller; callers wait on a future, so an async edge
    awaits it without tying up a thread of its own. One writer suits SQLite (more would
    only queue on its file lock, with the busy handler's sleeps); on PostgreSQL a few
    ``writers`` overlap their round trips and commits.
    """

    def __init__(self, ctx: Context, policy: AlertPolicy, *, writers: int = 1) -> None:
        self.ctx = ctx
        self.policy = policy
        self._queue: list[_Pending] = []
        self._wake = threading.Condition()
        self._max_writers = writers
        self._writers = 0  # writer threads running
        self._idle = 0  # of which waiting for work
        self._states = _States()
        self._stored = _Stored()

    @cached_property
    def router(self) -> Router:
        """The catalog's matchers, compiled on first use."""
        return Router(self.ctx.catalog)

    def submit(self, batch: ParsedBatch, actor: str) -> Future[IngestResult]:
        """Queue one body for the writer thread; the future completes after its commit.

        The writer takes every body queued while it wrote the last group, and those queued
        while it makes the group's inserts that fit it, and writes them together in one
        transaction (group commit: one BEGIN, one read per source, one COMMIT for many small
        deliveries), each with its own result. The future raises ``ConcurrencyConflict``
        only when the group met a concurrent writer for :data:`ATTEMPTS` attempts (an
        incident that kept changing, or a deadlock with another process's ingest), and
        storage faults for the caller to answer 503.
        """
        future: Future[IngestResult] = Future()
        signals = list({s.fingerprint: s for s in batch.signals}.values())
        if not signals:
            future.set_result(IngestResult(0))
            return future
        with self._wake:
            self._queue.append(_Pending(batch.source, signals, actor, future))
            if self._idle:
                self._wake.notify()
            elif self._writers < self._max_writers:
                self._writers += 1
                threading.Thread(target=self._write_queued, name="warroom-alert-writer", daemon=True).start()
        return future

    def ingest(self, batch: ParsedBatch, actor: str) -> IngestResult:
        """:meth:`submit` and wait: returns after the body's alerts are committed."""
        return self.submit(batch, actor).result()

    def _write_queued(self) -> None:
        """The writer thread: a group at a time; it ends after a second with nothing queued."""
        while True:
            with self._wake:
                while not self._queue:
                    self._idle += 1
                    woken = self._wake.wait(timeout=WRITER_IDLE)
                    self._idle -= 1
                    if not woken and not self._queue:
                        self._writers -= 1
                        return
                group: list[_Pending] = []
                size = 0
                while self._queue and (not group or size + len(self._queue[0].signals) <= GROUP_SIGNALS):
                    group.append(self._queue.pop(0))
                    size += len(group[-1].signals)
            try:
                self._store(group)
            finally:  # never leave a waiting body behind, whatever stopped this thread
                for pending in group:
                    if not pending.future.done():
                        pending.future.set_exception(RuntimeError("the alert writer stopped"))

    def _join(self, first: _FirstPart) -> _Pending | None:
        """The next queued body, taken off the queue, if it joins ``first`` as it stands:
        from the same source and sender, within :data:`GROUP_SIGNALS`, and reporting no
        alert of the part otherwise (that would need a later part, see ``_parts``)."""
        with self._wake:
            if not self._queue:
                return None
            pending = self._queue[0]
            if (pending.source, pending.actor) != (first.source, first.actor):
                return None
            if first.size + len(pending.signals) > GROUP_SIGNALS:
                return None
            held = first.held
            if any(
                (seen := held.get(signal.fingerprint)) is not None and not _same_report(seen, signal)
                for signal in pending.signals
            ):
                return None
            return self._queue.pop(0)

    def _store(self, group: list[_Pending]) -> None:
        failure: Exception | None = None
        extra: frozenset[str] = frozenset()
        attempt = 0
        while attempt < ATTEMPTS:
            attempt += 1
            try:
                results = self._ingest_once(group, extra)
            except _Relock as relock:
                extra |= relock.services
                attempt -= 1  # the set only grows, so this ends; not a conflict
                continue
            except ConcurrencyConflict as error:
                failure = error
                continue
            except Exception as error:  # a storage fault: every body of the group answers it
                failure = error
                break
            for pending, result in zip(group, results, strict=True):
                pending.future.set_result(result)
            return
        assert failure is not None
        for pending in group:
            pending.future.set_exception(failure)

    def _plan(
        self,
        signals: Sequence[AlertSignal],
        routes: Sequence[Route],
        known: Mapping[str, Known],
        decided: Mapping[str, _Step] | None = None,
    ) -> list[_Step]:
        """The steps that change something; a new or firing alert takes its route.
        ``decided``: steps already made for these signals as new alerts (before the locks),
        taken as they are for the ones the read found not stored."""
        steps = []
        for signal, route in zip(signals, routes, strict=True):
            found = known.get(signal.fingerprint)
            if found is None and decided is not None and (step := decided.get(signal.fingerprint)):
                steps.append(step)  # the same decision, already made outside the locks
                continue
            outcome = transition(found, signal)
            if outcome.writes:
                steps.append(_Step(signal, outcome, found, route if found is None or outcome.fires else None))
        return steps

    def _ingest_once(self, group: list[_Pending], extra: frozenset[str]) -> list[IngestResult]:
        """One attempt at the group's transaction. It locks the services the alerts route
        to (plus ``extra``) before reading anything; a stored alert found on a service
        outside that set (the catalog changed since it was stored) raises :class:`_Relock`,
        and the attempt is redone with the set grown, so locks are always taken together
        and in order."""
        parts, origin = _parts(group)
        route = self.router.route
        routes = [[route(signal.labels) for signal in signals] for _, _, signals in parts]
        locked = {r.service for routed in routes for r in routed} | extra
        results = [_Tally() for _ in group]
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            alerts = uow.alerts
            # The first part's new alerts are inserted before the locks, body by body, and
            # the bodies queued meanwhile that fit the part join it (see _FirstPart).
            first = _FirstPart(self, alerts, group, parts, routes, origin, results, locked, now)
            # On PostgreSQL one pipeline: the inserts, the locks, the reads, and the events
            # other processes appended to the incidents kept here.
            view = alerts.begin_ingest(first, now)
            locked = set(first.asked)  # what the store locked (the bodies that joined included)
            fresh_steps = first.fresh
            open_incidents = dict(view.open_incidents)
            touched: list[IncidentState] = []
            seen: dict[str, list[str]] = defaultdict(list)  # stored, once this commits
            for index, (source, actor, signals) in enumerate(parts):
                known = view.known if index == 0 else alerts.known(source, [s.fingerprint for s in signals])
                seen[source] += known
                # later parts re-read: an earlier one wrote
                steps = self._plan(signals, routes[index], known, fresh_steps if index == 0 else None)
                outside = {step.service for step in steps} - locked
                if outside:
                    raise _Relock(frozenset(outside))
                steps = self._write(
                    uow, steps, now, (view.inserted or {}, fresh_steps) if index == 0 else None
                )
                seen[source] += [step.signal.fingerprint for step in steps if step.known is None]
                self._incident_work(uow, steps, actor, now, touched, open_incidents, view)
                for step in steps:
                    results[origin[index, step.signal.fingerprint]].add(step)
            if any(tally.steps for tally in results):  # else nothing was written
                uow.commit()
        if any(step.declared for tally in results for step in tally.steps):
            self.ctx.doorbell.ring()  # a declaration opens a page: the job runner fires it now
        self._states.keep(touched)
        for source, fingerprints in seen.items():
            self._stored.add(source, fingerprints)
        return [tally.result(len(p.signals)) for tally, p in zip(results, group, strict=True)]

    def _write(
        self,
        uow: UnitOfWork,
        steps: list[_Step],
        now: datetime,
        inserted: tuple[Mapping[str, int], Collection[str]] | None,
    ) -> list[_Step]:
        """Insert, update and record transitions; returns the steps that took effect.
        ``inserted``: what the pipeline's insert stored, of the fingerprints it was given;
        a new alert it was not given (this process thought it stored) is inserted here."""
        new = [s for s in steps if s.known is None]
        ids: Mapping[str, int] = {}
        if inserted is not None:
            ids, given = inserted
            new = [s for s in new if s.signal.fingerprint not in given]
        if new:
            ids = {
                **ids,
                **uow.alerts.insert(
                    [(s.signal, s.route) for s in new if s.route is not None],
                    now,
                    {s.signal.fingerprint: _moves(s, now) for s in new},
                ),
            }
        done = []
        for step in steps:
            step.alert_id = step.known.id if step.known is not None else ids.get(step.signal.fingerprint)
            if step.alert_id is not None:  # None: a concurrent delivery stored it first
                done.append(step)
        known = [s for s in done if s.known is not None]
        uow.alerts.update(
            [(s.alert_id, s.signal, s.outcome, s.route) for s in known if s.alert_id],
            now,
            [(s.alert_id, status, at) for s in known if s.alert_id for status, at in _moves(s, now)],
        )
        return done

    def _incident_work(
        self,
        uow: UnitOfWork,
        steps: list[_Step],
        actor: str,
        now: datetime,
        touched: list[IncidentState],
        open_incidents: dict[str, int],
        view: IngestView,
    ) -> None:
        """Attach, declare or queue the firing steps; resolutions go to their incidents.
        Each step records what happened to it (``ref``, ``declared``, ``queued``).
        ``open_incidents`` (of the locked services) gains the incidents declared here;
        ``view`` says which services are silenced and the versions read with them."""
        silenced = view.silenced
        fired: dict[str, list[_Step]] = defaultdict(list)
        work: dict[int, _IncidentWork] = defaultdict(_IncidentWork)
        for step in steps:
            if step.outcome.fires:
                fired[step.service].append(step)
            elif step.outcome is Outcome.RESOLVED and step.known is not None and step.known.incident:
                work[step.known.incident].resolved.append((step.signal.fingerprint, step.signal.ends_at))
                step.ref = f"INC-{step.known.incident}"
        for service in sorted(fired):
            group = fired[service]
            if service in open_incidents:
                item = work[open_incidents[service]]
                item.attach += _facts(group)
                item.service = service
                for step in group:
                    step.ref = f"INC-{open_incidents[service]}"
                continue
            rule = None
            if service != UNROUTED and service not in silenced:
                rule = next((r for s in group if (r := self._rule(s))), None)
            if rule is None:
                for step in group:
                    step.queued = True
                continue
            route = group[0].route
            assert route is not None
            facts = _facts(group)
            decl = declaration_for([f for f, _ in facts], route, self.policy, now=now, rule=rule)
            state = _declare(self.ctx, uow, decl, facts, actor, now)
            open_incidents[service] = state.number
            touched.append(state)
            for step in group:
                step.ref, step.declared = state.ref, True
        for number, item in sorted(work.items()):
            state = self._states.take(uow, number, view.versions.get(number), view.newer.get(number))
            touched.append(state)
            _extend(self.ctx, uow, state, item, actor, now, self.policy.scope_labels)

    def _rule(self, step: _Step) -> DeclareRule | None:
        assert step.route is not None
        return self.policy.rule_for(step.signal.labels, step.signal.severity, step.route)

    # --- change events -----------------------------------------------------------------

    def record_changes(self, signals: Sequence[ChangeSignal], actor: str) -> list[tuple[Change, bool]]:
        """Store CloudEvents changes in one transaction, deduplicated on (source, id)."""
        return record_change_events(self.ctx, signals, actor)


class _FirstPart:
    """A group's first part as its transaction inserts it (the store's
    :class:`~warroom.services.ports.alerts.IngestBatch`): each body's new alerts are one
    insert, made when the store asks for it, so on PostgreSQL the database inserts one body
    while the writer builds the next. A group of one part then takes in the bodies queued
    meanwhile that fit it (:meth:`AlertIngest._join`): the deliveries answered by the last
    commit arrive one by one while the event loop parses them, and each joins the group as
    soon as it is queued instead of waiting for the next group. ``fresh`` holds the steps
    decided for the alerts tried as new (outside the locks)."""

    def __init__(
        self,
        ingest: AlertIngest,
        alerts: AlertStore,
        group: list[_Pending],
        parts: list[tuple[str, str, list[AlertSignal]]],
        routes: list[list[Route]],
        origin: dict[tuple[int, str], int],
        results: list[_Tally],
        locked: set[str],
        now: datetime,
    ) -> None:
        self.source, self.actor, self.signals = parts[0]
        self.routes = routes[0]
        self._ingest = ingest
        self._alerts = alerts
        self._group = group
        self._alone = len(parts) == 1
        self._origin = origin
        self._results = results
        self._locked = locked
        self.size = sum(len(pending.signals) for pending in group)  # every body's, as the writer counts
        self.asked: frozenset[str] = frozenset(locked)  # what the store was told to lock
        self._now = now
        self._stored = ingest._stored.of(self.source)  # left out: this process saw them stored
        self.fresh: dict[str, _Step] = {}
        self.held = {signal.fingerprint: signal for signal in self.signals}

    def inserts(self) -> Iterator[object]:
        bodies: dict[int, list[tuple[AlertSignal, Route]]] = defaultdict(list)
        for signal, route in zip(self.signals, self.routes, strict=True):
            bodies[self._origin[0, signal.fingerprint]].append((signal, route))
        for index in sorted(bodies):
            yield self._prepare(bodies[index])
        while self._alone and (pending := self._ingest._join(self)) is not None:
            yield self._prepare(self._add(pending))

    def _add(self, pending: _Pending) -> list[tuple[AlertSignal, Route]]:
        """Take ``pending`` into the group and this part; its alerts new to the part."""
        self._group.append(pending)
        self._results.append(_Tally())
        self.size += len(pending.signals)
        index = len(self._group) - 1
        route = self._ingest.router.route
        added = []
        for signal in pending.signals:
            if signal.fingerprint in self.held:
                continue  # the same report again (_join checked): dropped, as _parts does
            routed = route(signal.labels)
            self.held[signal.fingerprint] = signal
            self._origin[0, signal.fingerprint] = index
            self.signals.append(signal)
            self.routes.append(routed)
            self._locked.add(routed.service)
            added.append((signal, routed))
        return added

    def _prepare(self, pairs: Sequence[tuple[AlertSignal, Route]]) -> object:
        """The insert of the alerts of ``pairs`` that may be new, with their transitions."""
        fresh = [
            _Step(signal, outcome, None, route)
            for signal, route in pairs
            if signal.fingerprint not in self._stored and (outcome := transition(None, signal)).writes
        ]
        self.fresh.update((step.signal.fingerprint, step) for step in fresh)
        now = self._now
        return self._alerts.prepare_insert(
            [(s.signal, s.route) for s in fresh if s.route is not None],
            now,
            {s.signal.fingerprint: _moves(s, now) for s in fresh},
        )

    def services(self) -> Collection[str]:
        self.asked = frozenset(self._locked)
        return self.asked

    def fingerprints(self) -> Sequence[str]:
        return [signal.fingerprint for signal in self.signals]

    def catch_up(self) -> Mapping[int, int]:
        return self._ingest._states.held(self._locked)


def _moves(step: _Step, now: datetime) -> list[tuple[str, datetime]]:
    """The firing/resolved transitions a step records, in order."""
    signal = step.signal
    return [
        (status, (signal.starts_at if status == "firing" else signal.ends_at) or now)
        for status in step.outcome.records
    ]


def _facts(steps: Sequence[_Step]) -> list[tuple[AlertFacts, int]]:
    return [(signal_facts(step.signal), step.alert_id or 0) for step in steps]
