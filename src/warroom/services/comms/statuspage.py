"""The status page's use cases: read the page, set a component's state by hand, schedule
and cancel maintenance. Each write is one transaction that also bumps the page
generation, so cached renderings go stale with it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from warroom.domain.comms.statuspage import (
    Maintenance,
    ManualState,
    StatusPage,
    build_page,
    checked_state,
    is_public,
    plan_maintenance,
)
from warroom.domain.comms.statuspage_history import (
    DAYS,
    ComponentHistory,
    PastDay,
    component_history,
    past_incidents,
)
from warroom.domain.incidents.catalog import StatusEntry
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import optional_text, require_text
from warroom.services.comms.statuspage_cache import invalidate
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

MAX_LOADED = 300  # incidents folded for one rendering, newest first
MAX_ACTOR = 120
AUTOMATIC = ("auto", "automatic", "clear")


@dataclass(frozen=True)
class PageData:
    page: StatusPage
    history: list[ComponentHistory]
    past: list[PastDay]
    until: datetime  # when time alone changes the page (a window starts or ends, a new day)


def components(ctx: Context) -> list[tuple[str, StatusEntry]]:
    """The catalog's services that have a ``status_page`` entry, in catalog order."""
    return [(s.name, s.status_page) for s in ctx.catalog.services if s.status_page is not None]


def _incidents(uow: UnitOfWork, now: datetime) -> list[IncidentState]:
    """The published incidents open now or changed in the history window, newest first
    (an incident on no component still shows, under "our services")."""
    oldest = now - timedelta(days=DAYS)
    summaries = uow.incidents.summaries(IncidentFilter(limit=1000))
    wanted = [
        s.number
        for s in summaries
        if s.status in ("triage", "mitigating", "mitigated") or s.updated_at >= oldest
    ]
    return [state for number in wanted[:MAX_LOADED] if is_public(state := uow.incidents.load(number))]


def read_page(ctx: Context) -> PageData:
    """Everything the public page shows, from one read transaction."""
    now = ctx.clock.now()
    entries = components(ctx)
    with ctx.read() as uow:
        incidents = _incidents(uow, now)
        manual = uow.statuspage.manual_states()
        windows = uow.statuspage.maintenance(now - timedelta(days=DAYS))
    page = build_page(entries, incidents, manual, windows, now)
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), datetime.min.time(), UTC)
    edges = [t for w in windows if w.cancelled_at is None for t in (w.starts_at, w.ends_at) if t > now]
    return PageData(
        page,
        component_history(entries, incidents, windows, now),
        past_incidents(entries, incidents, now),
        min([tomorrow, *edges]),
    )


def _actor(actor: str) -> str:
    return require_text(actor, "actor", limit=MAX_ACTOR)


def _component(ctx: Context, service: str) -> str:
    name = (service or "").strip()
    known = {s for s, _ in components(ctx)}
    if name not in known:
        listed = ", ".join(sorted(known)) or "none (add status_page to a service in the catalog)"
        raise NotFound(f"{name!r} is not a component of the status page; components: {listed}")
    return name


def set_component(ctx: Context, actor: str, service: str, state: str, reason: str = "") -> ManualState | None:
    """Hold ``state`` for the component until cleared (state ``auto``: back to automatic)."""
    by = _actor(actor)
    name = _component(ctx, service)
    now = ctx.clock.now()
    manual = None
    if (state or "").strip().lower() not in AUTOMATIC:
        manual = ManualState(checked_state(state or ""), optional_text(reason, "reason", limit=500), by, now)
    with ctx.uow() as uow:
        uow.statuspage.set_manual(name, manual)
        uow.statuspage.touch(now)
        uow.commit()
    invalidate(ctx)
    return manual


def schedule_maintenance(
    ctx: Context, actor: str, services: Sequence[str], starts_at: datetime, ends_at: datetime, text: str
) -> Maintenance:
    """A window: shown on the page from now, and its services' alerts silenced while it runs."""
    by = _actor(actor)
    now = ctx.clock.now()
    names, public_text = plan_maintenance(
        services, starts_at, ends_at, text, components={s for s, _ in components(ctx)}, now=now
    )
    with ctx.uow() as uow:
        window = uow.statuspage.add_maintenance(names, starts_at, ends_at, public_text, by, now)
        uow.statuspage.touch(now)
        uow.commit()
    invalidate(ctx)
    return window


def parse_window(ref: str | int) -> int:
    text = str(ref).strip().upper()
    digits = text.removeprefix("MNT-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:  # "³" is a digit to isdigit
        raise ValidationError("maintenance", f"{ref!r} is not a maintenance id such as MNT-3")
    return int(digits)


def cancel_maintenance(ctx: Context, actor: str, ref: str | int) -> Maintenance:
    """Cancel an upcoming window or end one in progress now; its silences end too."""
    _actor(actor)
    number = parse_window(ref)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        window = uow.statuspage.get_maintenance(number)
        if window is None:
            raise NotFound(f"no maintenance MNT-{number}")
        if window.phase(now) in ("cancelled", "completed"):
            raise InvalidTransition(f"{window.ref} is already {window.phase(now)}")
        uow.statuspage.cancel_maintenance(number, now)
        uow.statuspage.touch(now)
        uow.commit()
    invalidate(ctx)
    found = window
    return Maintenance(
        found.id,
        found.services,
        found.starts_at,
        found.ends_at,
        found.text,
        found.created_by,
        found.created_at,
        now,
    )


def list_maintenance(ctx: Context, *, include_past: bool = False) -> list[Maintenance]:
    now = ctx.clock.now()
    with ctx.read() as uow:
        windows = uow.statuspage.maintenance(now - timedelta(days=DAYS) if include_past else now)
    return windows


def manual_states(ctx: Context) -> dict[str, ManualState]:
    with ctx.read() as uow:
        return uow.statuspage.manual_states()
