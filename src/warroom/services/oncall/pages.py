"""Pages: open them, escalate them on a tick, acknowledge and resolve them.

Opening only stores a page that is due at once (so alert ingest can open one inside its
own transaction, :func:`page_incident`); the escalation tick (:func:`escalate`, a job in
the job runner) fires due steps. Each page is advanced in its own transaction: the page
is locked while due (``lock_due``), the domain decides, and the new page state, the
planned notifications, their outbox rows and the incident's timeline events commit
together, or none of them. A step therefore fires once across any number of workers and
restarts, and a delivery is written once (its outbox key is unique).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from warroom.domain.comms.notifications import Notification
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import stamp
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.oncall import pages as pg
from warroom.domain.oncall import policies as pol
from warroom.domain.oncall.pages import Page, PageStatus
from warroom.domain.shared.errors import ConcurrencyConflict, InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import optional_text, require_text
from warroom.services.comms.outbox import catalog_or_empty, team_of
from warroom.services.oncall.config import OncallConfig
from warroom.services.oncall.directory import contact_channel_name, load_directory
from warroom.services.ports.comms import OutboxMessage
from warroom.services.ports.oncall import PlannedNotification
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.oncall")

RETRIES = 3


# --- opening -------------------------------------------------------------------------------


def page_incident(
    ctx: Context, uow: UnitOfWork, state: IncidentState, *, actor: str, ownership_unclear: bool = False
) -> Page | None:
    """Open the page of an incident just declared, inside the caller's transaction.

    The policy is the first affected service's, else its team's default; when ownership
    is unclear, or nothing names a policy, the organization-wide fallback. Returns None
    when no policy applies (on call is not set up) or the incident already has an open
    page. The first step fires on the next escalation tick."""
    now = ctx.clock.now()
    directory = load_directory(ctx, uow, now)
    team = team_of(catalog_or_empty(ctx), state.services) if state.services else None
    chosen = None if ownership_unclear else directory.policy_for(state.services, team)
    chosen = chosen or directory.fallback
    if chosen is None:
        return None
    team = team or chosen.team
    why = "ownership unclear: the fallback policy" if ownership_unclear else f"policy {chosen.name}"
    page = pg.open_page(
        title=state.title,
        by=actor,
        now=now,
        policy=chosen.name,
        reason=f"{state.severity.name} {state.ref} declared; {why}",
        incident=state.number,
        team=team,
        dedup=f"incident:{state.number}",
    )
    return uow.oncall.add_page(page)


def _target(text: str, directory: pol.Directory) -> tuple[str | None, tuple[pol.Target, ...], str | None]:
    """``TEAM|PERSON|SCHEDULE|POLICY`` (or ``kind:name``) -> (policy, targets, team)."""
    name = require_text(text, "target", limit=100)
    if ":" in name:
        found = pol.parse_target(name)
        kind, name = found.kind, found.name
    else:
        kinds = [
            kind
            for kind, known in (
                ("person", directory.people),
                ("schedule", directory.schedules),
                ("team", directory.teams),
                ("policy", directory.policies),
            )
            if name in known
        ]
        if not kinds:
            raise ValidationError(
                "target", f"{name!r} is no person, schedule, team or escalation policy in the directory"
            )
        team = directory.teams.get(name)
        if set(kinds) == {"team", "policy"} and team is not None and team.policy == name:
            kinds = ["team"]  # the team pages through its policy of the same name: one meaning
        if len(kinds) > 1:
            raise ValidationError("target", f"{name!r} is a {' and a '.join(kinds)}; write {kinds[0]}:{name}")
        kind = kinds[0]
    if kind == "policy":
        if name not in directory.policies:
            raise ValidationError("target", f"no escalation policy {name!r}")
        return name, (), directory.policies[name].team
    if kind == "team":
        team = directory.teams.get(name)
        if team is None:
            raise ValidationError("target", f"no team {name!r}")
        if team.policy and team.policy in directory.policies:
            return team.policy, (), name
        return None, (pol.Target("team", name),), name
    known = directory.people if kind == "person" else directory.schedules
    if name not in known:
        raise ValidationError("target", f"no {kind} {name!r}")
    owner = directory.schedules[name].team if kind == "schedule" else None
    return None, (pol.Target(kind, name),), owner


def open_page(
    ctx: Context,
    config: OncallConfig,
    target: str,
    reason: str,
    actor: str,
    *,
    incident: str | int | None = None,
    fire: bool = True,
) -> Page:
    """Page someone by hand (``warroom page payments --incident INC-7 "why"``) and fire the
    first step at once (or, with ``fire`` false, on the next escalation tick); returns the
    page after it."""
    why = optional_text(reason, "reason", limit=500)
    number = parse_ref(incident) if incident not in (None, "") else None
    now = ctx.clock.now()
    with ctx.uow() as uow:
        directory = load_directory(ctx, uow, now)
        policy, targets, team = _target(target, directory)
        title = why or f"{actor} pages {target}"
        if number is not None:
            if uow.incidents.version(number) is None:
                raise ValidationError("incident", f"no incident INC-{number}")
            title = uow.incidents.load(number).title
        page = pg.open_page(
            title=title[:200],
            by=actor,
            now=now,
            policy=policy,
            targets=targets,
            reason=why,
            incident=number,
            team=team,
        )
        stored = uow.oncall.add_page(page)
        assert stored is not None  # a page opened by hand has no dedup key
        uow.commit()
    if fire:
        advance_page(ctx, config, stored.id, now)
    return _require(ctx, stored.id)


def _require(ctx: Context, page_id: int) -> Page:
    with ctx.read() as uow:
        found = uow.oncall.page(page_id)
    if found is None:
        raise NotFound(f"no page P-{page_id}")
    return found


def parse_page(ref: str | int) -> int:
    text = str(ref).strip().upper().removeprefix("P-")
    if not text.isdigit() or not 0 < int(text) < 2**62:
        raise ValidationError("page", f"{ref!r} is not a page id such as P-12")
    return int(text)


# --- the escalation tick ---------------------------------------------------------------------


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
            state = _incident(uow, page) if page is not None else None
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
                _record(uow, state, events, config.actor, now)
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
                _settle(ctx, uow, config, page, outcome, now, opened)
                uow.commit()
            return 1
        except ConcurrencyConflict:  # someone wrote on the incident meanwhile: again, on fresh state
            if attempt == RETRIES - 1:
                raise
    return 0


def _settle(
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
    state = _incident(uow, page)
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
        _record(uow, state, events, config.actor, now)


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
            state = _incident(uow, page)
            events = []
            for item in live:
                _send(uow, config, page, state, item.person, item.method, item.key, item.step, now)
                events.append(_notified(page, item.person, item.method, item.kind, item.step, now))
            uow.oncall.mark_notifications([i.id for i in live], "sent", now)
            if state is not None:
                _record(uow, state, events, config.actor, now)
            sent += len(live)
        uow.commit()
    return sent


def _resolve_closed(ctx: Context, config: OncallConfig, page_id: int, now: datetime) -> int:
    with ctx.uow() as uow:
        page = uow.oncall.page(page_id, lock=True)
        if page is None or not page.open:
            return 0
        outcome = pg.resolve(page, config.actor, now, "the incident was resolved")
        _settle(ctx, uow, config, page, outcome, now)
        uow.commit()
    return 1


def _incident(uow: UnitOfWork, page: Page) -> IncidentState | None:
    if page.incident is None:
        return None
    try:
        return uow.incidents.load(page.incident)
    except NotFound:
        return None


def _record(
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


# --- acknowledging and resolving ---------------------------------------------------------------


def acknowledge(ctx: Context, config: OncallConfig, ref: str | int, by: str) -> dict[str, Any]:
    """``by`` acknowledges the page: escalation stops, pending notifications are cancelled,
    and if its incident has no commander, ``by`` is offered (or made) commander."""
    page_id = parse_page(ref)
    who = require_text(by, "by", limit=120)
    now = ctx.clock.now()
    result: dict[str, Any] = {}
    for attempt in range(RETRIES):
        try:
            with ctx.uow() as uow:
                page = uow.oncall.page(page_id, lock=True)
                if page is None:
                    raise NotFound(f"no page P-{page_id}")
                directory = load_directory(ctx, uow, now)
                outcome = pg.acknowledge(page, who, now, directory)
                if not outcome.events:
                    return {"page": page, "changed": False, "commander": None}
                extra: list[NewEvent] = []
                state = _incident(uow, page)
                commander = None
                if state is not None and state.status.is_open and "commander" not in state.roles:
                    if config.commander == "make":
                        extra = rules.assign_role(state, Role.COMMANDER, who, now=now)
                        commander = "made"
                    elif config.commander == "offer":
                        commander = "offered"
                _settle(ctx, uow, config, page, outcome, now)
                if extra and state is not None:
                    _record(uow, uow.incidents.load(state.number), extra, who, now)
                uow.commit()
                result = {"page": outcome.page, "changed": True, "commander": commander}
            return result
        except ConcurrencyConflict:
            if attempt == RETRIES - 1:
                raise
    return result


def acknowledge_by_link(ctx: Context, config: OncallConfig, token: str) -> dict[str, Any]:
    """The one-tap link: the signed token names the page and the person; no login."""
    if config.links is None:
        raise InvalidTransition("acknowledgement links are off here (set secret_key)")
    page_id, person = config.links.verify(token)
    return acknowledge(ctx, config, page_id, person)


def resolve_page(ctx: Context, config: OncallConfig, ref: str | int, by: str, why: str = "") -> Page:
    page_id = parse_page(ref)
    who = require_text(by, "by", limit=120)
    text = optional_text(why, "why", limit=500)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        page = uow.oncall.page(page_id, lock=True)
        if page is None:
            raise NotFound(f"no page P-{page_id}")
        outcome = pg.resolve(page, who, now, text)
        _settle(ctx, uow, config, page, outcome, now)
        uow.commit()
    return outcome.page


def get_page(ctx: Context, ref: str | int) -> tuple[Page, list[PlannedNotification]]:
    page_id = parse_page(ref)
    with ctx.read() as uow:
        page = uow.oncall.page(page_id)
        if page is None:
            raise NotFound(f"no page P-{page_id}")
        return page, uow.oncall.notifications([page_id])


def list_pages(
    ctx: Context, *, open_only: bool = True, incident: str | None = None, limit: int = 100
) -> list[Page]:
    if not 1 <= limit <= 1000:
        raise ValidationError("limit", "must be 1..1000")
    number = parse_ref(incident) if incident else None
    with ctx.read() as uow:
        return uow.oncall.pages(open_only=open_only, limit=limit, incident=number)
