"""The postmortem's factual timeline: what happened and when, drawn from the events.

Every entry is one event (or a milestone the declaration backdated: impact start and
detection), in the order things happened (``occurred_at``, then sequence). Declaration,
severity and impact changes, role assignments and handoffs, facts and the fate of
guesses, decisions, mitigations from proposal to verified outcome, status updates,
alerts, mitigation, resolution, reopening and closing are kept. Notes are chatter and
stay out unless pinned; open guesses stay out (only their confirmation or refutation is
a fact); postmortem, follow-up and stakeholder bookkeeping is not part of the incident.
Pure and single-pass: 10,000 events take a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.domain.incidents.events import Event
from warroom.domain.shared.timefmt import from_iso

MILESTONE_WORDS = {"impact_started_at": "Impact started", "detected_at": "Detected"}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline: when, which kind of event, what, who; ``seq`` is the
    event's sequence number (the evidence)."""

    at: datetime
    kind: str
    text: str
    by: str
    seq: int


def _share(value: Any) -> str:
    return f"{float(value) * 100:.3g}%" if isinstance(value, int | float) else "unknown"


def _impact_words(impact: dict[str, Any]) -> str:
    parts = [f"customer {_share(impact.get('customer_share'))}"]
    if impact.get("critical_journey"):
        parts.append(f"critical journey {impact['critical_journey']}")
    if impact.get("financial_per_hour") is not None:
        parts.append(f"financial {impact['financial_per_hour']:g}/h")
    if impact.get("data_integrity", "none") != "none":
        parts.append(f"data {impact['data_integrity']}")
    if impact.get("security", "none") != "none":
        parts.append(f"security {impact['security']}")
    return ", ".join(parts)


class _Describer:
    """Turns events into sentences; remembers guess and mitigation texts by reference."""

    def __init__(self) -> None:
        self.guesses: dict[str, str] = {}
        self.mitigations: dict[str, str] = {}

    def describe(self, event: Event) -> str | None:
        method = _KINDS.get(event.kind)
        return None if method is None else method(self, event.payload)

    def declared(self, p: dict[str, Any]) -> str:
        services = ", ".join(p.get("services", [])) or "no service named"
        return (
            f"Declared {p['severity']} {str(p['kind']).replace('_', ' ')} incident: {p['title']} "
            f"({services}). {p['explanation']}"
        )

    def assessed(self, p: dict[str, Any]) -> str:
        return (
            f"Impact re-assessed: {_impact_words(p.get('impact', {}))} (policy: {p.get('policy_severity')})"
        )

    def severity(self, p: dict[str, Any]) -> str:
        return f"Severity {p['from']} -> {p['to']}: {p['explanation']}"

    def assigned(self, p: dict[str, Any]) -> str:
        ack = " (acknowledged the incident)" if p.get("acknowledges") else ""
        return f"{p['person']} took the {p['role']} role{ack}"

    def handed_off(self, p: dict[str, Any]) -> str:
        return f"{p['role']} handed off from {p['from']} to {p['to']}: {p.get('note', '')}".rstrip(": ")

    def released(self, p: dict[str, Any]) -> str:
        return f"{p.get('person', 'the holder')} left the {p.get('role', '')} role".replace("  ", " ")

    def paged(self, p: dict[str, Any]) -> str | None:
        return str(p.get("text") or "") or None

    def fact(self, p: dict[str, Any]) -> str:
        return f"Fact {p['ref']}: {p['text']} (source: {p['source']})"

    def guess(self, p: dict[str, Any]) -> None:
        self.guesses[p["ref"]] = p["text"]

    def confirmed(self, p: dict[str, Any]) -> str:
        source = f" (source: {p['source']})" if p.get("source") else ""
        return f"Guess {p['ref']} confirmed: {self.guesses.get(p['ref'], '')}{source}"

    def refuted(self, p: dict[str, Any]) -> str:
        return f"Guess {p['ref']} refuted: {self.guesses.get(p['ref'], '')} ({p.get('why', '')})"

    def decision(self, p: dict[str, Any]) -> str:
        text = f"Decision {p['ref']}: {p['text']}; why: {p['why']}"
        if p.get("alternatives"):
            text += f"; alternatives considered: {'; '.join(p['alternatives'])}"
        return text + ("" if p.get("reversible", True) else " (irreversible)")

    def note(self, p: dict[str, Any]) -> str | None:
        return f"Note: {p['text']}" if p.get("pinned") else None

    def proposed(self, p: dict[str, Any]) -> str:
        self.mitigations[p["ref"]] = p["title"]
        origin = "prepared" if p.get("prepared") else "ad hoc"
        return f"Mitigation {p['ref']} proposed ({origin}, {p['kind']}, {p['risk']} risk): {p['title']}"

    def approved(self, p: dict[str, Any]) -> str:
        return f"Mitigation {p['ref']} approved: {self.mitigations.get(p['ref'], '')}"

    def applied(self, p: dict[str, Any]) -> str:
        changed = f"; changed: {p['changes']}" if p.get("changes") else ""
        return f"Mitigation {p['ref']} applied: {self.mitigations.get(p['ref'], '')}{changed}"

    def outcome(self, p: dict[str, Any]) -> str:
        text = f"Mitigation {p['ref']} was {p['outcome']}: {self.mitigations.get(p['ref'], '')}"
        if p.get("before") is not None and p.get("after") is not None:
            text += f" ({p['before']:g} -> {p['after']:g})"
        return text + (f"; {p['note']}" if p.get("note") else "")

    def reverted(self, p: dict[str, Any]) -> str:
        return f"Mitigation {p['ref']} reverted: {self.mitigations.get(p['ref'], '')} ({p.get('why', '')})"

    def mitigated(self, p: dict[str, Any]) -> str:
        return f"User impact mitigated: {p.get('evidence', '')}".rstrip(": ")

    def update(self, p: dict[str, Any]) -> str:
        return f"Status update {p['ref']} ({p['audience']}): {p['text']}"

    def resolved(self, p: dict[str, Any]) -> str:
        stated = ["impact stopped", "risk controlled"]
        if p.get("data_verified"):
            stated.append("data verified")
        return f"Resolved ({', '.join(stated)}): {p['summary']}"

    def reopened(self, p: dict[str, Any]) -> str:
        return f"Reopened: {p.get('why', '')}"

    def closed(self, p: dict[str, Any]) -> str:
        return "Closed"

    def retitled(self, p: dict[str, Any]) -> str:
        return f"Renamed to {p.get('to')}"

    def alert(self, p: dict[str, Any]) -> str:
        since = f", firing since {p['starts_at']}" if p.get("starts_at") else ""
        return f"Alert {p['name']} attached ({p['source']}{since})"

    def alert_resolved(self, p: dict[str, Any]) -> str:
        return f"Alert resolved at its source ({p['fingerprint'][:12]})"

    def scope_widened(self, p: dict[str, Any]) -> str:
        added = "; ".join(f"{label} {', '.join(values)}" for label, values in p["added"].items())
        return f"Scope widened by later alerts: {added}"

    def measured(self, p: dict[str, Any]) -> str:
        detail = p.get("summary") or p.get("explanation") or ""
        severity = f" (suggests {p['severity']})" if p.get("severity") else ""
        return f"Impact measured{severity}: {detail}".rstrip(": ")


_KINDS: dict[str, Callable[[_Describer, dict[str, Any]], str | None]] = {
    "incident_declared": _Describer.declared,
    "impact_assessed": _Describer.assessed,
    "severity_changed": _Describer.severity,
    "role_assigned": _Describer.assigned,
    "role_handed_off": _Describer.handed_off,
    "role_released": _Describer.released,
    "fact_recorded": _Describer.fact,
    "guess_recorded": _Describer.guess,
    "guess_confirmed": _Describer.confirmed,
    "guess_refuted": _Describer.refuted,
    "decision_recorded": _Describer.decision,
    "note_added": _Describer.note,
    "mitigation_proposed": _Describer.proposed,
    "mitigation_approved": _Describer.approved,
    "mitigation_applied": _Describer.applied,
    "mitigation_outcome_recorded": _Describer.outcome,
    "mitigation_reverted": _Describer.reverted,
    "incident_mitigated": _Describer.mitigated,
    "status_update_posted": _Describer.update,
    "incident_resolved": _Describer.resolved,
    "incident_reopened": _Describer.reopened,
    "incident_closed": _Describer.closed,
    "retitled": _Describer.retitled,
    "alert_attached": _Describer.alert,
    "alert_resolved": _Describer.alert_resolved,
    "scope_widened": _Describer.scope_widened,
    "impact_measured": _Describer.measured,
    # on call: who was paged, and who answered when (each notification stays in the outbox)
    "page_opened": _Describer.paged,
    "page_escalated": _Describer.paged,
    "page_acknowledged": _Describer.paged,
    "page_fell_back": _Describer.paged,
    "page_exhausted": _Describer.paged,
}


def factual_timeline(events: Iterable[Event]) -> list[TimelineEntry]:
    """The timeline entries of ``events`` (given in sequence order), ordered by when
    they happened."""
    describer = _Describer()
    entries: list[TimelineEntry] = []
    for event in events:
        if event.kind == "incident_declared":
            for name, words in MILESTONE_WORDS.items():
                milestone = event.payload.get("milestones", {}).get(name)
                if milestone is not None:
                    at = from_iso(milestone["at"])
                    said = f"{words} ({milestone.get('evidence', 'stated')})"
                    entries.append(TimelineEntry(at, name.removesuffix("_at"), said, event.actor, event.seq))
        text = describer.describe(event)
        if text is not None:
            entries.append(TimelineEntry(event.occurred_at, event.kind, text, event.actor, event.seq))
    # Stable: equal times keep sequence order, so a backdated detection precedes the declaration.
    entries.sort(key=lambda entry: entry.at)
    return entries
