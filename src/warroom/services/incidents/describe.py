"""One line per timeline event, for people: the room's timeline, ``warroom timeline`` and
the API's event views (their ``description``) all read it.

Works on the JSON event view (:func:`warroom.services.incidents.views.event_view`), so it
says exactly what the API returns; an unknown kind falls back to its name rather than
failing the page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from warroom.domain.incidents.actors import PAYLOAD_PEOPLE
from warroom.domain.incidents.events import PAGE_EVENT_KINDS

Payload = Mapping[str, Any]


def _declared(p: Payload) -> str:
    services = ", ".join(p.get("services", [])) or "no service named"
    return f"declared {p.get('severity')} {p.get('kind')} on {services}: {p.get('title')}"


def _severity(p: Payload) -> str:
    why = f" ({p['why']})" if p.get("why") else ""
    return f"severity {p.get('from')} → {p.get('to')}{why}: {p.get('explanation')}"


def _handoff(p: Payload) -> str:
    return f"{p.get('role')} handed off from {p.get('from')} to {p.get('to')}: {p.get('note')}"


def _assigned(p: Payload) -> str:
    ack = " (acknowledged)" if p.get("acknowledges") else ""
    return f"{p.get('person')} took {p.get('role')}{ack}"


def _outcome(p: Payload) -> str:
    note = f": {p['note']}" if p.get("note") else ""
    return f"{p.get('ref')} outcome {p.get('outcome')}{note}"


def _decision(p: Payload) -> str:
    alternatives = p.get("alternatives") or []
    also = f" (considered: {', '.join(alternatives)})" if alternatives else ""
    irreversible = "" if p.get("reversible", True) else " [irreversible]"
    return f"{p.get('ref')} decided: {p.get('text')}, because {p.get('why')}{also}{irreversible}"


DESCRIBE: dict[str, Callable[[Payload], str]] = {
    "incident_declared": _declared,
    "impact_assessed": lambda p: f"impact re-assessed: {p.get('explanation')}",
    "severity_changed": _severity,
    "role_assigned": _assigned,
    "role_handed_off": _handoff,
    "role_released": lambda p: f"{p.get('person')} left {p.get('role')}",
    "fact_recorded": lambda p: f"{p.get('ref')} fact: {p.get('text')} (source: {p.get('source')})",
    "guess_recorded": lambda p: f"{p.get('ref')} guess: {p.get('text')}",
    "guess_confirmed": lambda p: (
        f"{p.get('ref')} confirmed" + (f" ({p['source']})" if p.get("source") else "")
    ),
    "guess_refuted": lambda p: f"{p.get('ref')} refuted: {p.get('why')}",
    "decision_recorded": _decision,
    "note_added": lambda p: ("pinned " if p.get("pinned") else "") + f"note: {p.get('text')}",
    "mitigation_proposed": lambda p: (
        f"{p.get('ref')} proposed: {p.get('title')} ({p.get('kind')}, {p.get('risk')} risk)"
    ),
    "mitigation_approved": lambda p: f"{p.get('ref')} approved",
    "mitigation_applied": lambda p: (
        f"{p.get('ref')} applied" + (f": {p['changes']}" if p.get("changes") else "")
    ),
    "mitigation_outcome_recorded": _outcome,
    "mitigation_reverted": lambda p: f"{p.get('ref')} reverted: {p.get('why')}",
    "incident_mitigated": lambda p: f"mitigated: {p.get('evidence')}",
    "status_update_posted": lambda p: f"{p.get('ref')} {p.get('audience')} update: {p.get('text')}",
    "incident_resolved": lambda p: f"resolved: {p.get('summary')}",
    "incident_reopened": lambda p: f"reopened: {p.get('why')}",
    "incident_closed": lambda p: "closed",
    "retitled": lambda p: f"renamed from “{p.get('from')}” to “{p.get('to')}”",
    "alert_attached": lambda p: f"alert attached: {p.get('name')} ({p.get('source')})",
    "alert_resolved": lambda p: f"alert resolved: {p.get('fingerprint')}",
    "scope_widened": lambda p: f"scope widened: {p.get('scope')}",
    "impact_measured": lambda p: f"impact measured: {p.get('summary') or p.get('severity')}",
    "postmortem_published": lambda p: "postmortem published",
    "postmortem_amended": lambda p: f"postmortem reopened for amendment: {p.get('why', '')}",
    "followup_added": lambda p: f"{p.get('ref')} follow-up: {p.get('title')} (owner {p.get('owner')})",
    "followup_updated": lambda p: f"{p.get('ref')} follow-up {p.get('status')}",
    # on call: every page event carries its own line
    **{kind: (lambda p: str(p.get("text") or p.get("page"))) for kind in PAGE_EVENT_KINDS},
}


def describe(event: Mapping[str, Any], names: Mapping[str, str] | None = None) -> str:
    """A one-line, human description of an event view. ``names`` labels people by handle
    (``alice`` -> ``Alice Ng (alice)``, see ``ActorNames``): role and follow-up events name
    who took, left or handed over a role, or owns a follow-up, as the rest of the room does."""
    kind = str(event.get("kind", ""))
    payload = event.get("payload") or {}
    if names and kind in PAYLOAD_PEOPLE and isinstance(payload, Mapping):
        payload = {
            **payload,
            **{
                key: names.get(payload[key], payload[key])
                for key in PAYLOAD_PEOPLE[kind]
                if isinstance(payload.get(key), str)
            },
        }
    render = DESCRIBE.get(kind)
    if render is None:
        return kind.replace("_", " ")
    try:
        return render(payload)
    except (KeyError, TypeError):  # an older payload shape: show the kind, not a 500
        return kind.replace("_", " ")
