"""Alert ingest and the triage queue: one use case per webhook body, one per queue command.

:class:`AlertIngest` takes one parsed body in ONE transaction: it reads the stored state
of every fingerprint at once, lets :func:`~warroom.domain.alerts.policy.transition` decide
per alert, writes only what changed (so a redelivery writes nothing), and only the alerts
that changed cause incident work: firing ones attach to their service's open incident or
declare one by policy (else they wait in the queue); resolutions of attached alerts land
on the incident's timeline. The incident events are stamped into the hash chain and
appended in the same transaction, so the webhook's 2xx means all of it is committed.

The queue commands (:func:`signal_groups`, :func:`declare_from_signals`,
:func:`attach_signals`, :func:`silence_signals`) serve ``warroom signals`` and
``/api/v1/signals`` alike.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from warroom.domain.alerts import policy as ap
from warroom.domain.alerts.formats import ChangeSignal
from warroom.domain.alerts.policy import AlertFacts, AlertPolicy, Known, Outcome, Route, Router, Silence
from warroom.domain.alerts.signals import AlertSignal, ParsedBatch
from warroom.domain.incidents.chain import GENESIS, stamp
from warroom.domain.incidents.changes import Change, ChangeKind
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.severity import IncidentKind, Severity, parse_enum
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ConcurrencyConflict, InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import require_text
from warroom.domain.shared.timefmt import iso, parse_time
from warroom.services.comms.outbox import announce
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

ATTEMPTS = 3
GROUP_SIGNALS = 5000  # most alerts written in one group transaction
GATHER = 0.0005  # seconds the writer may wait for more bodies while deliveries are concurrent
WRITER_IDLE = 1.0  # seconds the writer thread waits for more before it ends
FUTURE_SLACK = timedelta(minutes=5)
MAX_SILENCE = timedelta(days=90)
MAX_DEDUP = 600  # the changes.dedup column


@dataclass(frozen=True)
class IngestResult:
    """What one body did: counts, and the incidents its alerts were declared into
    (``declared``) or attached to or resolved on (``updated``)."""

    received: int
    new: int = 0
    changed: int = 0
    declared: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    queued: int = 0

    @property
    def unchanged(self) -> int:
        return self.received - self.changed

    def view(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "declared": list(self.declared),
            "updated": list(self.updated),
            "queued": self.queued,
        }


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


@dataclass
class _Pending:
    """One body waiting for the group transaction that writes it."""

    source: str
    signals: list[AlertSignal]
    actor: str
    future: Future[IngestResult] = field(default_factory=Future)


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


def _parts(
    group: Sequence[_Pending],
) -> tuple[list[tuple[str, str, list[AlertSignal]]], dict[tuple[int, str], int]]:
    """The group's signals as parts written in order, one per (source, actor), plus a later
    part whenever a body repeats a fingerprint with a different report (its resolution after
    its firing), so every transition is applied as if the bodies came one by one. Identical
    repeats are dropped: they would change nothing. ``origin`` maps (part, fingerprint) to
    the index of the body the signal came from."""
    parts: list[tuple[str, str, dict[str, AlertSignal]]] = []
    origin: dict[tuple[int, str], int] = {}
    for index, pending in enumerate(group):
        source, actor = pending.source, pending.actor
        for signal in pending.signals:
            key = signal.fingerprint
            last = max(
                (n for n, part in enumerate(parts) if part[0] == source and key in part[2]), default=-1
            )
            if last >= 0 and _same_report(parts[last][2][key], signal):
                continue
            target = next(
                (n for n in range(last + 1, len(parts)) if parts[n][0] == source and parts[n][1] == actor),
                None,
            )
            if target is None:
                parts.append((source, actor, {}))
                target = len(parts) - 1
            parts[target][2][key] = signal
            origin[target, key] = index
    return [(source, actor, list(signals.values())) for source, actor, signals in parts], origin


def _same_report(a: AlertSignal, b: AlertSignal) -> bool:
    return (a.status, a.starts_at, a.extra.get("event_action")) == (
        b.status,
        b.starts_at,
        b.extra.get("event_action"),
    )


class _Relock(Exception):
    """Stored alerts belong to services the transaction did not lock; redo with them."""

    def __init__(self, services: frozenset[str]) -> None:
        super().__init__(", ".join(sorted(services)))
        self.services = services


@dataclass
class _IncidentWork:
    """Events to append to one incident, and the alert rows to link to it."""

    attach: list[tuple[AlertFacts, int]] = field(default_factory=list)
    service: str = ""
    resolved: list[tuple[str, datetime | None]] = field(default_factory=list)


class _States:
    """Incident states as this process last committed them, reused while the stored version
    is unchanged: a storm attaches to the same incident body after body, and folding it
    from its snapshot each time would cost more than the alerts themselves. A timeline
    only grows, so an equal version means an equal state. A state is taken out while a
    transaction works on it and put back only after commit."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._states: dict[int, IncidentState] = {}
        self._lock = threading.Lock()

    def take(self, uow: UnitOfWork, number: int) -> IncidentState:
        with self._lock:
            state = self._states.pop(number, None)
        if state is not None and uow.incidents.version(number) == state.version:
            return state
        return uow.incidents.load(number)

    def keep(self, states: Sequence[IncidentState]) -> None:
        with self._lock:
            for state in states:
                self._states[state.number] = state
            while len(self._states) > self._size:
                self._states.pop(next(iter(self._states)))


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
        self._last_group = 0

    @cached_property
    def router(self) -> Router:
        """The catalog's matchers, compiled on first use."""
        return Router(self.ctx.catalog)

    def submit(self, batch: ParsedBatch, actor: str) -> Future[IngestResult]:
        """Queue one body for the writer thread; the future completes after its commit.

        The writer takes every body queued while it wrote the last group and writes them
        together in one transaction (group commit: one BEGIN, one read per source, one
        COMMIT for many small deliveries), each with its own result. The future raises
        ``ConcurrencyConflict`` only when an incident kept changing under it for
        :data:`ATTEMPTS` attempts, and storage faults for the caller to answer 503.
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
                self._gather()
                group: list[_Pending] = []
                size = 0
                while self._queue and (not group or size + len(self._queue[0].signals) <= GROUP_SIGNALS):
                    group.append(self._queue.pop(0))
                    size += len(group[-1].signals)
            self._last_group = len(group)
            try:
                self._store(group)
            finally:  # never leave a waiting body behind, whatever stopped this thread
                for pending in group:
                    if not pending.future.done():
                        pending.future.set_exception(RuntimeError("the alert writer stopped"))

    def _gather(self) -> None:
        """While deliveries are concurrent (the last group carried several bodies), wait up
        to :data:`GATHER` for the queue to hold twice as many before writing (call with
        ``_wake`` held). The senders answered by the last commit are sending their next
        bodies; a group that waits for them shares one transaction's fixed cost (BEGIN, the
        locks, the read, COMMIT: about 1.3 ms of CPU on PostgreSQL) among twice the bodies,
        for half a millisecond of latency. A lone delivery never waits."""
        if self._last_group <= 1:
            return
        deadline = time.monotonic() + GATHER
        while len(self._queue) < 2 * self._last_group and (left := deadline - time.monotonic()) > 0:
            self._idle += 1
            self._wake.wait(timeout=left)
            self._idle -= 1

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
        self, signals: Sequence[AlertSignal], routes: Sequence[Route], known: Mapping[str, Known]
    ) -> list[_Step]:
        """The steps that change something; a new or firing alert takes its route."""
        steps = []
        for signal, route in zip(signals, routes, strict=True):
            found = known.get(signal.fingerprint)
            outcome = ap.transition(found, signal)
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
            # One read for the first part (on PostgreSQL one round trip, after the locks).
            view = alerts.begin_ingest(locked, parts[0][0], [s.fingerprint for s in parts[0][2]], now)
            open_incidents = dict(view.open_incidents)
            touched: list[IncidentState] = []
            for index, (source, actor, signals) in enumerate(parts):
                known = view.known if index == 0 else alerts.known(source, [s.fingerprint for s in signals])
                steps = self._plan(signals, routes[index], known)  # later parts re-read: an earlier one wrote
                outside = {step.service for step in steps} - locked
                if outside:
                    raise _Relock(frozenset(outside))
                steps = self._write(uow, steps, now)
                self._incident_work(uow, steps, actor, now, touched, open_incidents, view.silenced)
                for step in steps:
                    results[origin[index, step.signal.fingerprint]].add(step)
            if any(tally.steps for tally in results):  # else nothing was written
                uow.commit()
        self._states.keep(touched)
        return [tally.result(len(p.signals)) for tally, p in zip(results, group, strict=True)]

    def _write(self, uow: UnitOfWork, steps: list[_Step], now: datetime) -> list[_Step]:
        """Insert, update and record transitions; returns the steps that took effect."""
        new = [s for s in steps if s.known is None]
        ids = uow.alerts.insert(
            [(s.signal, s.route) for s in new if s.route is not None],
            now,
            {s.signal.fingerprint: _moves(s, now) for s in new},
        )
        done = []
        for step in steps:
            step.alert_id = step.known.id if step.known is not None else ids.get(step.signal.fingerprint)
            if step.alert_id is not None:  # None: a concurrent delivery stored it first
                done.append(step)
        known = [s for s in done if s.known is not None]
        uow.alerts.update([(s.alert_id, s.signal, s.outcome, s.route) for s in known if s.alert_id], now)
        uow.alerts.add_transitions(
            [(s.alert_id, status, at) for s in known if s.alert_id for status, at in _moves(s, now)], now
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
        silenced: frozenset[str],
    ) -> None:
        """Attach, declare or queue the firing steps; resolutions go to their incidents.
        Each step records what happened to it (``ref``, ``declared``, ``queued``).
        ``open_incidents`` (of the locked services) gains the incidents declared here."""
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
            if service != ap.UNROUTED and service not in silenced:
                rule = next((r for s in group if (r := self._rule(s))), None)
            if rule is None:
                for step in group:
                    step.queued = True
                continue
            route = group[0].route
            assert route is not None
            facts = _facts(group)
            decl = ap.declaration_for([f for f, _ in facts], route, self.policy, now=now, rule=rule)
            state = _declare(self.ctx, uow, decl, facts, actor, now)
            open_incidents[service] = state.number
            touched.append(state)
            for step in group:
                step.ref, step.declared = state.ref, True
        for number, item in sorted(work.items()):
            state = self._states.take(uow, number)
            touched.append(state)
            _extend(self.ctx, uow, state, item, actor, now)

    def _rule(self, step: _Step) -> ap.DeclareRule | None:
        assert step.route is not None
        return self.policy.rule_for(step.signal.labels, step.signal.severity, step.route)

    # --- change events -----------------------------------------------------------------

    def record_changes(self, signals: Sequence[ChangeSignal], actor: str) -> list[tuple[Change, bool]]:
        """Store CloudEvents changes in one transaction, deduplicated on (source, id)."""
        return record_change_events(self.ctx, signals, actor)


def _moves(step: _Step, now: datetime) -> list[tuple[str, datetime]]:
    """The firing/resolved transitions a step records, in order."""
    signal, outcome = step.signal, step.outcome
    moves = []
    if outcome.fires or outcome is Outcome.NEW_RESOLVED:
        moves.append(("firing", signal.starts_at or now))
    if outcome in (Outcome.RESOLVED, Outcome.NEW_RESOLVED):
        moves.append(("resolved", signal.ends_at or now))
    return moves


def _facts(steps: Sequence[_Step]) -> list[tuple[AlertFacts, int]]:
    return [(ap.signal_facts(step.signal), step.alert_id or 0) for step in steps]


def _declare(
    ctx: Context,
    uow: UnitOfWork,
    decl: ap.AlertDeclaration,
    facts: Sequence[tuple[AlertFacts, int]],
    actor: str,
    now: datetime,
) -> IncidentState:
    """Declare from alerts inside the caller's transaction and attach them."""
    declared = ap.declare_event(decl, now=now, policy=ctx.policy)
    number = uow.incidents.allocate_number()
    events = stamp(number, 0, GENESIS, [declared], actor=actor, recorded_at=now)
    state = apply(None, events[0])
    service = decl.declaration.services[0] if decl.declaration.services else ap.UNROUTED
    more = ap.attach_events(
        state, [f for f, _ in facts], service, now=now, policy=ctx.policy, ownership_note=decl.ownership_note
    )
    events += _chain(state, more, actor, now)
    uow.incidents.append(events, state)
    announce(ctx, uow, events, state)  # the declaration notifies, in the same transaction
    uow.alerts.attach([alert_id for _, alert_id in facts], number)
    return state


def _extend(
    ctx: Context, uow: UnitOfWork, state: IncidentState, item: _IncidentWork, actor: str, now: datetime
) -> str:
    """Attach alerts to and record resolutions on an existing incident; its ref if it changed."""
    number = state.number
    new: list[NewEvent] = []
    if item.attach:
        new += ap.attach_events(state, [f for f, _ in item.attach], item.service, now=now, policy=ctx.policy)
        uow.alerts.attach([alert_id for _, alert_id in item.attach], number)
    for fingerprint, ended in item.resolved:
        event = ap.resolved_event(state, fingerprint, ended, now=now)
        if event is not None:
            new.append(event)
    if not new:
        return ""
    events = _chain(state, new, actor, now)
    uow.incidents.append(events, state)
    announce(ctx, uow, events, state)
    return state.ref


def _chain(state: IncidentState, new: Sequence[NewEvent], actor: str, now: datetime) -> list[Any]:
    """Stamp ``new`` after the state's last event and fold them in; returns the events."""
    events = stamp(state.number, state.version, state.last_hash, new, actor=actor, recorded_at=now)
    for event in events:
        apply(state, event)
    return events


# --- the triage queue -------------------------------------------------------------------


def signal_groups(
    ctx: Context, *, include_silenced: bool = False, per_group: int = 20
) -> list[dict[str, Any]]:
    """Waiting signals (firing alerts on no incident) grouped by service, oldest first."""
    now = ctx.clock.now()
    with ctx.read() as uow:
        counts = uow.alerts.queue_counts()
        silences = uow.alerts.silences(now)
        open_incidents = uow.alerts.open_incidents(counts)
        records = uow.alerts.queued(limit=min(20_000, per_group * max(1, len(counts)) * 50))
    grouped: dict[str, list[ap.AlertRecord]] = defaultdict(list)
    for record in records:
        grouped[record.service].append(record)
    groups = []
    for service in sorted(counts):
        silence = silences.get(service)
        if silence is not None and not include_silenced:
            continue
        members = grouped.get(service, [])
        starts = [r.starts_at for r in members if r.starts_at is not None]
        severities: dict[str, int] = defaultdict(int)
        for r in members:
            severities[r.severity or "none"] += 1
        first = members[0] if members else None
        groups.append(
            {
                "service": service,
                "team": first.team if first else None,
                "ownership_unclear": first.ownership_unclear if first else False,
                "count": counts[service],
                "firing_since": iso(min(starts)) if starts else None,
                "severities": dict(severities),
                "open_incident": f"INC-{open_incidents[service]}" if service in open_incidents else None,
                "silenced": _silence_view(silence) if silence else None,
                "alerts": [_record_view(r) for r in members[:per_group]],
            }
        )
    groups.sort(key=lambda g: (g["firing_since"] or "9999", g["service"]))
    return groups


def declare_from_signals(
    ctx: Context,
    policy: AlertPolicy,
    service: str,
    actor: str,
    *,
    severity: str | None = None,
    why: str | None = None,
    kind: str | None = None,
    title: str | None = None,
) -> IncidentState:
    """Declare an incident from a service's waiting signals and attach them all.

    Without ``severity`` the first declaration rule matching one of the signals decides;
    with none matching, the severity policy does (no impact is measured yet).
    """
    service = require_text(service, "service", limit=100)
    with ctx.uow() as uow:
        uow.alerts.lock_services([service])
        records = uow.alerts.queued(service)
        if not records:
            raise NotFound(f"no signals wait for service {service!r} (see: warroom signals)")
        _refuse_if_open(uow, service)
        now = ctx.clock.now()
        known = ctx.catalog.service(service)
        first = records[0]
        route = Route(service, first.team, known.tier if known else None, not first.ownership_unclear)
        rule = None
        if severity in (None, ""):
            rule = next(
                (r for rec in records if (r := policy.rule_for(rec.labels, rec.severity, route))), None
            )
        decl = ap.declaration_for(
            [r.facts() for r in records],
            route,
            policy,
            now=now,
            rule=rule,
            severity=Severity.parse(severity) if severity not in (None, "") else None,
            why=why or None,
            kind=parse_enum(IncidentKind, kind, "kind") if kind else None,
            title=title or None,
        )
        state = _declare(ctx, uow, decl, [(r.facts(), r.id) for r in records], actor, now)
        uow.commit()
    return state


def attach_signals(ctx: Context, service: str, ref: str | int, actor: str) -> IncidentState:
    """Attach a service's waiting signals to an open incident."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        uow.alerts.lock_services([service])
        records = uow.alerts.queued(service)
        if not records:
            raise NotFound(f"no signals wait for service {service!r} (see: warroom signals)")
        state = uow.incidents.load(number)
        now = ctx.clock.now()
        new = ap.attach_events(state, [r.facts() for r in records], service, now=now, policy=ctx.policy)
        if new:
            events = _chain(state, new, actor, now)
            uow.incidents.append(events, state)
            announce(ctx, uow, events, state)
        uow.alerts.attach([r.id for r in records], number)
        uow.commit()
    return state


def silence_signals(ctx: Context, service: str, until: str | datetime, reason: str, actor: str) -> Silence:
    """Keep a service's signals out of the queue, and from declaring, until ``until``."""
    now = ctx.clock.now()
    when = until if isinstance(until, datetime) else parse_until(until, now)
    if when <= now:
        raise ValidationError("until", f"{iso(when)} is not in the future (now is {iso(now)})")
    if when > now + MAX_SILENCE:
        raise ValidationError("until", f"a silence lasts at most {MAX_SILENCE.days} days")
    silence = Silence(
        service=require_text(service, "service", limit=100),
        until=when,
        reason=require_text(reason, "reason", limit=ctx.policy.max_text),
        actor=actor,
        created_at=now,
    )
    with ctx.uow() as uow:
        uow.alerts.add_silence(silence)
        uow.commit()
    return silence


_RELATIVE = re.compile(r"^\+?(\d{1,5})\s*([mhd])$")


def parse_until(text: str, now: datetime) -> datetime:
    """``2h``, ``+30m``, ``1d`` from ``now``, or an ISO 8601 time with a zone."""
    found = _RELATIVE.match(text.strip().lower())
    if found:
        amount, unit = int(found.group(1)), found.group(2)
        return now + timedelta(**{{"m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    return parse_time(text, "until")


def _refuse_if_open(uow: UnitOfWork, service: str) -> None:
    found = uow.alerts.open_incidents([service]).get(service)
    if found is not None:
        raise InvalidTransition(
            f"{service} already has an open incident INC-{found}: attach the signals to it "
            f"(warroom signals attach {service} INC-{found})"
        )


def _record_view(record: ap.AlertRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "fingerprint": record.fingerprint,
        "name": record.name,
        "summary": record.summary,
        "severity": record.severity,
        "starts_at": iso(record.starts_at) if record.starts_at else None,
        "labels": dict(record.labels),
    }


def _silence_view(silence: Silence) -> dict[str, Any]:
    return {
        "service": silence.service,
        "until": iso(silence.until),
        "reason": silence.reason,
        "actor": silence.actor,
        "created_at": iso(silence.created_at),
    }


def silence_view(silence: Silence) -> dict[str, Any]:
    return _silence_view(silence)


# --- change events ----------------------------------------------------------------------


def record_change_events(
    ctx: Context, signals: Sequence[ChangeSignal], actor: str
) -> list[tuple[Change, bool]]:
    """Validate every change first, then store them all in one transaction (dedup on key)."""
    now = ctx.clock.now()
    unique = list({s.dedup_key: s for s in signals}.values())
    items = []
    for signal in unique:
        at = signal.at or now
        if len(signal.dedup_key) > MAX_DEDUP:
            raise ValidationError("id", f"source and id together must be shorter than {MAX_DEDUP} characters")
        if at > now + FUTURE_SLACK:
            raise ValidationError("time", f"{iso(at)} is in the future (now is {iso(now)})")
        items.append(
            Change(
                service=require_text(signal.service, "data.service", limit=100),
                kind=ChangeKind(signal.kind),
                at=at,
                summary=require_text(signal.summary, "summary", limit=ctx.policy.max_text),
                actor=require_text(actor, "actor", limit=120),
                source="cloudevents",
                dedup=signal.dedup_key,
                details=dict(signal.details),
            )
        )
    with ctx.uow() as uow:
        stored = uow.alerts.add_changes(items)
        uow.commit()
    return stored
