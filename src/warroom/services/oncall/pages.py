"""Pages: open them, acknowledge and resolve them, look at them.

Opening only stores a page that is due at once (so alert ingest can open one inside its
own transaction, :func:`page_incident`); the escalation tick
(:func:`warroom.services.oncall.escalation.escalate`, a job in the job runner) fires its
steps, each exactly once across workers.
"""

from __future__ import annotations

from typing import Any

from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.oncall import pages as pg
from warroom.domain.oncall import policies as pol
from warroom.domain.oncall.pages import Page
from warroom.domain.shared.errors import ConcurrencyConflict, InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import optional_text, require_text
from warroom.services.comms.outbox import catalog_or_empty, team_of
from warroom.services.oncall.config import OncallConfig
from warroom.services.oncall.directory import load_directory, load_policies
from warroom.services.oncall.escalation import RETRIES, advance_page, incident_of, record_events, settle
from warroom.services.ports.oncall import PlannedNotification
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

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
    directory = load_policies(ctx, uow)  # no people or schedules: the tick reads those
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
    ctx.doorbell.ring()  # deliver the first step's notifications (or fire it) now
    return _require(ctx, stored.id)


def _require(ctx: Context, page_id: int) -> Page:
    with ctx.read() as uow:
        found = uow.oncall.page(page_id)
    if found is None:
        raise NotFound(f"no page P-{page_id}")
    return found


def parse_page(ref: str | int) -> int:
    text = str(ref).strip().upper().removeprefix("P-")
    if not text.isdecimal() or not 0 < int(text) < 2**62:
        raise ValidationError("page", f"{ref!r} is not a page id such as P-12")
    return int(text)


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
                state = incident_of(uow, page)
                commander = None
                if state is not None and state.status.is_open and "commander" not in state.roles:
                    if config.commander == "make":
                        extra = rules.assign_role(state, Role.COMMANDER, who, now=now)
                        commander = "made"
                    elif config.commander == "offer":
                        commander = "offered"
                settle(ctx, uow, config, page, outcome, now)
                if extra and state is not None:
                    record_events(uow, uow.incidents.load(state.number), extra, who, now)
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
        settle(ctx, uow, config, page, outcome, now)
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
