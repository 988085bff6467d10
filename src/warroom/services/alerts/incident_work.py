"""Incident work done for alerts inside the caller's transaction.

:func:`_declare` declares an incident from alerts and attaches them; :func:`_extend`
attaches alerts to, and records resolutions on, an existing incident; :func:`_chain`
stamps new events after a state's last event and folds them in. Each appends the events
and announces them (the outbox) in the same transaction, so a commit means all of it is
stored. :class:`_States` keeps incident states as this process last committed them, so
a storm of alerts does not fold the same incident body after body (nor, on replicas, after
every other replica's body). Used by the webhook
ingest and the triage queue alike.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from warroom.domain.alerts.declaring import (
    AlertDeclaration,
    AlertFacts,
    attach_events,
    declare_event,
    resolved_event,
)
from warroom.domain.alerts.routing import UNROUTED
from warroom.domain.incidents.chain import GENESIS, stamp
from warroom.domain.incidents.events import Event, NewEvent
from warroom.domain.incidents.fold import apply, catch_up
from warroom.domain.incidents.state import IncidentState
from warroom.services.comms.outbox import announce
from warroom.services.oncall.pages import page_incident
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context


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

    def take(
        self, uow: UnitOfWork, number: int, stored: int | None = None, newer: Sequence[Event] | None = None
    ) -> IncidentState:
        """The incident as stored: the kept state when nothing changed since, the kept state
        with only the newer events folded on when another process (a replica) appended
        since, else loaded. Replicas attaching a storm's alerts to one incident take turns
        appending to it; loading it each turn (its snapshot, up to a hundred events) cost
        more than the alerts. ``stored`` is its version if the caller read it in this
        transaction, before anything in it changed the incident (a state is taken once:
        a second take in the same transaction finds none kept and loads). ``newer``: the
        events after the kept version, if the caller read them with ``stored`` (see
        :meth:`held`); used when they follow the kept state and reach ``stored``, else
        they are read here."""
        with self._lock:
            state = self._states.pop(number, None)
        if state is None:
            return uow.incidents.load(number)
        if stored is None:
            stored = uow.incidents.version(number)
        if stored == state.version:
            return state
        if stored is not None and stored > state.version:
            if not (newer and newer[0].seq == state.version + 1 and newer[-1].seq >= stored):
                newer = uow.incidents.events(number, after=state.version)
            return catch_up(state, newer, state.version)
        return uow.incidents.load(number)

    def held(self, services: AbstractSet[str]) -> dict[int, int]:
        """Incident number -> version of the kept open incidents on any of ``services``: what
        an ingest locking them asks its read to catch up on."""
        with self._lock:
            return {
                number: state.version
                for number, state in self._states.items()
                if state.status.is_open and not services.isdisjoint(state.services)
            }

    def keep(self, states: Sequence[IncidentState]) -> None:
        with self._lock:
            for state in states:
                self._states[state.number] = state
            while len(self._states) > self._size:
                self._states.pop(next(iter(self._states)))


def _declare(
    ctx: Context,
    uow: UnitOfWork,
    decl: AlertDeclaration,
    facts: Sequence[tuple[AlertFacts, int]],
    actor: str,
    now: datetime,
) -> IncidentState:
    """Declare from alerts inside the caller's transaction and attach them."""
    declared = declare_event(decl, now=now, policy=ctx.policy)
    number = uow.incidents.allocate_number()
    events = stamp(number, 0, GENESIS, [declared], actor=actor, recorded_at=now)
    state = apply(None, events[0])
    service = decl.declaration.services[0] if decl.declaration.services else UNROUTED
    more = attach_events(
        state, [f for f, _ in facts], service, now=now, policy=ctx.policy, ownership_note=decl.ownership_note
    )
    events += _chain(state, more, actor, now)
    uow.incidents.append(events, state)
    announce(ctx, uow, events, state)  # the declaration notifies, in the same transaction
    uow.alerts.attach([alert_id for _, alert_id in facts], number)
    # Someone is paged in the same transaction: the first step fires on the next tick.
    page_incident(ctx, uow, state, actor=actor, ownership_unclear=decl.ownership_note is not None)
    return state


def _extend(
    ctx: Context,
    uow: UnitOfWork,
    state: IncidentState,
    item: _IncidentWork,
    actor: str,
    now: datetime,
    scope_labels: Sequence[str] = (),
) -> str:
    """Attach alerts to (widening the scope by ``scope_labels``) and record resolutions on an
    existing incident; its ref if it changed."""
    number = state.number
    new: list[NewEvent] = []
    attach = [alert_id for _, alert_id in item.attach]
    if item.attach:
        facts = [f for f, _ in item.attach]
        new += attach_events(
            state, facts, item.service, now=now, policy=ctx.policy, scope_labels=scope_labels
        )
    for fingerprint, ended in item.resolved:
        event = resolved_event(state, fingerprint, ended, now=now)
        if event is not None:
            new.append(event)
    if not new:
        if attach:
            uow.alerts.attach(attach, number)
        return ""
    events = _chain(state, new, actor, now)
    uow.incidents.append(events, state, attach=attach)  # the alerts linked in the same write
    announce(ctx, uow, events, state)
    return state.ref


def _chain(state: IncidentState, new: Sequence[NewEvent], actor: str, now: datetime) -> list[Any]:
    """Stamp ``new`` after the state's last event and fold them in; returns the events."""
    events = stamp(state.number, state.version, state.last_hash, new, actor=actor, recorded_at=now)
    for event in events:
        apply(state, event)
    return events
