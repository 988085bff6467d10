"""The public status page's data: service states and the updates comms published.

Only what comms chose to publish leaves this module: the text and time of *public*
status updates, each incident's services and a public phase word. Titles, internal
updates, facts, guesses, notes, decisions and people's names are never copied into the
result, so the template cannot show them by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.incidents.severity import IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState, Status
from warroom.services.incidents import commands as cases
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context

RECENT = timedelta(days=7)
MAX_INCIDENTS = 50
RANK = {"operational": 0, "degraded": 1, "outage": 2}

PHASES = {
    Status.TRIAGE: "Investigating",
    Status.MITIGATING: "Mitigation in progress",
    Status.MITIGATED: "Monitoring: impact reduced",
    Status.RESOLVED: "Resolved",
    Status.CLOSED: "Resolved",
}


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    state: str  # operational | degraded | outage


@dataclass(frozen=True)
class PublicUpdate:
    at: datetime
    text: str


@dataclass(frozen=True)
class PublicIncident:
    id: str
    services: list[str]
    phase: str
    open: bool
    updates: list[PublicUpdate]  # newest first


@dataclass(frozen=True)
class PublicStatus:
    services: list[ServiceStatus]
    incidents: list[PublicIncident]

    @property
    def overall(self) -> str:
        return max((s.state for s in self.services), key=RANK.__getitem__, default="operational")


def _public_updates(state: IncidentState) -> list[PublicUpdate]:
    return [PublicUpdate(u.at, u.text) for u in reversed(state.updates) if u.audience == "public"]


def impact_state(state: IncidentState) -> str:
    """What an open incident means for its services' public state.

    SEV1 is an outage, SEV2 and SEV3 degrade; a SEV4 does not change the public state.
    A mitigated incident degrades at most. A security incident counts only once comms
    published an update on it, so the status page never discloses one first.
    """
    if not state.status.is_open:
        return "operational"
    if state.kind is IncidentKind.SECURITY and not _public_updates(state):
        return "operational"
    if state.severity is Severity.SEV4:
        return "operational"
    if state.severity is Severity.SEV1 and state.status is not Status.MITIGATED:
        return "outage"
    return "degraded"


def derive(catalog: Sequence[str], incidents: Sequence[IncidentState]) -> PublicStatus:
    """Pure: the catalog's services (plus any named by an open incident) and public updates."""
    states: dict[str, str] = dict.fromkeys(catalog, "operational")
    for state in incidents:
        effect = impact_state(state)
        for service in state.services:
            current = states.get(service)
            if current is None:
                if not state.status.is_open:
                    continue
                current = "operational"
            states[service] = max(current, effect, key=RANK.__getitem__)
    published = [
        PublicIncident(
            id=state.ref,
            services=list(state.services),
            phase=PHASES[state.status],
            open=state.status.is_open,
            updates=updates,
        )
        for state in incidents
        if (updates := _public_updates(state))
    ]
    published.sort(key=lambda item: (not item.open, -item.updates[0].at.timestamp()))
    return PublicStatus(
        services=[ServiceStatus(name, state) for name, state in sorted(states.items())],
        incidents=published,
    )


def public_status(ctx: Context) -> PublicStatus:
    """Open incidents and those changed in the last week, read from the store."""
    now = ctx.clock.now()
    summaries = cases.list_incidents(ctx, IncidentFilter(limit=200))
    recent = [
        s
        for s in summaries
        if s.status in ("triage", "mitigating", "mitigated") or now - s.updated_at <= RECENT
    ]
    states = [cases.get_incident(ctx, s.number) for s in recent[:MAX_INCIDENTS]]
    return derive([service.name for service in ctx.catalog.services], states)
