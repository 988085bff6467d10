"""What the room derives from an incident's state at a given moment: due updates,
durations between milestones, and nudges for the people running it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.state import CORE_ROLES, MILESTONES, IncidentState, Role
from warroom.domain.shared.timefmt import human_duration, iso

# The intervals people ask about, each between two milestones.
INTERVALS = (
    ("time_to_detect", "impact_started_at", "detected_at"),
    ("time_to_declare", "detected_at", "declared_at"),
    ("time_to_acknowledge", "declared_at", "acknowledged_at"),
    ("time_to_mitigate", "declared_at", "mitigated_at"),
    ("time_to_resolve", "declared_at", "resolved_at"),
)


@dataclass(frozen=True)
class Nudge:
    """A reminder shown in the room; ``code`` is stable for machines, ``message`` for people."""

    code: str
    message: str


def next_update_due(state: IncidentState, policy: ResponsePolicy) -> datetime | None:
    """When the next stakeholder update is due; None when the cadence is off or it is over."""
    if not state.status.is_open:
        return None
    cadence = policy.cadence_for(state.severity)
    if cadence is None:
        return None
    if state.updates:
        return state.updates[-1].at + cadence
    declared = state.at("declared_at")
    return declared + cadence if declared else None


def intervals(state: IncidentState) -> dict[str, float | None]:
    """Seconds between milestones (None where either end is unknown)."""
    out: dict[str, float | None] = {}
    for name, start, end in INTERVALS:
        begin, finish = state.at(start), state.at(end)
        out[name] = (finish - begin).total_seconds() if begin and finish else None
    return out


def milestone_gaps(state: IncidentState) -> list[tuple[str, str, timedelta]]:
    """Consecutive known milestones and the time between them, in lifecycle order."""
    known = [(name, state.at(name)) for name in MILESTONES if state.at(name) is not None]
    gaps: list[tuple[str, str, timedelta]] = []
    for (first, a), (second, b) in itertools.pairwise(known):
        assert a is not None and b is not None
        gaps.append((first, second, b - a))
    return gaps


def nudges(state: IncidentState, *, now: datetime, policy: ResponsePolicy) -> list[Nudge]:
    """Everything the room should remind its people of right now."""
    found: list[Nudge] = []
    if not state.status.is_open:
        return found
    if state.severity <= Severity.SEV2:
        for role in CORE_ROLES:
            if role.value not in state.roles:
                found.append(
                    Nudge(
                        "role_empty",
                        f"{role.value} is empty on a {state.severity} incident: assign it",
                    )
                )
    for term in state.roles.values():
        held = now - term.since
        if held > policy.rotation:
            found.append(
                Nudge(
                    "rotation_due",
                    f"{term.person} has held {term.role.value} for {human_duration(held)} "
                    f"(rotation after {human_duration(policy.rotation)}): hand off to a fresh person",
                )
            )
    commander = state.roles.get(Role.COMMANDER.value)
    if commander is not None:
        others = [
            r for r, t in state.roles.items() if r != Role.COMMANDER.value and t.person == commander.person
        ]
        if others:
            found.append(
                Nudge(
                    "commander_doubling",
                    f"{commander.person} is commander and also {', '.join(others)}: "
                    "keep the commander out of hands-on work",
                )
            )
    due = next_update_due(state, policy)
    if due is not None and now > due:
        found.append(
            Nudge(
                "update_overdue",
                f"status update overdue by {human_duration(now - due)} (was due {iso(due)})",
            )
        )
    if state.measured and state.measured.get("severity"):
        measured = state.measured["severity"]
        if measured != state.severity.name:
            found.append(
                Nudge(
                    "measured_severity_differs",
                    f"measured impact suggests {measured}, declared {state.severity}: "
                    f"consider warroom severity {state.ref} {measured} --why ...",
                )
            )
    if state.alerts and all(link.status == "resolved" for link in state.alerts.values()):
        found.append(
            Nudge(
                "alerts_resolved",
                "every attached alert has resolved: check impact, then mark mitigated or resolve",
            )
        )
    return found
