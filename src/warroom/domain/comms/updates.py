"""Stakeholder updates prefilled from the incident's state."""

from __future__ import annotations

from datetime import datetime

from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.room import next_update_due
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.timefmt import human_duration

_MITIGATION_WORDS = {
    "proposed": "proposed",
    "approved": "approved, about to be applied",
    "applied": "applied, effect being verified",
    "effective": "applied and verified effective",
    "ineffective": "applied but not effective",
    "worse": "applied and made things worse; being reverted",
    "inconclusive": "applied; effect not yet measurable",
    "reverted": "reverted",
}


def _impact_line(state: IncidentState) -> str:
    parts: list[str] = []
    impact = state.impact
    if impact.customer_share is not None:
        parts.append(f"{impact.customer_share * 100:.3g}% of users or requests affected")
    if impact.critical_journey:
        parts.append(f"{impact.critical_journey} is down")
    if impact.data_integrity.value != "none":
        parts.append(f"data {impact.data_integrity.value.replace('_', ' ')}")
    if state.measured and state.measured.get("summary"):
        parts.append(f"measured: {state.measured['summary']}")
    return "; ".join(parts) or "being assessed"


def draft_update(state: IncidentState, *, now: datetime, policy: ResponsePolicy) -> str:
    """What is happening, impact, mitigation state and next update time, as a draft."""
    started = state.at("impact_started_at") or state.at("detected_at")
    since = f" for {human_duration(now - started)}" if started else ""
    lines = [
        f"{state.ref} [{state.severity}] {state.title} - {state.status.value}{since}.",
        f"Services: {', '.join(state.services) or 'unknown'}.",
        f"Impact: {_impact_line(state)}.",
    ]
    if state.mitigations:
        latest = state.mitigations[-1]
        lines.append(f"Mitigation: {latest.title} - {_MITIGATION_WORDS.get(latest.state, latest.state)}.")
    else:
        lines.append("Mitigation: none applied yet; options are being prepared.")
    cadence = policy.cadence_for(state.severity)
    if cadence is not None and state.status.is_open:
        due = now + cadence
        lines.append(f"Next update by {due.strftime('%H:%M')} UTC.")
    elif (due_at := next_update_due(state, policy)) is not None:
        lines.append(f"Next update by {due_at.strftime('%H:%M')} UTC.")
    return "\n".join(lines)
