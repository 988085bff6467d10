"""Ninety days of a status page: per component, one bar a day and an uptime figure, and
the past published incidents by day.

A public incident weighs on its components from impact start (or declaration) to its
resolve: SEV1 as a major outage, SEV2 a partial outage, SEV3 degraded performance, and
degraded performance only once mitigated. Uptime counts a minute of major outage as down
and a minute of partial outage as 30% down (Atlassian Statuspage's weighting); degraded
performance and maintenance count as up. Pure: ``now`` is passed in.

Uptime is shown rounded down, and never as 100.00% once anything was down: five minutes
of major outage read 99.65% for their day, and a fresh outage in ninety quiet days
99.99%, not 100.00%.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from math import floor

from warroom.domain.comms.statuspage import (
    Maintenance,
    PublicIncident,
    is_public,
    public_incident,
    worst,
)
from warroom.domain.incidents.catalog import StatusEntry
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.state import IncidentState

DAYS = 90
DAY_MINUTES = 24 * 60
DOWN_WEIGHT = {"major_outage": 1.0, "partial_outage": 0.3}


def floored(share: float, places: int, *, down: bool) -> float:
    """``share`` (0..1) rounded down to ``places`` decimals; below 1 when ``down``, so any
    downtime shows (0.99999... with places=4 is 0.9999, not 1.0)."""
    scale: int = 10**places
    value = floor(round(share * scale, 6)) / scale  # round first: 0.9965 * 1e4 is 9964.999...
    if down and value >= 1.0:
        value = (scale - 1) / scale
    return min(max(value, 0.0), 1.0)


def uptime_percent(share: float, *, down: bool) -> str:
    """``99.65%``: two decimals, rounded down, never ``100.00%`` when ``down``."""
    return f"{floored(share, 4, down=down) * 100:.2f}%"


@dataclass(frozen=True)
class DayBar:
    day: date
    state: str  # the worst state of the day
    down_minutes: float  # weighted, unrounded: seconds of an outage count

    @property
    def uptime(self) -> float:
        """The day's own share up, 0..1 (of the whole UTC day, today's too)."""
        return max(0.0, 1.0 - self.down_minutes / DAY_MINUTES)

    @property
    def uptime_text(self) -> str:
        return uptime_percent(self.uptime, down=self.down_minutes > 0)


@dataclass(frozen=True)
class ComponentHistory:
    name: str
    group: str
    days: tuple[DayBar, ...]  # oldest first

    @property
    def uptime(self) -> float:
        """Share of the window up, 0..1."""
        total = len(self.days) * DAY_MINUTES
        return 1.0 - sum(d.down_minutes for d in self.days) / total if total else 1.0

    @property
    def down(self) -> bool:
        return any(d.down_minutes > 0 for d in self.days)

    @property
    def uptime_text(self) -> str:
        """The window's uptime as shown: ``99.99%``, never ``100.00%`` with downtime."""
        return uptime_percent(self.uptime, down=self.down)


@dataclass(frozen=True)
class PastDay:
    day: date
    incidents: tuple[PublicIncident, ...]


def _spans(state: IncidentState, now: datetime) -> list[tuple[datetime, datetime, str]]:
    """The (start, end, state) spans ``state`` puts on its components."""
    if state.severity is Severity.SEV4:
        return []
    started = state.milestones.get("impact_started_at") or state.milestones.get("declared_at")
    if started is None:
        return []
    resolved = state.milestones.get("resolved_at")
    end = resolved.at if resolved is not None and not state.status.is_open else now
    full = {Severity.SEV1: "major_outage", Severity.SEV2: "partial_outage"}.get(
        state.severity, "degraded_performance"
    )
    mitigated = state.milestones.get("mitigated_at")
    if mitigated is None or not (started.at < mitigated.at < end):
        return [(started.at, end, full)]
    return [(started.at, mitigated.at, full), (mitigated.at, end, "degraded_performance")]


def _down_minutes(spans: Sequence[tuple[datetime, datetime, str]]) -> float:
    """Weighted minutes down over ``spans``: where spans overlap (two incidents on one
    component) each moment counts once, at the heaviest weight."""
    cuts = sorted({t for start, end, _ in spans for t in (start, end)})
    down = 0.0
    for start, end in pairwise(cuts):
        weights = [DOWN_WEIGHT.get(s, 0.0) for a, b, s in spans if a <= start and end <= b]
        down += max(weights, default=0.0) * (end - start).total_seconds() / 60
    return down


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def component_history(
    entries: Sequence[tuple[str, StatusEntry]],
    incidents: Sequence[IncidentState],
    maintenance: Sequence[Maintenance],
    now: datetime,
    days: int = DAYS,
) -> list[ComponentHistory]:
    """One bar per UTC day for the last ``days`` days (today last), per component."""
    today = now.astimezone(UTC).date()
    window = [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]
    spans: dict[str, list[tuple[datetime, datetime, str]]] = {service: [] for service, _ in entries}
    for incident in incidents:
        if not is_public(incident):
            continue
        for service in incident.services:
            if service in spans:
                spans[service].extend(_spans(incident, now))
    for w in maintenance:
        if w.cancelled_at is None and w.starts_at < now:
            for service in w.services:
                if service in spans:
                    spans[service].append((w.starts_at, min(w.ends_at, now), "under_maintenance"))
    result = []
    for service, entry in entries:
        bars = []
        for day in window:
            lo, hi = _day_start(day), min(_day_start(day) + timedelta(days=1), now)
            clipped = [(max(start, lo), min(end, hi), state) for start, end, state in spans[service]]
            clipped = [span for span in clipped if span[1] > span[0]]
            states = [state for _, _, state in clipped]
            bars.append(DayBar(day, worst(states), _down_minutes(clipped)))
        result.append(ComponentHistory(entry.name, entry.group, tuple(bars)))
    return result


def past_incidents(
    entries: Sequence[tuple[str, StatusEntry]], incidents: Sequence[IncidentState], now: datetime
) -> list[PastDay]:
    """Published incidents of the window, grouped by the UTC day they started, newest day first."""
    names: Mapping[str, str] = {service: entry.name for service, entry in entries}
    oldest = now.astimezone(UTC).date() - timedelta(days=DAYS - 1)
    by_day: dict[date, list[PublicIncident]] = {}
    for state in incidents:
        if not is_public(state):
            continue
        shown = public_incident(state, names)
        day = shown.started_at.astimezone(UTC).date()
        if day >= oldest:
            by_day.setdefault(day, []).append(shown)
    return [
        PastDay(day, tuple(sorted(items, key=lambda i: i.started_at, reverse=True)))
        for day, items in sorted(by_day.items(), reverse=True)
    ]
