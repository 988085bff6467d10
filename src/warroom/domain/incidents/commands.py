"""Commands on an incident: each validates against the folded state and returns events.

The domain decides and never fetches: every command gets the state, the time and the
policy as arguments and returns the ``NewEvent`` list to append, or raises a
``DomainError``. Nothing here is stored or sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import Impact, IncidentKind, Severity, assess
from warroom.domain.incidents.stages import checked_stage, stage_of
from warroom.domain.incidents.state import IncidentState, LedgerEntry, Mitigation, Role, Status
from warroom.domain.shared.errors import BrokenChain, InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import optional_text, require_text
from warroom.domain.shared.timefmt import iso, observed_time

# A clock a few seconds ahead of the server's is normal; a time further in the future is
# a typo (or a wrong zone) and would corrupt every duration derived from it.
CLOCK_SKEW = timedelta(seconds=60)
MAX_SERVICES = 50
MAX_JOURNEY = 200


@dataclass(frozen=True)
class Declaration:
    """The declaration template, as a person or an alert policy fills it in."""

    title: str
    kind: IncidentKind
    services: Sequence[str]
    impact: Impact = field(default_factory=Impact)
    scope: str = ""
    symptom: str = ""
    trigger: str = ""
    severity: Severity | None = None
    why: str | None = None
    detected_at: datetime | None = None
    detected_evidence: str = "declared by a person"
    impact_started_at: datetime | None = None
    impact_evidence: str = "stated at declaration"


def _past(value: datetime, field_name: str, now: datetime) -> datetime:
    """An observed time (1970 or later), at most :data:`CLOCK_SKEW` after now."""
    return observed_time(value, field_name, now, ahead=CLOCK_SKEW)


def _services(names: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for name in names:
        text = require_text(name, "services", limit=100)
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_SERVICES:
        raise ValidationError("services", f"at most {MAX_SERVICES} services")
    return cleaned


def declare(decl: Declaration, *, now: datetime, policy: ResponsePolicy) -> NewEvent:
    """Validate the template and decide the severity; returns the ``incident_declared`` event."""
    title = require_text(decl.title, "title", limit=policy.max_title)
    limit = policy.max_text
    detected = _past(decl.detected_at, "detected_at", now) if decl.detected_at else now
    if detected > now:
        # within the skew tolerance: clamp so detection never follows declaration
        detected = now
    started = None
    if decl.impact_started_at is not None:
        started = _past(decl.impact_started_at, "impact_started_at", now)
    _journey(decl.impact)
    verdict = assess(decl.impact, decl.kind, policy.severity)
    if decl.severity is not None:
        _respect_floor(decl.kind, decl.severity, policy)
    severity, explanation, why = _choose_severity(verdict.severity, verdict.explanation, decl, limit)
    milestones: dict[str, Any] = {
        "detected_at": {"at": iso(detected), "evidence": decl.detected_evidence},
        "declared_at": {"at": iso(now), "evidence": "declaration"},
    }
    if started is not None:
        milestones["impact_started_at"] = {"at": iso(started), "evidence": decl.impact_evidence}
    payload = {
        "title": title,
        "scope": optional_text(decl.scope, "scope", limit=limit),
        "symptom": optional_text(decl.symptom, "symptom", limit=limit),
        "trigger": optional_text(decl.trigger, "trigger", limit=limit),
        "kind": decl.kind.value,
        "services": _services(decl.services),
        "impact": decl.impact.to_dict(),
        "severity": severity.name,
        "policy_severity": verdict.severity.name,
        "explanation": explanation,
        "override_why": why,
        "milestones": milestones,
    }
    return NewEvent("incident_declared", payload, now)


def _journey(impact: Impact) -> Impact:
    """The critical journey is free text a person typed: checked here, not when folding."""
    if impact.critical_journey is not None:
        require_text(impact.critical_journey, "critical_journey", limit=MAX_JOURNEY)
    return impact


def _respect_floor(kind: IncidentKind, severity: Severity, policy: ResponsePolicy) -> None:
    """Data-integrity incidents never go below their floor, not even by override."""
    floor = policy.severity.data_integrity_floor
    if kind is IncidentKind.DATA_INTEGRITY and severity > floor:
        raise ValidationError(
            "severity", f"data-integrity incidents have a floor of {floor}; {severity} is below it"
        )


def _choose_severity(
    policy_severity: Severity, explanation: str, decl: Declaration, limit: int
) -> tuple[Severity, str, str | None]:
    if decl.severity is None or decl.severity == policy_severity:
        return policy_severity, explanation, None
    why = optional_text(decl.why, "why", limit=limit)
    if not why:
        raise ValidationError(
            "why",
            f"the policy says {explanation}; overriding it with {decl.severity} needs --why",
        )
    return (
        decl.severity,
        f"{decl.severity}: override by a person ({why}); policy said {explanation}",
        why,
    )


def ensure_writable(state: IncidentState) -> None:
    ensure_chain_intact(state)
    if state.status is Status.CLOSED:
        raise InvalidTransition(f"{state.ref} is closed; reopening is not possible after close")


def ensure_chain_intact(state: IncidentState) -> None:
    """Nothing is appended to a timeline whose events no longer verify."""
    broken = state.chain_break
    if broken is not None:
        raise BrokenChain(broken.incident, broken.seq, broken.kind, broken.problem)


def ensure_open(state: IncidentState, action: str) -> None:
    ensure_writable(state)
    if not state.status.is_open:
        raise InvalidTransition(f"{state.ref} is {state.status.value}; reopen it to {action}")


def reassess(
    state: IncidentState, changes: dict[str, Any], *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    """Re-assess impact dimensions; the severity follows the policy unless a person overrode it."""
    ensure_writable(state)
    if not changes:
        raise ValidationError("impact", "name at least one dimension to re-assess")
    impact = _journey(state.impact.merged(changes))
    verdict = assess(impact, state.kind, policy.severity)
    events = [
        NewEvent(
            "impact_assessed",
            {
                "impact": impact.to_dict(),
                "policy_severity": verdict.severity.name,
                "explanation": verdict.explanation,
            },
            now,
        )
    ]
    if state.override_why is None and verdict.severity != state.severity:
        events.append(
            NewEvent(
                "severity_changed",
                {
                    "from": state.severity.name,
                    "to": verdict.severity.name,
                    "explanation": verdict.explanation,
                    "override_why": None,
                },
                now,
            )
        )
    return events


def override_severity(
    state: IncidentState,
    severity: Severity,
    why: str | None,
    *,
    now: datetime,
    policy: ResponsePolicy,
) -> list[NewEvent]:
    """A person sets the severity; differing from the policy needs a recorded reason."""
    ensure_writable(state)
    policy_says = assess(state.impact, state.kind, policy.severity)
    reason = optional_text(why, "why", limit=policy.max_text)
    if severity == state.severity and (state.override_why is None or not reason):
        raise InvalidTransition(f"{state.ref} is already {severity}")
    _respect_floor(state.kind, severity, policy)
    if severity == policy_says.severity:
        explanation, override = policy_says.explanation, None
    else:
        if not reason:
            raise ValidationError("why", f"the policy says {policy_says.explanation}; {severity} needs --why")
        explanation = f"{severity}: override by a person ({reason}); policy said {policy_says.explanation}"
        override = reason
    payload = {
        "from": state.severity.name,
        "to": severity.name,
        "explanation": explanation,
        "override_why": override,
        "why": reason or None,
    }
    return [NewEvent("severity_changed", payload, now)]


def _person(value: str, field_name: str = "person") -> str:
    return require_text(value, field_name, limit=120)


def assign_role(state: IncidentState, role: Role, person: str, *, now: datetime) -> list[NewEvent]:
    """Give an empty role to a person; a held role must be handed off explicitly."""
    ensure_open(state, "assign roles")
    who = _person(person)
    holder = state.roles.get(role.value)
    if holder is not None:
        if holder.person == who:
            raise InvalidTransition(f"{who} already holds {role.value} on {state.ref}")
        raise InvalidTransition(
            f"{role.value} on {state.ref} is held by {holder.person}; hand it off instead "
            f"(warroom role handoff {state.ref} {role.value} {who} --note ...)"
        )
    acknowledges = role is Role.COMMANDER and "acknowledged_at" not in state.milestones
    payload = {"role": role.value, "person": who, "acknowledges": acknowledges}
    return [NewEvent("role_assigned", payload, now)]


def hand_off_role(
    state: IncidentState,
    role: Role,
    person: str,
    note: str,
    *,
    now: datetime,
    policy: ResponsePolicy,
) -> list[NewEvent]:
    """Pass a held role explicitly, with a note for the next holder."""
    ensure_open(state, "hand off roles")
    who = _person(person)
    holder = state.roles.get(role.value)
    if holder is None:
        raise InvalidTransition(f"{role.value} on {state.ref} is empty; assign it instead")
    if holder.person == who:
        raise InvalidTransition(f"{who} already holds {role.value} on {state.ref}")
    text = require_text(note, "note", limit=policy.max_text)
    payload = {"role": role.value, "from": holder.person, "to": who, "note": text}
    return [NewEvent("role_handed_off", payload, now)]


def _next(state: IncidentState, prefix: str) -> str:
    return f"{prefix}{state.counters.get(prefix, 0) + 1}"


def record_fact(
    state: IncidentState, text: str, source: str, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    ensure_writable(state)
    payload = {
        "ref": _next(state, "F"),
        "text": require_text(text, "text", limit=policy.max_text),
        "source": require_text(source, "source", limit=500),
    }
    return [NewEvent("fact_recorded", payload, now)]


def record_guess(state: IncidentState, text: str, *, now: datetime, policy: ResponsePolicy) -> list[NewEvent]:
    ensure_writable(state)
    payload = {"ref": _next(state, "G"), "text": require_text(text, "text", limit=policy.max_text)}
    return [NewEvent("guess_recorded", payload, now)]


def _open_guess(state: IncidentState, ref: str) -> LedgerEntry:
    wanted = ref.strip().upper()
    if wanted.isdecimal():
        wanted = f"G{wanted}"
    for entry in state.ledger:
        if entry.ref == wanted:
            if entry.status != "open":
                raise InvalidTransition(f"{wanted} on {state.ref} is already {entry.status}")
            return entry
    raise NotFound(f"no guess {ref!r} on {state.ref}")


def confirm_guess(
    state: IncidentState, ref: str, source: str | None, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    ensure_writable(state)
    entry = _open_guess(state, ref)
    payload = {"ref": entry.ref, "source": optional_text(source, "source", limit=500) or None}
    return [NewEvent("guess_confirmed", payload, now)]


def refute_guess(
    state: IncidentState, ref: str, why: str, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    ensure_writable(state)
    entry = _open_guess(state, ref)
    payload = {"ref": entry.ref, "why": require_text(why, "why", limit=policy.max_text)}
    return [NewEvent("guess_refuted", payload, now)]


def record_decision(
    state: IncidentState,
    text: str,
    why: str,
    alternatives: Sequence[str],
    *,
    reversible: bool,
    now: datetime,
    policy: ResponsePolicy,
) -> list[NewEvent]:
    ensure_writable(state)
    payload = {
        "ref": _next(state, "D"),
        "text": require_text(text, "text", limit=policy.max_text),
        "why": require_text(why, "why", limit=policy.max_text),
        "alternatives": [require_text(a, "alternatives", limit=500) for a in alternatives],
        "reversible": reversible,
    }
    return [NewEvent("decision_recorded", payload, now)]


def retitle(state: IncidentState, title: str, *, now: datetime, policy: ResponsePolicy) -> list[NewEvent]:
    """A new title (a declaration from alerts is named after the alert; the cause, once
    known, names it better). Not after close; nothing is recorded when it is unchanged."""
    ensure_writable(state)
    new = require_text(title, "title", limit=policy.max_title)
    if new == state.title:
        raise InvalidTransition(f"{state.ref} is already titled {new!r}")
    return [NewEvent("retitled", {"from": state.title, "to": new}, now)]


def add_note(
    state: IncidentState, text: str, *, pinned: bool, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    ensure_writable(state)
    payload = {"text": require_text(text, "text", limit=policy.max_text), "pinned": pinned}
    return [NewEvent("note_added", payload, now)]


def mark_mitigated(
    state: IncidentState, evidence: str | None, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    """User impact is reduced: sets ``mitigated_at``."""
    ensure_open(state, "mark it mitigated")
    if state.status is Status.MITIGATED:
        raise InvalidTransition(f"{state.ref} is already mitigated")
    text = optional_text(evidence, "evidence", limit=policy.max_text) or "stated by a person"
    return [NewEvent("incident_mitigated", {"evidence": text}, now)]


def post_update(
    state: IncidentState,
    text: str,
    audience: str,
    *,
    now: datetime,
    policy: ResponsePolicy,
    stage: str | None = None,
) -> list[NewEvent]:
    """A stakeholder update; the next one falls due after the severity's cadence. A public
    one carries its stage (``stage`` when named, else the lifecycle's)."""
    ensure_writable(state)
    if audience not in ("internal", "public"):
        raise ValidationError("audience", f"{audience!r} is not one of internal, public")
    named = checked_stage(stage)
    cadence = policy.cadence_for(state.severity)
    next_due = iso(now + cadence) if cadence is not None and state.status.is_open else None
    payload = {
        "ref": _next(state, "U"),
        "text": require_text(text, "text", limit=policy.max_text),
        "audience": audience,
        "next_due": next_due,
    }
    if audience == "public":
        payload["stage"] = named or stage_of(state)
    return [NewEvent("status_update_posted", payload, now)]


def resolve(
    state: IncidentState,
    summary: str,
    *,
    impact_stopped: bool,
    risk_controlled: bool,
    data_verified: bool,
    now: datetime,
    policy: ResponsePolicy,
    forced_why: str | None = None,
    final_update: str | None = None,
) -> list[NewEvent]:
    """Resolved means impact stopped and risk controlled, both stated explicitly.

    An incident the public has heard about gets a last public word with its resolve
    (``final_update``, prefilled from the summary where people write it): the public page
    must not end on a promise of a next update that nobody will post.
    """
    ensure_open(state, "resolve it")
    if not impact_stopped:
        raise ValidationError("impact_stopped", "state that user impact has stopped (--impact-stopped)")
    if not risk_controlled:
        raise ValidationError("risk_controlled", "state that risk is controlled (--risk-controlled)")
    if state.kind is IncidentKind.DATA_INTEGRITY and not data_verified:
        raise ValidationError(
            "data_verified", "a data-integrity incident needs the data verified (--data-verified)"
        )
    payload: dict[str, Any] = {
        "summary": require_text(summary, "summary", limit=policy.max_text),
        "impact_stopped": True,
        "risk_controlled": True,
        "data_verified": data_verified,
    }
    if forced_why:
        payload["forced_why"] = forced_why
    resolved = NewEvent("incident_resolved", payload, now)
    told_public = any(u.audience == "public" for u in state.updates)
    if not (final_update or "").strip():
        if told_public:
            raise ValidationError(
                "final_update",
                "the public has had updates on this incident: give a last public message "
                "(for example the resolution summary)",
            )
        return [resolved]
    last_word = {
        "ref": _next(state, "U"),
        "text": require_text(final_update, "final_update", limit=policy.max_text),
        "audience": "public",
        "next_due": None,
        "final": True,
        "stage": "resolved",
    }
    return [NewEvent("status_update_posted", last_word, now), resolved]


def reopen(state: IncidentState, why: str, *, now: datetime, policy: ResponsePolicy) -> list[NewEvent]:
    ensure_writable(state)
    if state.status is not Status.RESOLVED:
        raise InvalidTransition(f"{state.ref} is {state.status.value}; only a resolved incident reopens")
    return [NewEvent("incident_reopened", {"why": require_text(why, "why", limit=policy.max_text)}, now)]


def close(state: IncidentState, *, now: datetime) -> list[NewEvent]:
    """Closed means learning is done: for SEV1/SEV2 a published postmortem and a follow-up."""
    ensure_writable(state)
    if state.status is not Status.RESOLVED:
        raise InvalidTransition(f"{state.ref} is {state.status.value}; resolve it before closing")
    if state.severity <= Severity.SEV2:
        if not state.postmortem_published:
            raise InvalidTransition(f"{state.ref} is {state.severity}: publish its postmortem before closing")
        if not state.followups:
            raise InvalidTransition(
                f"{state.ref} is {state.severity}: add at least one follow-up before closing"
            )
    for item in state.followups:
        if not item.owner or item.due is None:
            raise InvalidTransition(f"follow-up {item.ref} needs an owner and a due date")
    return [NewEvent("incident_closed", {}, now)]


def find_mitigation(state: IncidentState, ref: str) -> Mitigation:
    wanted = ref.strip().upper()
    if wanted.isdecimal():
        wanted = f"M{wanted}"
    for item in state.mitigations:
        if item.ref == wanted:
            return item
    raise NotFound(f"no mitigation {ref!r} on {state.ref}")
