"""Operations: the use cases with plain inputs and JSON views out.

The CLI (embedded), the REST API and the web forms all call these, so every interface
validates the same way and prints the same document. Inputs are strings, numbers and
booleans as they arrive from a command line, a form or a JSON body; each is parsed here
into domain types with errors that name the field.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from warroom.domain.comms.stakeholders import Stakeholder
from warroom.domain.incidents.chain import ChainBreak, chain_view, check_run
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk
from warroom.domain.incidents.severity import (
    DataIntegrity,
    Impact,
    IncidentKind,
    SecurityImpact,
    Severity,
    parse_enum,
)
from warroom.domain.incidents.state import Role, Status
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.serial import to_data
from warroom.domain.shared.timefmt import TIME_FORMS, parse_when
from warroom.services.impact import mitigation_checks
from warroom.services.impact import triage as probe
from warroom.services.incidents import changes as change_cases
from warroom.services.incidents import commands as cases
from warroom.services.incidents.actors import actor_names, actors_shown
from warroom.services.incidents.views import change_view, event_view, incident_view, summary_view
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context

View = dict[str, Any]
MAX_PAGE = 1000
MAX_SEQ = 2_147_483_647
"""The largest timeline sequence number a cursor (``after``, ``before``) may name."""


def parse_share(value: Any, field: str = "customer_impact") -> float | None:
    """``12%``, ``0.12`` or ``12.5 %`` to a share; numbers above 1 need the ``%`` sign."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(field, "must be a share such as 0.12 or 12%")
    text = str(value).strip()
    percent = text.endswith("%")
    try:
        number = float(text.rstrip("%").strip())
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a share such as 0.12 or 12%") from None
    if number != number:
        raise ValidationError(field, "is not a number")
    if percent:
        number /= 100
    if not 0 <= number <= 1:
        raise ValidationError(field, f"{value!r} is outside 0..1 (0%..100%)")
    return number


def parse_amount(value: Any, field: str) -> float | None:
    """A finite number >= 0 (``1,200`` and ``1_200`` read as 1200); JSON ``true`` is not one."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValidationError(field, "must be a number")
    try:
        number = float(str(value).replace(",", "").replace("_", ""))
    except ValueError:
        raise ValidationError(field, f"{value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")) or number < 0:
        raise ValidationError(field, "must be a finite number >= 0")
    return number


def _whole(value: Any, field: str) -> int:
    """A whole number, or its digits as text; ``true`` and ``1.5`` are not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = value.strip() if isinstance(value, str) else ""
    if text.isascii() and text.isdecimal() and len(text) <= 12:
        return int(text)
    raise ValidationError(field, "must be the number of a prepared mitigation")


def _time(ctx: Context, value: Any, field: str) -> datetime | None:
    """A time in the one grammar people type (``timefmt.parse_when``: ISO 8601, ``now``,
    ``10 minutes ago``, ``2h``...); the use case checks it lies in its window
    (``timefmt.observed_time``: 1970 or later, not in the future)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValidationError(field, f"must be text: {TIME_FORMS}")
    return parse_when(value, field, ctx.clock.now())


def _str(body: Mapping[str, Any], key: str, default: str = "") -> str:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise ValidationError(key, "must be text")
    return value


def _list(body: Mapping[str, Any], key: str) -> list[str]:
    value = body.get(key) or []
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ValidationError(key, "must be a list of text")
    return value


def _bool(body: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = body.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no", "off", ""):
        return False
    raise ValidationError(key, "must be true or false")


IMPACT_KEYS = ("customer_impact", "critical_journey", "financial_per_hour", "data_integrity", "security")


def impact_changes(body: Mapping[str, Any]) -> dict[str, Any]:
    """The impact dimensions present in ``body``, parsed (absent keys are left out)."""
    out: dict[str, Any] = {}
    if body.get("customer_impact") not in (None, ""):
        out["customer_share"] = parse_share(body["customer_impact"])
    if body.get("critical_journey") not in (None,):
        journey = _str(body, "critical_journey").strip()
        out["critical_journey"] = journey or None
    if body.get("financial_per_hour") not in (None, ""):
        out["financial_per_hour"] = parse_amount(body["financial_per_hour"], "financial_per_hour")
    if body.get("data_integrity") not in (None, ""):
        out["data_integrity"] = parse_enum(
            DataIntegrity, _str(body, "data_integrity"), "data_integrity"
        ).value
    if body.get("security") not in (None, ""):
        out["security"] = parse_enum(SecurityImpact, _str(body, "security"), "security").value
    return out


def room(ctx: Context, ref: str | int) -> View:
    """Everything ``warroom show`` and the web room display."""
    state, services, nearby = change_cases.changes_near(ctx, ref)
    view = incident_view(state, now=ctx.clock.now(), policy=ctx.policy)
    view["changes"] = [change_view(c) for c in nearby[:20]]
    view["changes_services"] = services
    view["prepared_mitigations"] = [to_data(p) for p in cases.prepared(ctx, state)]
    recent = cases.timeline(ctx, ref, limit=15, newest_first=True)
    names = actor_names(ctx)
    view["recent_events"] = [event_view(e, names) for e in recent]
    view["actor_names"] = names.labels(actors_shown(view))
    if state.chain_break is None:  # the events shown are checked too, not only those folded
        view["chain"] = chain_view(check_run(reversed(recent)))
    return view


def _view(ctx: Context, state: Any) -> View:
    return incident_view(state, now=ctx.clock.now(), policy=ctx.policy)


def declare(ctx: Context, actor: str, body: Mapping[str, Any]) -> View:
    impact = Impact.from_dict(Impact().to_dict() | impact_changes(body))
    severity = body.get("severity")
    decl = Declaration(
        title=_str(body, "title"),
        kind=parse_enum(IncidentKind, _str(body, "kind", "availability"), "kind"),
        services=_list(body, "services"),
        impact=impact,
        scope=_str(body, "scope"),
        symptom=_str(body, "symptom"),
        trigger=_str(body, "trigger"),
        severity=Severity.parse(severity) if severity not in (None, "") else None,
        why=_str(body, "why") or None,
        detected_at=_time(ctx, body.get("detected_at"), "detected_at"),
        impact_started_at=_time(ctx, body.get("impact_started_at"), "impact_started_at"),
    )
    return _view(ctx, cases.declare_incident(ctx, decl, actor))


STATUS_FILTERS = ("open", "all", *(status.value for status in Status))
"""What ``status`` may be in a list query: ``open`` (every status before resolved), ``all``,
or one lifecycle status."""


def status_filter(value: Any) -> tuple[str | None, bool]:
    """The lifecycle status to match (None: any) and whether only open incidents count."""
    if value is None or value == "":
        return None, False
    text = value.strip().lower() if isinstance(value, str) else None
    if text not in STATUS_FILTERS:
        raise ValidationError("status", f"{value!r} is not one of {', '.join(STATUS_FILTERS)}")
    if text == "open":
        return None, True
    return (None if text == "all" else text), False


def list_incidents(ctx: Context, query: Mapping[str, Any]) -> list[View]:
    severity = query.get("severity")
    status, open_only = status_filter(query.get("status"))
    limit = query.get("limit")
    limit = 200 if limit in (None, "") else limit  # 0 is refused below, not read as "unset"
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}")
    filters = IncidentFilter(
        status=status,
        severity=int(Severity.parse(severity)) if severity not in (None, "") else None,
        service=query.get("service") or None,
        open_only=open_only or bool(query.get("open")),
        limit=limit,
    )
    return [summary_view(row) for row in cases.list_incidents(ctx, filters)]


def show(ctx: Context, ref: str | int) -> View:
    return room(ctx, ref)


def timeline(
    ctx: Context,
    ref: str | int,
    *,
    after: int = 0,
    limit: int = 100,
    newest_first: bool = False,
    before: int | None = None,
) -> list[View]:
    for name, value in (("limit", limit), ("after", after), ("before", before)):
        if isinstance(value, bool) or not isinstance(value, int | None):
            raise ValidationError(name, "must be a whole number")
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}")
    if after < 0:
        raise ValidationError("after", "must be >= 0")
    if after > MAX_SEQ:
        raise ValidationError("after", f"must be at most {MAX_SEQ}")
    if before is not None and not 0 <= before <= MAX_SEQ:
        raise ValidationError("before", f"must be between 0 and {MAX_SEQ}")
    events = cases.timeline(ctx, ref, after=after, before=before, limit=limit, newest_first=newest_first)
    names = actor_names(ctx)
    return [event_view(e, names) for e in events]


def assess(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.reassess(ctx, ref, actor, impact_changes(body)))


def set_severity(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    severity = Severity.parse(_str(body, "severity"))
    return _view(ctx, cases.override_severity(ctx, ref, actor, severity, _str(body, "why") or None))


def _role(body: Mapping[str, Any]) -> Role:
    return parse_enum(Role, _str(body, "role"), "role")


MAX_SUGGESTED = 8


def _person(ctx: Context, body: Mapping[str, Any]) -> str:
    """The person a role goes to: a handle of the directory once it has people (before
    that, any name, so a team without on call can still run an incident)."""
    person = _str(body, "person").strip()
    with ctx.read() as uow:
        handles = sorted(p.handle for p in uow.oncall.people())
    if handles and person not in handles:
        known = ", ".join(handles[:MAX_SUGGESTED]) + (", ..." if len(handles) > MAX_SUGGESTED else "")
        raise ValidationError("person", f"{person[:80]!r} is not in the directory; pick a handle ({known})")
    return person


def people(ctx: Context) -> list[View]:
    """The directory as roles are picked from it: handle and name."""
    with ctx.read() as uow:
        return [
            {"handle": p.handle, "name": p.name} for p in sorted(uow.oncall.people(), key=lambda p: p.handle)
        ]


def assign_role(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.assign_role(ctx, ref, actor, _role(body), _person(ctx, body)))


def hand_off_role(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(
        ctx, cases.hand_off_role(ctx, ref, actor, _role(body), _person(ctx, body), _str(body, "note"))
    )


def fact(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.record_fact(ctx, ref, actor, _str(body, "text"), _str(body, "source")))


def guess(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.record_guess(ctx, ref, actor, _str(body, "text")))


def confirm(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.confirm_guess(ctx, ref, actor, _str(body, "guess"), _str(body, "source") or None))


def refute(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.refute_guess(ctx, ref, actor, _str(body, "guess"), _str(body, "why")))


def decide(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(
        ctx,
        cases.record_decision(
            ctx,
            ref,
            actor,
            _str(body, "text"),
            _str(body, "why"),
            _list(body, "alternatives"),
            not _bool(body, "irreversible"),
        ),
    )


def retitle(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Rename the incident (``title``)."""
    return _view(ctx, cases.retitle(ctx, ref, actor, _str(body, "title")))


def note(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.add_note(ctx, ref, actor, _str(body, "text"), _bool(body, "pinned")))


def add_change(ctx: Context, actor: str, body: Mapping[str, Any]) -> View:
    change, created = change_cases.record_change(
        ctx,
        service=_str(body, "service"),
        kind=_str(body, "kind"),
        at=_time(ctx, body.get("at"), "at"),
        summary=_str(body, "summary"),
        actor=actor,
        source=_str(body, "source", "api") or "api",
    )
    return change_view(change) | {"created": created}


def changes(ctx: Context, ref: str | int) -> View:
    state, services, found = change_cases.changes_near(ctx, ref)
    start, end = change_cases.window_of(ctx, state)
    return {
        "incident": state.ref,
        "services": services,
        "window": {"start": to_data(start), "end": to_data(end)},
        "changes": [change_view(c) for c in found],
        "actor_names": actor_names(ctx).labels(c.actor for c in found),
    }


def _plan(body: Mapping[str, Any], service: str | None = None) -> MitigationPlan:
    minutes = parse_amount(body.get("expected_minutes", 2), "expected_minutes")
    return MitigationPlan(
        title=_str(body, "title"),
        kind=parse_enum(MitigationKind, _str(body, "kind", "other"), "kind"),
        risk=parse_enum(Risk, _str(body, "risk", "medium"), "risk"),
        reversible=_bool(body, "reversible", True),
        expected_minutes=2.0 if minutes is None else minutes,
        changes=_str(body, "changes"),
        authority=_str(body, "authority") or None,
        steps=_list(body, "steps"),
        verification=_str(body, "verification") or None,
        service=service,
    )


def propose(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    prepared = body.get("prepared")
    if prepared not in (None, ""):
        return _view(ctx, cases.propose_prepared(ctx, ref, actor, _whole(prepared, "prepared")))
    return _view(ctx, cases.propose_mitigation(ctx, ref, actor, _plan(body)))


def approve(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.approve_mitigation(ctx, ref, actor, _str(body, "mitigation")))


def apply(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    state = cases.apply_mitigation(ctx, ref, actor, _str(body, "mitigation"), _str(body, "changes") or None)
    return _view(ctx, state)


def outcome(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    state = cases.record_outcome(
        ctx,
        ref,
        actor,
        _str(body, "mitigation"),
        _str(body, "outcome"),
        _str(body, "note") or None,
        before=parse_amount(body.get("before"), "before"),
        after=parse_amount(body.get("after"), "after"),
    )
    return _view(ctx, state)


def revert(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.revert_mitigation(ctx, ref, actor, _str(body, "mitigation"), _str(body, "why")))


def mitigated(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.mark_mitigated(ctx, ref, actor, _str(body, "evidence") or None))


def update(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Post it; ``notify`` says which configured channels it goes to and warns of every
    stakeholder nothing is configured to reach."""
    from warroom.services.comms.health import update_reach

    audience = _str(body, "audience", "internal") or "internal"
    stage = _str(body, "stage") or None
    state = cases.post_update(ctx, ref, actor, _str(body, "text"), audience, stage=stage)
    return _view(ctx, state) | {"notify": update_reach(ctx, state)}


def update_template(ctx: Context, ref: str | int) -> View:
    """A prefilled status update from the incident's state (what, impact, mitigation, next)."""
    from warroom.domain.comms.updates import draft_update

    state = cases.get_incident(ctx, ref)
    return {"incident": state.ref, "text": draft_update(state, now=ctx.clock.now(), policy=ctx.policy)}


def resolve(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Resolve; where the impact probe reads the affected services, only once their
    indicators are back at baseline, unless ``force`` with ``why`` (recorded)."""
    state = probe.resolve(
        ctx,
        ref,
        actor,
        _str(body, "summary"),
        impact_stopped=_bool(body, "impact_stopped"),
        risk_controlled=_bool(body, "risk_controlled"),
        data_verified=_bool(body, "data_verified"),
        force=_bool(body, "force"),
        why=_str(body, "why") or None,
        final_update=_str(body, "final_update") or None,
    )
    return _view(ctx, state)


def reopen(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.reopen(ctx, ref, actor, _str(body, "why")))


def close(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    return _view(ctx, cases.close(ctx, ref, actor))


def _break_view(broken: ChainBreak) -> View:
    return {
        "incident": f"INC-{broken.incident}",
        "seq": broken.seq,
        "kind": broken.kind,
        "problem": broken.problem,
        "message": str(broken),
    }


def verify(ctx: Context, ref: str | int | None = None) -> View:
    """Every incident checked; ``broken`` is the first break, ``breaks`` every one."""
    checked, breaks = cases.verify_chains(ctx, ref)
    return {
        "ok": not breaks,
        "incidents_checked": checked,
        "broken": _break_view(breaks[0]) if breaks else None,
        "breaks": [_break_view(b) for b in breaks],
    }


def prepared_list(ctx: Context, ref: str | int) -> list[View]:
    state = cases.get_incident(ctx, ref)
    return [to_data(p) | {"index": i} for i, p in enumerate(cases.prepared(ctx, state), start=1)]


def triage(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Measure the incident's impact now and record it (``impact_measured``), with the
    X-ray's verdict beside it (``xray``: its status and one line; None without an X-ray)."""
    view = probe.triage(ctx, ref, actor)
    if ctx.xray is None:
        return view
    found = xray(ctx, ref)
    return view | {"xray": {"status": found["status"], "verdict": found["verdict"]}}


def triage_show(ctx: Context, ref: str | int) -> View:
    """The last recorded measurement, without asking Prometheus."""
    return probe.last_measurement(ctx, ref)


def xray(ctx: Context, ref: str | int) -> View:
    """The X-ray of the incident's window against its baseline (never raises for the trace
    source: ``status`` degraded says why). The window starts at the stated impact start,
    else where the last recorded measurement saw it begin."""
    from warroom.services.xray.report import incident_xray

    return incident_xray(ctx, ctx.xray, ref)


def xray_pin(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Pin an X-ray finding (``finding``: its index, 0 = the verdict) as a fact with its evidence."""
    from warroom.services.xray.report import pin_finding

    finding = body.get("finding", 0)
    if isinstance(finding, bool) or not isinstance(finding, int) or not 0 <= finding < 1000:
        raise ValidationError("finding", "must be the number of a finding (0 = the verdict)")
    return pin_finding(ctx, ctx.xray, ref, actor, finding)


def mitigation_check(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> View:
    """Re-check applied mitigations against the metrics; ``mitigation`` picks one."""
    return mitigation_checks.check_mitigations(ctx, ref, actor, _str(body, "mitigation") or None)


__all__: Sequence[str] = ()


# --- stakeholders ------------------------------------------------------------------------


def stakeholder_views(found: Sequence[Stakeholder]) -> list[View]:
    return [{"target": s.target, "audience": s.audience, "source": s.source} for s in found]


def stakeholders(ctx: Context, ref: str | int) -> list[View]:
    """Who gets this incident's status updates: the playbooks' and this incident's own."""
    from warroom.services.comms import stakeholders as people

    return stakeholder_views(people.list_stakeholders(ctx, ref))


def stakeholder_add(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> list[View]:
    """Add a channel name or an email address (``audience`` internal or public)."""
    from warroom.services.comms import stakeholders as people

    target, audience = _str(body, "target"), _str(body, "audience", "internal") or "internal"
    found = people.add_stakeholder(ctx, ref, actor, target, audience, channels=ctx.channels)
    return stakeholder_views(found)


def stakeholder_remove(ctx: Context, actor: str, ref: str | int, body: Mapping[str, Any]) -> list[View]:
    """Remove one; a playbook's stakeholder is excluded from this incident only."""
    from warroom.services.comms import stakeholders as people

    return stakeholder_views(people.remove_stakeholder(ctx, ref, actor, _str(body, "target")))
