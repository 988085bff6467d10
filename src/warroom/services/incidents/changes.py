"""Use cases on changes: record deploys, config and flag flips; find those near an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.domain.incidents.changes import FUTURE_SLACK, Change, ChangeKind
from warroom.domain.incidents.severity import parse_enum
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.text import require_text
from warroom.domain.shared.timefmt import observed_time, shifted
from warroom.services.incidents.commands import get_incident
from warroom.services.shared.context import Context


def record_change(
    ctx: Context,
    *,
    service: str,
    kind: str,
    at: datetime | None,
    summary: str,
    actor: str,
    source: str = "cli",
    dedup: str | None = None,
    details: dict[str, Any] | None = None,
) -> tuple[Change, bool]:
    """Store a change; a redelivered one (same ``dedup``) is returned as it was, not stored twice."""
    now = ctx.clock.now()
    when = observed_time(at, "at", now, ahead=FUTURE_SLACK) if at is not None else now
    change = Change(
        service=require_text(service, "service", limit=100),
        kind=parse_enum(ChangeKind, kind, "kind"),
        at=when,
        summary=require_text(summary, "summary", limit=ctx.policy.max_text),
        actor=require_text(actor, "actor", limit=120),
        source=source,
        dedup=dedup,
        details=details or {},
    )
    with ctx.uow() as uow:
        stored, created = uow.changes.add(change)
        uow.commit()
    return stored, created


def window_of(ctx: Context, state: IncidentState) -> tuple[datetime, datetime]:
    """From the change window before impact start (or detection) to now.

    Total for any stored anchor: one an older version let in near the start of the
    calendar gives the earliest representable start instead of an ``OverflowError``."""
    anchor = state.at("impact_started_at") or state.at("detected_at") or state.at("declared_at")
    assert anchor is not None
    return shifted(anchor, -ctx.policy.change_window), ctx.clock.now()


def changes_near(ctx: Context, ref: str | int) -> tuple[IncidentState, list[str], list[Change]]:
    """Changes on the incident's services and their dependencies, newest first."""
    state = get_incident(ctx, ref)
    services = ctx.catalog.with_dependencies(state.services)
    start, end = window_of(ctx, state)
    with ctx.read() as uow:
        found = uow.changes.between(services, start, end)
    return state, services, found
