"""The room's first screen: what someone joining the incident must see before scrolling.

Title and severity are the template's; this module picks, from the room view and the
newest page of the timeline, the facts that need a choice: impact now and its trend, the
mitigation being tried and how far its verification got, when impact started (an alert's
``startsAt`` when the incident was declared from alerts), time since detection and the
countdown to the next status update. Pure: no I/O; ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.domain.shared.timefmt import from_iso, human_duration, iso

IMPACT_KINDS = ("incident_declared", "impact_assessed")
# Which mitigation is "being tried": one applied and not yet judged first, then one approved,
# then the newest proposal; one judged effective says the trying is over.
TRYING_ORDER = ("applied", "inconclusive", "approved", "proposed", "effective")
VERIFICATION = {
    "proposed": "not applied yet",
    "approved": "approved, not applied yet",
    "applied": "applied, verifying: no outcome recorded yet",
    "inconclusive": "applied, outcome inconclusive",
    "effective": "verified effective",
    "ineffective": "did not help",
    "worse": "made it worse",
    "reverted": "reverted",
}


@dataclass(frozen=True)
class ImpactStart:
    at: str
    source: str  # what says so: "set by ann", "startsAt of the first alert", "from alert X"


def impact_line(impact: Mapping[str, Any]) -> str:
    """``customers 18% · critical journey down: checkout · loss 1,200/h``."""
    share = impact.get("customer_share")
    parts = [f"customers {share * 100:.3g}%" if share is not None else "customers unknown"]
    if impact.get("critical_journey"):
        parts.append(f"critical journey down: {impact['critical_journey']}")
    if impact.get("financial_per_hour") is not None:
        parts.append(f"loss {impact['financial_per_hour']:,.0f}/h")
    if impact.get("data_integrity") not in (None, "none"):
        parts.append(f"data {str(impact['data_integrity']).replace('_', ' ')}")
    if impact.get("security") not in (None, "none"):
        parts.append(f"security {impact['security']}")
    return " · ".join(parts)


def _severity_rank(impact: Mapping[str, Any]) -> tuple[float, int, float]:
    return (
        impact.get("customer_share") or 0.0,
        1 if impact.get("critical_journey") else 0,
        impact.get("financial_per_hour") or 0.0,
    )


def impact_trend(events: Sequence[Mapping[str, Any]], current: Mapping[str, Any]) -> str:
    """The trend between the last two impact assessments on the timeline page (newest
    first): ``worse than at 10:04 (customers 12%)``, ``better ...``, ``unchanged since``;
    one assessment only says when it was made."""
    found = [e for e in events if e["kind"] in IMPACT_KINDS and isinstance(e["payload"].get("impact"), dict)]
    if not found:
        return "assessed once"
    latest = found[0]
    when = latest["occurred_at"][11:16]
    if len(found) < 2:
        said = "at declaration" if latest["kind"] == "incident_declared" else "re-assessed"
        return f"{said} {when}, not re-assessed since"
    before = found[1]["payload"]["impact"]
    old, new = _severity_rank(before), _severity_rank(current)
    then = f"{found[1]['occurred_at'][11:16]} ({impact_line(before)})"
    if new > old:
        return f"worse than at {then}"
    if new < old:
        return f"better than at {then}"
    return f"unchanged since {then}"


def trying(mitigations: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The mitigation being tried now (see :data:`TRYING_ORDER`), newest first within a state."""
    newest_first: list[Mapping[str, Any]] = list(mitigations)[::-1]
    for state in TRYING_ORDER:
        for item in newest_first:
            if item.get("state") == state:
                return item
    return None


def impact_start(
    milestones: Mapping[str, Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]] = ()
) -> ImpactStart | None:
    """When impact started: the milestone when someone set it; otherwise, when the incident
    was declared from alerts, the first alert's ``startsAt`` (the detected milestone's
    evidence says so); otherwise, for an incident declared by hand, the earliest ``startsAt``
    of the alerts attached to it since, named."""
    set_by_hand = milestones.get("impact_started_at")
    if set_by_hand:
        return ImpactStart(set_by_hand["at"], f"set by {set_by_hand['by']}")
    detected = milestones.get("detected_at")
    if detected and "startsAt" in str(detected.get("evidence", "")):
        return ImpactStart(detected["at"], "startsAt of the first alert")
    return earliest_alert(alerts)


def earliest_alert(alerts: Iterable[Mapping[str, Any]]) -> ImpactStart | None:
    """The earliest ``startsAt`` among attached alerts, ``from alert NAME``; None without one."""
    known = [(from_iso(str(a["starts_at"])), str(a.get("name") or "?")) for a in alerts if a.get("starts_at")]
    if not known:
        return None
    at, name = min(known)
    return ImpactStart(iso(at), f"from alert {name}")


def with_derived_start(incident: dict[str, Any], start: ImpactStart | None) -> dict[str, Any]:
    """The room view with an impact start the timeline does not know (an alert's startsAt)
    put in its milestones, and the time to detect it gives, for the strip and the charts."""
    milestones = incident["milestones"]
    if start is None or "impact_started_at" in milestones:
        return incident
    intervals = dict(incident.get("intervals") or {})
    detected = milestones.get("detected_at")
    if intervals.get("time_to_detect") is None and detected:
        seconds = (from_iso(detected["at"]) - from_iso(start.at)).total_seconds()
        intervals["time_to_detect"] = seconds if seconds >= 0 else None
    derived = {"at": start.at, "by": start.source}
    return dict(incident) | {
        "milestones": dict(milestones) | {"impact_started_at": derived},
        "intervals": intervals,
    }


def first_screen(
    incident: Mapping[str, Any], events: Sequence[Mapping[str, Any]], now: datetime, *, newest_page: bool
) -> dict[str, Any]:
    milestones = incident["milestones"]
    detected = milestones.get("detected_at") or milestones.get("declared_at")
    mitigation = trying(incident["mitigations"])
    is_open = incident["status"] in ("triage", "mitigating", "mitigated")
    end = milestones.get("resolved_at")
    since_detection = None
    if detected:
        until = now if is_open or not end else from_iso(end["at"])
        since_detection = human_duration(until - from_iso(detected["at"]))
    return {
        "impact": impact_line(incident["impact"]),
        "trend": impact_trend(events, incident["impact"]) if newest_page else None,
        "mitigation": mitigation,
        "verification": VERIFICATION.get(str(mitigation["state"]), str(mitigation["state"]))
        if mitigation
        else None,
        "impact_start": impact_start(milestones, incident.get("attached_alerts") or ()),
        "since_detection": since_detection,
        "detection_running": is_open,
    }
