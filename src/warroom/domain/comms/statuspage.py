"""The public status page: components, their states, published incidents, maintenance.

Only what comms chose to publish leaves this module: each component's public name and
group (from the catalog's ``status_page`` entry), its state, the text, time and stage of
*public* updates, and the public text of maintenance windows. Incident titles, internal
service names, internal updates, facts, guesses, notes and people are never copied into
the result, so no template can show them by mistake. Pure: ``now`` is passed in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from warroom.domain.incidents.catalog import StatusEntry
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.stages import stage_of
from warroom.domain.incidents.state import IncidentState, Status
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.text import require_text

COMPONENT_STATES = (
    "operational",
    "under_maintenance",
    "degraded_performance",
    "partial_outage",
    "major_outage",
)
RANK = {state: rank for rank, state in enumerate(COMPONENT_STATES)}
LABELS = {
    "operational": "Operational",
    "under_maintenance": "Under maintenance",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
}
# Incidents ``warroom demo`` and the demo server declare: never on a public page.
DEMO_ACTORS = frozenset({"warroom-demo"})
MAX_WINDOW = timedelta(days=14)
PLAN_AHEAD = timedelta(days=366)
MAX_PUBLIC_TEXT = 2000


def worst(states: Collection[str]) -> str:
    return max(states, key=RANK.__getitem__, default="operational")


def checked_state(state: str) -> str:
    """``state`` as stored ("partial outage", "Partial-Outage" -> ``partial_outage``)."""
    word = "_".join(state.strip().lower().replace("-", " ").split())
    if word not in RANK:
        raise ValidationError("state", f"{state!r} is not one of {', '.join(COMPONENT_STATES)}")
    return word


@dataclass(frozen=True)
class ManualState:
    """A component state set by hand; it holds until cleared."""

    state: str
    reason: str
    by: str
    at: datetime


@dataclass(frozen=True)
class Maintenance:
    id: int
    services: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    text: str
    created_by: str
    created_at: datetime
    cancelled_at: datetime | None = None

    @property
    def ref(self) -> str:
        return f"MNT-{self.id}"

    def phase(self, now: datetime) -> str:
        """upcoming | in_progress | completed | cancelled."""
        if self.cancelled_at is not None:
            return "cancelled"
        if now < self.starts_at:
            return "upcoming"
        return "in_progress" if now < self.ends_at else "completed"

    def reason(self) -> str:
        """The reason the alert silences of this window give."""
        return f"scheduled maintenance {self.ref}: {self.text}"


def plan_maintenance(
    services: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    text: str,
    *,
    components: Collection[str],
    now: datetime,
) -> tuple[tuple[str, ...], str]:
    """The window's services and public text, or a ValidationError in plain words."""
    names = tuple(dict.fromkeys(s.strip() for s in services if s.strip()))
    if not names:
        raise ValidationError("services", "name at least one component (a service on the status page)")
    unknown = [name for name in names if name not in components]
    if unknown:
        raise ValidationError("services", f"not on the status page: {', '.join(unknown)}")
    if ends_at <= starts_at:
        raise ValidationError("ends_at", "the window must end after it starts")
    if ends_at <= now:
        raise ValidationError("ends_at", "the window is already over")
    if ends_at - starts_at > MAX_WINDOW:
        raise ValidationError("ends_at", f"a window lasts at most {MAX_WINDOW.days} days")
    if starts_at > now + PLAN_AHEAD:
        raise ValidationError("starts_at", "a window starts within a year")
    return names, require_text(text, "text", limit=MAX_PUBLIC_TEXT)


def is_public(state: IncidentState) -> bool:
    """Published (comms posted a public update) and not a demo incident."""
    declared = state.milestones.get("declared_at")
    if declared is not None and declared.by in DEMO_ACTORS:
        return False
    return any(u.audience == "public" for u in state.updates)


def incident_effect(state: IncidentState) -> str:
    """What an open public incident means for its components: SEV1 a major outage, SEV2 a
    partial outage, SEV3 degraded performance, SEV4 nothing; once mitigated, degraded at most."""
    if not state.status.is_open or not is_public(state) or state.severity is Severity.SEV4:
        return "operational"
    effect = {Severity.SEV1: "major_outage", Severity.SEV2: "partial_outage"}.get(
        state.severity, "degraded_performance"
    )
    return "degraded_performance" if state.status is Status.MITIGATED else effect


@dataclass(frozen=True)
class Component:
    service: str  # the catalog name: used by the admin forms, never rendered publicly
    name: str
    group: str
    state: str
    automatic: str  # what incidents and maintenance make it
    manual: ManualState | None = None

    @property
    def label(self) -> str:
        return LABELS[self.state]


@dataclass(frozen=True)
class PublicUpdate:
    at: datetime
    text: str
    stage: str


@dataclass(frozen=True)
class PublicIncident:
    id: str
    components: tuple[str, ...]  # public names only
    stage: str
    open: bool
    started_at: datetime
    updates: tuple[PublicUpdate, ...]  # newest first


@dataclass(frozen=True)
class PublicMaintenance:
    id: str
    components: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    text: str
    phase: str


@dataclass(frozen=True)
class StatusPage:
    components: tuple[Component, ...]
    incidents: tuple[PublicIncident, ...]
    maintenance: tuple[PublicMaintenance, ...]
    generated_at: datetime
    # What open public incidents on no listed component mean: the page's headline must not
    # say "all systems operational" above an incident it shows.
    unlisted: str = "operational"

    @property
    def overall(self) -> str:
        return worst([c.state for c in self.components] + [self.unlisted])

    def groups(self) -> list[tuple[str, list[Component]]]:
        grouped: dict[str, list[Component]] = {}
        for component in self.components:
            grouped.setdefault(component.group, []).append(component)
        return list(grouped.items())


def public_incident(state: IncidentState, names: Mapping[str, str]) -> PublicIncident:
    """``state`` as the public sees it (call only for :func:`is_public` incidents)."""
    current = stage_of(state)
    updates = tuple(
        PublicUpdate(u.at, u.text, u.stage or current)
        for u in reversed(state.updates)
        if u.audience == "public"
    )
    started = state.milestones.get("impact_started_at") or state.milestones.get("declared_at")
    return PublicIncident(
        id=state.ref,
        components=tuple(names[s] for s in state.services if s in names),
        stage=updates[0].stage if updates else current,
        open=state.status.is_open,
        started_at=started.at if started is not None else updates[-1].at,
        updates=updates,
    )


def public_maintenance(window: Maintenance, names: Mapping[str, str], now: datetime) -> PublicMaintenance:
    return PublicMaintenance(
        window.ref,
        tuple(names[s] for s in window.services if s in names),
        window.starts_at,
        window.ends_at,
        window.text,
        window.phase(now),
    )


def build_page(
    entries: Sequence[tuple[str, StatusEntry]],
    incidents: Sequence[IncidentState],
    manual: Mapping[str, ManualState],
    maintenance: Sequence[Maintenance],
    now: datetime,
) -> StatusPage:
    """The page: each component's state (a hand-set state wins over the worst of its open
    public incidents and maintenance in progress), the published incidents (open first,
    then newest), and the windows in progress or upcoming."""
    names = {service: entry.name for service, entry in entries}
    public = [state for state in incidents if is_public(state)]
    auto: dict[str, list[str]] = {service: [] for service in names}
    for state in public:
        for service in state.services:
            if service in auto:
                auto[service].append(incident_effect(state))
    for window in maintenance:
        if window.phase(now) == "in_progress":
            for service in window.services:
                if service in auto:
                    auto[service].append("under_maintenance")
    components = []
    for service, entry in entries:
        automatic = worst(auto[service])
        hand = manual.get(service)
        shown_state = hand.state if hand is not None else automatic
        components.append(Component(service, entry.name, entry.group, shown_state, automatic, hand))
    shown = [public_incident(state, names) for state in public]
    shown.sort(key=lambda item: (not item.open, -item.updates[0].at.timestamp()))
    windows = [
        public_maintenance(w, names, now) for w in maintenance if w.phase(now) in ("upcoming", "in_progress")
    ]
    windows.sort(key=lambda w: w.starts_at)
    unlisted = worst(
        [incident_effect(state) for state in public if not any(s in names for s in state.services)]
    )
    return StatusPage(tuple(components), tuple(shown), tuple(windows), now, unlisted)
