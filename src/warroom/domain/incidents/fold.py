"""Folding events into an incident's state: one small function per event kind.

Folding never validates: events are facts that already happened. Commands validate
before they emit (see ``incident.py``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from warroom.domain.incidents.chain import GENESIS, check_run
from warroom.domain.incidents.events import PAGE_EVENT_KINDS, Event
from warroom.domain.incidents.severity import Impact, IncidentKind, Severity
from warroom.domain.incidents.state import (
    AlertLink,
    Decision,
    Followup,
    IncidentState,
    LedgerEntry,
    Milestone,
    Mitigation,
    Role,
    RoleTerm,
    Status,
    StatusUpdate,
)
from warroom.domain.shared.errors import CorruptTimeline, NotFound
from warroom.domain.shared.serial import from_data
from warroom.domain.shared.timefmt import from_iso


def _time(value: Any) -> Any:
    return from_iso(value) if isinstance(value, str) else None


def _declared(event: Event) -> IncidentState:
    p = event.payload
    state = IncidentState(
        number=event.incident,
        title=p["title"],
        scope=p.get("scope", ""),
        symptom=p.get("symptom", ""),
        trigger=p.get("trigger", ""),
        kind=IncidentKind(p["kind"]),
        services=list(p.get("services", [])),
        impact=Impact.from_dict(p["impact"]),
        severity=Severity[p["severity"]],
        severity_explanation=p["explanation"],
        policy_severity=Severity[p["policy_severity"]],
        override_why=p.get("override_why"),
    )
    for name, milestone in p.get("milestones", {}).items():
        state.milestones[name] = Milestone(from_iso(milestone["at"]), event.actor, milestone["evidence"])
    return state


def _impact_assessed(state: IncidentState, event: Event) -> None:
    state.impact = Impact.from_dict(event.payload["impact"])
    state.policy_severity = Severity[event.payload["policy_severity"]]
    if state.override_why is None:
        state.severity_explanation = event.payload["explanation"]


def _retitled(state: IncidentState, event: Event) -> None:
    state.title = event.payload["to"]


def _severity_changed(state: IncidentState, event: Event) -> None:
    state.severity = Severity[event.payload["to"]]
    state.severity_explanation = event.payload["explanation"]
    state.override_why = event.payload.get("override_why")


def _role_assigned(state: IncidentState, event: Event) -> None:
    term = RoleTerm(Role(event.payload["role"]), event.payload["person"], event.occurred_at)
    state.roles[term.role.value] = term
    state.role_history.append(term)
    if event.payload.get("acknowledges"):
        state.milestones["acknowledged_at"] = Milestone(event.occurred_at, event.actor, "commander assigned")


def _role_handed_off(state: IncidentState, event: Event) -> None:
    role = Role(event.payload["role"])
    # Close the open interval in the history itself: in a state rebuilt from a snapshot the
    # current holder and its history entry are equal but no longer the same object.
    for term in reversed(state.role_history):
        if term.role is role and term.until is None:
            term.until = event.occurred_at
            term.note = event.payload.get("note", "")
            break
    term = RoleTerm(role, event.payload["to"], event.occurred_at, note=event.payload.get("note", ""))
    state.roles[role.value] = term
    state.role_history.append(term)


def _next_ref(state: IncidentState, prefix: str) -> str:
    number = state.counters.get(prefix, 0) + 1
    state.counters[prefix] = number
    return f"{prefix}{number}"


def _fact(state: IncidentState, event: Event) -> None:
    state.ledger.append(
        LedgerEntry(
            event.payload["ref"],
            event.payload["text"],
            "fact",
            event.occurred_at,
            event.actor,
            source=event.payload["source"],
        )
    )
    _next_ref(state, "F")


def _guess(state: IncidentState, event: Event) -> None:
    state.ledger.append(
        LedgerEntry(event.payload["ref"], event.payload["text"], "open", event.occurred_at, event.actor)
    )
    _next_ref(state, "G")


def _ledger_entry(state: IncidentState, ref: str) -> LedgerEntry:
    return next(entry for entry in state.ledger if entry.ref == ref)


def _guess_decided(status: str) -> Callable[[IncidentState, Event], None]:
    def fold(state: IncidentState, event: Event) -> None:
        entry = _ledger_entry(state, event.payload["ref"])
        entry.status = status
        entry.decided_at = event.occurred_at
        entry.decided_by = event.actor
        entry.why = event.payload.get("why")
        if event.payload.get("source"):
            entry.source = event.payload["source"]

    return fold


def _decision(state: IncidentState, event: Event) -> None:
    p = event.payload
    state.decisions.append(
        Decision(
            p["ref"],
            p["text"],
            p["why"],
            list(p.get("alternatives", [])),
            p["reversible"],
            event.occurred_at,
            event.actor,
        )
    )
    _next_ref(state, "D")


def _mitigation(state: IncidentState, ref: str) -> Mitigation:
    return next(item for item in state.mitigations if item.ref == ref)


def _mitigation_proposed(state: IncidentState, event: Event) -> None:
    p = event.payload
    mitigation = Mitigation(
        ref=p["ref"],
        title=p["title"],
        kind=p["kind"],
        risk=p["risk"],
        reversible=p["reversible"],
        expected_minutes=float(p["expected_minutes"]),
        changes=p.get("changes", ""),
        authority=p.get("authority"),
        steps=list(p.get("steps", [])),
        verification=p.get("verification"),
        prepared=bool(p.get("prepared")),
        state="proposed",
        proposed_at=event.occurred_at,
        proposed_by=event.actor,
        risk_flag=p.get("risk_flag"),
    )
    state.mitigations.append(mitigation)
    _next_ref(state, "M")


def _mitigation_approved(state: IncidentState, event: Event) -> None:
    item = _mitigation(state, event.payload["ref"])
    item.state = "approved"
    item.approved_by = event.actor


def _mitigation_applied(state: IncidentState, event: Event) -> None:
    item = _mitigation(state, event.payload["ref"])
    item.state = "applied"
    item.applied_at = event.occurred_at
    item.applied_by = event.actor
    if event.payload.get("changes"):
        item.changes = event.payload["changes"]
    if state.status is Status.TRIAGE:
        state.status = Status.MITIGATING


def _mitigation_outcome(state: IncidentState, event: Event) -> None:
    item = _mitigation(state, event.payload["ref"])
    item.state = event.payload["outcome"]
    item.outcome_at = event.occurred_at
    item.outcome_note = event.payload.get("note")
    item.before = event.payload.get("before")
    item.after = event.payload.get("after")


def _mitigation_reverted(state: IncidentState, event: Event) -> None:
    item = _mitigation(state, event.payload["ref"])
    item.state = "reverted"
    item.reverted_why = event.payload["why"]


def _mitigated(state: IncidentState, event: Event) -> None:
    state.milestones["mitigated_at"] = Milestone(event.occurred_at, event.actor, event.payload["evidence"])
    state.status = Status.MITIGATED


def _update(state: IncidentState, event: Event) -> None:
    p = event.payload
    state.updates.append(
        StatusUpdate(
            p["ref"],
            p["text"],
            p["audience"],
            event.occurred_at,
            event.actor,
            _time(p.get("next_due")),
            p.get("stage"),
        )
    )
    _next_ref(state, "U")


def _resolved(state: IncidentState, event: Event) -> None:
    state.status = Status.RESOLVED
    state.resolution = dict(event.payload)
    state.milestones["resolved_at"] = Milestone(event.occurred_at, event.actor, event.payload["summary"])


def _reopened(state: IncidentState, event: Event) -> None:
    # Impact is back: it is no longer mitigated (mitigated_at goes; the timeline keeps the
    # first one), and the work resumes where it stands: mitigating if something is applied.
    state.milestones.pop("resolved_at", None)
    state.milestones.pop("mitigated_at", None)
    state.resolution = None
    applied = any(item.applied_at is not None and item.state != "reverted" for item in state.mitigations)
    state.status = Status.MITIGATING if applied else Status.TRIAGE


def _role_released(state: IncidentState, event: Event) -> None:
    current = state.roles.pop(event.payload["role"], None)
    if current is not None:
        current.until = event.occurred_at
        current.note = event.payload.get("note", "")


def _closed(state: IncidentState, event: Event) -> None:
    state.status = Status.CLOSED
    state.milestones["closed_at"] = Milestone(event.occurred_at, event.actor, "closed")


def _alert_attached(state: IncidentState, event: Event) -> None:
    p = event.payload
    state.alerts[p["fingerprint"]] = AlertLink(
        p["fingerprint"],
        p["source"],
        p["name"],
        p.get("service"),
        "firing",
        _time(p.get("starts_at")),
    )


def _alert_resolved(state: IncidentState, event: Event) -> None:
    link = state.alerts.get(event.payload["fingerprint"])
    if link is not None:
        link.status = "resolved"
        link.ended_at = _time(event.payload.get("ended_at")) or event.occurred_at


def _scope_widened(state: IncidentState, event: Event) -> None:
    state.scope = event.payload["scope"]
    for label, values in event.payload["added"].items():
        named = state.scope_named.setdefault(label, [])
        named.extend(value for value in values if value not in named)


def _measured(state: IncidentState, event: Event) -> None:
    state.measured = dict(event.payload)


def _published(state: IncidentState, event: Event) -> None:
    state.postmortem_published = True


def _amended(state: IncidentState, event: Event) -> None:
    state.postmortem_published = False


def _followup_added(state: IncidentState, event: Event) -> None:
    state.followups.append(
        from_data(
            Followup,
            {
                **event.payload,
                "status": "open",
                "created_at": event.payload.get("created_at") or event.occurred_at.isoformat(),
            },
        )
    )
    _next_ref(state, "A")


def _followup_updated(state: IncidentState, event: Event) -> None:
    item = next(f for f in state.followups if f.ref == event.payload["ref"])
    item.status = event.payload["status"]
    item.closed_at = event.occurred_at
    item.why = event.payload.get("why")


def _noop(state: IncidentState, event: Event) -> None:
    return None


FOLDS: dict[str, Callable[[IncidentState, Event], None]] = {
    "impact_assessed": _impact_assessed,
    "retitled": _retitled,
    "severity_changed": _severity_changed,
    "role_assigned": _role_assigned,
    "role_handed_off": _role_handed_off,
    "role_released": _role_released,
    "fact_recorded": _fact,
    "guess_recorded": _guess,
    "guess_confirmed": _guess_decided("confirmed"),
    "guess_refuted": _guess_decided("refuted"),
    "decision_recorded": _decision,
    "note_added": _noop,
    "mitigation_proposed": _mitigation_proposed,
    "mitigation_approved": _mitigation_approved,
    "mitigation_applied": _mitigation_applied,
    "mitigation_outcome_recorded": _mitigation_outcome,
    "mitigation_reverted": _mitigation_reverted,
    "incident_mitigated": _mitigated,
    "status_update_posted": _update,
    "incident_resolved": _resolved,
    "incident_reopened": _reopened,
    "incident_closed": _closed,
    "alert_attached": _alert_attached,
    "alert_resolved": _alert_resolved,
    "scope_widened": _scope_widened,
    "impact_measured": _measured,
    "postmortem_published": _published,
    "postmortem_amended": _amended,
    "followup_added": _followup_added,
    "followup_updated": _followup_updated,
    # the list lives in the incident_stakeholders read model (storage/outbox_tables.py)
    "stakeholder_added": _noop,
    "stakeholder_removed": _noop,
    # pages live in the on-call tables; the timeline records what they did
    **dict.fromkeys(PAGE_EVENT_KINDS, _noop),
}


def apply(state: IncidentState | None, event: Event) -> IncidentState:
    """Fold one event into ``state`` (``None`` before the declaration) and return it."""
    if event.kind == "incident_declared":
        state = _declared(event)
    elif state is None:
        raise ValueError(f"{event.ref} comes before the declaration")
    else:
        FOLDS[event.kind](state, event)
    state.version = event.seq
    state.last_hash = event.hash
    state.updated_at = event.recorded_at
    return state


def fold(events: Iterable[Event], state: IncidentState | None = None) -> IncidentState:
    """Fold stored ``events`` (in sequence order) onto ``state``.

    An event whose content no longer folds (its row was edited outside warroom) raises
    :class:`CorruptTimeline` naming it, instead of whatever the fold function tripped on."""
    for event in events:
        try:
            state = apply(state, event)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
            raise CorruptTimeline(event.incident, event.seq, event.kind, _unreadable(error)) from error
    if state is None:
        raise ValueError("no events to fold")
    return state


def restore(
    snapshot: tuple[int, str] | None, events_after: Callable[[int], list[Event]], number: int
) -> IncidentState:
    """The state of incident ``number`` from its snapshot (version, JSON) and the events
    after it. A snapshot is derived data: one that does not load is ignored and every
    event is folded instead."""
    state: IncidentState | None = None
    after = 0
    if snapshot is not None:
        try:
            state = from_data(IncidentState, json.loads(snapshot[1]))
            after = snapshot[0]
        except (KeyError, TypeError, ValueError, AttributeError):
            state = None
    rest = events_after(after)
    if state is None and not rest:
        raise NotFound(f"no incident INC-{number}")
    return catch_up(state, rest, after)


def catch_up(state: IncidentState | None, rest: Sequence[Event], after: int) -> IncidentState:
    """Fold ``rest``, the stored events after version ``after``, onto ``state`` (the
    incident at ``after``; None with ``after`` 0), checking their chain as they are folded:
    a tampered event shows on every read. ``state`` is changed in place."""
    if not rest:
        if state is None:
            raise ValueError("no events to fold")
        return state
    broken = check_run(rest, prev_hash=state.last_hash if state else GENESIS, first_seq=after + 1)
    folded = fold(rest, state)
    folded.chain_break = folded.chain_break or broken
    return folded


def _unreadable(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"{error.args[0]!r} is missing" if error.args else "a field is missing"
    return str(error).splitlines()[0] if str(error) else type(error).__name__
