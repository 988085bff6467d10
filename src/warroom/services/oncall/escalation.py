"""The escalation tick: fire due steps, send what notification rules delayed, re-trigger
timed-out acks, resolve the pages of resolved incidents, and record delivery outcomes.

Each page is advanced in its own transaction that locks it while it is due
(``lock_due``): the domain decides, and the new page state, the planned notifications,
their outbox rows and the incident's timeline events commit together, or none of them. A
step therefore fires once across any number of workers and restarts, and a delivery is
written once (its outbox key is unique). Every worker runs the tick (a shared job).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from warroom.domain.comms.notifications import Notification
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.state import IncidentState
from warroom.domain.oncall import pages as pg
from warroom.domain.oncall import policies as pol
from warroom.domain.oncall.pages import Page, PageStatus
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound
from warroom.services.oncall.config import OncallConfig
from warroom.services.oncall.directory import contact_channel_name, load_directory
from warroom.services.ports.comms import OutboxMessage
from warroom.services.ports.oncall import PlannedNotification
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.oncall")

RETRIES = 3


def escalate(ctx: Context, config: OncallConfig, now: datetime | None = None) -> int:
    """One round of the escalation job: fire due steps, send due delayed notifications,
    re-trigger timed-out acks, resolve pages of resolved incidents. Returns how many
    things it did."""
    from warroom.services.oncall.heartbeats import check_silent

    now = now or ctx.clock.now()
    done = check_silent(ctx, config, now)  # opens pages that are due at once
    with ctx.read() as uow:
        due = uow.oncall.due_pages(now, config.batch)
        closed = uow.oncall.open_pages_of_closed_incidents(config.batch)
    for page_id in closed:
        done += _resolve_closed(ctx, config, page_id, now)
    if due:
        with ctx.read() as uow:
            directory = load_directory(ctx, uow, now)
        for page_id in due:
            done += advance_page(ctx, config, page_id, now, directory)
    for step in (send_delayed, record_deliveries):
        try:
            done += step(ctx, config, now)
        except ConcurrencyConflict:  # someone wrote on one of the incidents: next tick, on fresh state
            log.info("%s: an incident changed meanwhile; again on the next tick", step.__name__)
    return done


def pages_due(ctx: Context, now: datetime) -> bool:
    """Whether a page step is due: one indexed read, for the job runner's short poll."""
    with ctx.read() as uow:
        return bool(uow.oncall.due_pages(now, 1))


def record_deliveries(ctx: Context, config: OncallConfig, now: datetime) -> int:
    """Put finished deliveries of page notifications on their incidents' timelines
    (``page_delivered``: reached, or finally failed, with the attempts it took)."""
    with ctx.read() as uow:  # the common case, nothing finished, takes no write lock
        if not uow.oncall.has_delivery_outcomes():
            return 0
    with ctx.uow() as uow:
        finished = uow.oncall.delivery_outcomes(config.batch)
        if not finished:
            return 0
        by_page: dict[int, list[tuple[PlannedNotification, str, int, str | None, datetime]]] = {}
        for item in finished:
            by_page.setdefault(item[0].page_id, []).append(item)
        for page_id, items in by_page.items():
            page = uow.oncall.page(page_id)
            state = incident_of(uow, page) if page is not None else None
            events = []
            for note, status, attempts, error, at in items:
                uow.oncall.mark_notifications(
                    [note.id], "delivered" if status == "delivered" else "failed", at
                )
                if page is None:
                    continue
                what = (
                    "reached" if status == "delivered" else f"could not reach ({error or 'no reason given'})"
                )
                tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
                events.append(
                    NewEvent(
                        "page_delivered",
                        {
                            "page": page.ref,
                            "person": note.person,
                            "method": note.method,
                            "status": status,
                            "attempts": attempts,
                            "error": error,
                            "text": f"{page.ref}: {what} {note.person} by {note.method}, {tries}",
                        },
                        at,
                    )
                )
            if state is not None and events:
                record_events(uow, state, events, config.actor, now)
        uow.commit()
    return len(finished)


def advance_page(
    ctx: Context, config: OncallConfig, page_id: int, now: datetime, directory: pol.Directory | None = None
) -> int:
    """Fire what is due on one page in one transaction; 1 when something happened."""
    for attempt in range(RETRIES):
        try:
            with ctx.uow() as uow:
                page = uow.oncall.lock_due(page_id, now)
                if page is None:  # not due any more, resolved, or another worker has it
                    return 0
                found = directory or load_directory(ctx, uow, now)
                outcome = pg.advance(page, found, now)
                first = page.trigger == 1 and page.step == 0 and page.round == 0 and not page.fell_back
                opened = [pg.opened_event(page)] if first else []
                settle(ctx, uow, config, page, outcome, now, opened)
                uow.commit()
            return 1
        except ConcurrencyConflict:  # someone wrote on the incident meanwhile: again, on fresh state
            if attempt == RETRIES - 1:
                raise
    return 0


def settle(
    ctx: Context,
    uow: UnitOfWork,
    config: OncallConfig,
    before: Page,
    outcome: pg.Outcome,
    now: datetime,
    leading: Sequence[NewEvent] = (),
) -> None:
    """Store the page, plan its notifications, send the due ones, record the events."""
    page = outcome.page
    uow.oncall.save_page(page)
    due = [n for n in outcome.notify if n.due_at <= now]
    later = [n for n in outcome.notify if n.due_at > now]
    state = incident_of(uow, page)
    events = [*leading, *outcome.events]
    sent = set(uow.oncall.plan(page.id, due, now, sent=True))
    for note in due:
        if note.key(page.id) in sent:
            _send(uow, config, page, state, note.person, note.method.name, note.key(page.id), note.step, now)
            events.append(_notified(page, note.person, note.method.name, note.method.kind, note.step, now))
    uow.oncall.plan(page.id, later, now, sent=False)
    if page.status is not PageStatus.TRIGGERED:
        uow.oncall.cancel_pending(page.id, now)
    if state is not None and events:
        record_events(uow, state, events, config.actor, now)


def send_delayed(ctx: Context, config: OncallConfig, now: datetime) -> int:
    """Send the notifications a rule delayed, if their page still waits for an ack."""
    sent = 0
    with ctx.read() as uow:  # the common case, nothing due, takes no write lock
        if not uow.oncall.has_due_notifications(now):
            return 0
    with ctx.uow() as uow:
        due = uow.oncall.due_notifications(now, config.batch)
        if not due:
            return 0
        by_page: dict[int, list[PlannedNotification]] = {}
        for item in due:
            by_page.setdefault(item.page_id, []).append(item)
        for page_id, items in by_page.items():
            page = uow.oncall.page(page_id)
            live = [
                i
                for i in items
                if page is not None and page.status is PageStatus.TRIGGERED and i.trigger == page.trigger
            ]
            stale = [i.id for i in items if i not in live]
            uow.oncall.mark_notifications(stale, "cancelled", now)
            if not live or page is None:
                continue
            state = incident_of(uow, page)
            events = []
            for item in live:
                _send(uow, config, page, state, item.person, item.method, item.key, item.step, now)
                events.append(_notified(page, item.person, item.method, item.kind, item.step, now))
            uow.oncall.mark_notifications([i.id for i in live], "sent", now)
            if state is not None:
                record_events(uow, state, events, config.actor, now)
            sent += len(live)
        uow.commit()
    return sent


def _resolve_closed(ctx: Context, config: OncallConfig, page_id: int, now: datetime) -> int:
    with ctx.uow() as uow:
        page = uow.oncall.page(page_id, lock=True)
        if page is None or not page.open:
            return 0
        outcome = pg.resolve(page, config.actor, now, "the incident was resolved")
        settle(ctx, uow, config, page, outcome, now)
        uow.commit()
    return 1


def incident_of(uow: UnitOfWork, page: Page) -> IncidentState | None:
    if page.incident is None:
        return None
    try:
        return uow.incidents.load(page.incident)
    except NotFound:
        return None


def record_events(
    uow: UnitOfWork, state: IncidentState, new: Sequence[NewEvent], actor: str, now: datetime
) -> None:
    events = stamp(state.number, state.version, state.last_hash, list(new), actor=actor, recorded_at=now)
    for event in events:
        apply(state, event)
    uow.incidents.append(events, state)


def _notified(page: Page, person: str, method: str, kind: str, step: int, now: datetime) -> NewEvent:
    return NewEvent(
        "page_notified",
        {
            "page": page.ref,
            "person": person,
            "method": method,
            "kind": kind,
            "step": step,
            "text": f"{page.ref}: notifying {person} by {method} ({kind}), step {step}",
        },
        now,
    )


def _send(
    uow: UnitOfWork,
    config: OncallConfig,
    page: Page,
    state: IncidentState | None,
    person: str,
    method: str,
    key: str,
    step: int,
    now: datetime,
) -> None:
    link = config.ack_url(page.id, person)
    lines = [page.reason or page.title]
    if link:
        lines.append(f"Acknowledge: {link}")
    fields: list[tuple[str, str]] = [("page", page.ref), ("step", str(step))]
    if link:
        fields.append(("acknowledge", link))
    n = Notification(
        key=key,
        kind="page",
        incident=state.ref if state is not None else None,
        severity=int(state.severity) if state is not None else None,
        services=tuple(state.services) if state is not None else (),
        team=page.team,
        title=f"Page {page.ref}: {' '.join(page.title.split())}"[:200],
        text="\n".join(lines),
        url=link,
        fields=tuple(fields),
        occurred_at=now,
    )
    uow.outbox.add(OutboxMessage(n, (contact_channel_name(person, method),)), now)
