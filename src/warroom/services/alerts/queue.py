"""The triage queue: firing alerts on no incident, waiting for a responder.

:func:`signal_groups` lists the waiting signals grouped by service, oldest first; a
responder declares an incident from a service's signals (:func:`declare_from_signals`),
attaches them to an open incident (:func:`attach_signals`), or silences the service until
a time with a reason (:func:`silence_signals`). Each command is one transaction that locks
the service first. These serve ``warroom signals``, ``/api/v1/signals`` and the web
``/signals`` page alike.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.alerts.declaring import attach_events, declaration_for
from warroom.domain.alerts.policy import DEFAULT_SCOPE_LABELS, AlertPolicy
from warroom.domain.alerts.records import AlertRecord, Silence
from warroom.domain.alerts.routing import UNROUTED, Route
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.severity import IncidentKind, Severity, parse_enum
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import require_text
from warroom.domain.shared.timefmt import iso, parse_when
from warroom.services.alerts.incident_work import _chain, _declare
from warroom.services.comms.outbox import announce
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

MAX_SILENCE = timedelta(days=90)


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
    grouped: dict[str, list[AlertRecord]] = defaultdict(list)
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
        decl = declaration_for(
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


def attach_signals(
    ctx: Context,
    service: str,
    ref: str | int,
    actor: str,
    *,
    scope_labels: Sequence[str] = DEFAULT_SCOPE_LABELS,
) -> IncidentState:
    """Attach a service's waiting signals to an open incident; what they name of
    ``scope_labels`` (the policy's) and the scope does not yet widens it."""
    number = parse_ref(ref)
    with ctx.uow() as uow:
        uow.alerts.lock_services([service])
        records = uow.alerts.queued(service)
        if not records:
            raise NotFound(f"no signals wait for service {service!r} (see: warroom signals)")
        state = uow.incidents.load(number)
        now = ctx.clock.now()
        facts = [r.facts() for r in records]
        new = attach_events(state, facts, service, now=now, policy=ctx.policy, scope_labels=scope_labels)
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
    name = require_text(service, "service", limit=100)
    if any(ch < " " or "\x7f" <= ch <= "\x9f" for ch in name):
        raise ValidationError("service", "contains control characters")
    with ctx.read() as uow:
        known = {s.name for s in ctx.catalog.services} | set(uow.alerts.queue_counts()) | {UNROUTED}
    if name not in known:
        raise NotFound(f"no service {name!r} in the catalog or among the waiting signals")
    silence = Silence(
        service=name,
        until=when,
        reason=require_text(reason, "reason", limit=ctx.policy.max_text),
        actor=actor,
        created_at=now,
    )
    with ctx.uow() as uow:
        uow.alerts.add_silence(silence)
        uow.commit()
    return silence


def parse_until(text: str, now: datetime) -> datetime:
    """The end of a silence in the one time grammar (``timefmt.parse_when``): ``2h``,
    ``+30m``, ``in 1d`` from ``now``, or an ISO 8601 time with a zone."""
    return parse_when(text, "until", now, ahead=True)


def _refuse_if_open(uow: UnitOfWork, service: str) -> None:
    found = uow.alerts.open_incidents([service]).get(service)
    if found is not None:
        raise InvalidTransition(
            f"{service} already has an open incident INC-{found}: attach the signals to it "
            f"(warroom signals attach {service} INC-{found})"
        )


def _record_view(record: AlertRecord) -> dict[str, Any]:
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
