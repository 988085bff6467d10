"""The reliability review: time to detect, declare, acknowledge, mitigate and resolve, as
medians and 90th percentiles (never means: one long incident would drown the rest), per
service, severity and month; incident rates per service before and after its follow-ups
were done; contributing factors that recur.

Durations (``timedelta`` here, seconds in ``to_dict``):

- time to detect      = detected - impact started
- time to declare     = declared - detected
- time to acknowledge = acknowledged - declared
- time to mitigate    = mitigated - impact started (detected when the impact start is
  unknown: the user impact began no later than detection, so this undercounts rather
  than invents)
- time to resolve     = resolved - impact started (or detected, likewise)

A duration with a missing milestone is not measured, and neither is a negative one (the
milestones contradict each other; counting it as zero would flatter the median). Each
summary says how many incidents it measured.

An incident's *anchor* is its declaration time, else its detection, else its impact
start; the month of an incident is the UTC ``YYYY-MM`` of its declaration (incidents
never declared have no month). The review window runs from ``since`` (default: the
earliest anchor) to ``until`` (default: the latest anchor); rates are incidents per 30
days of it.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from warroom.domain.incidents.state import MILESTONES
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import iso

_THIRTY_DAYS = 30 * 86_400.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 <= q <= 100) of ``values``, in any order; None if empty.

    Linear interpolation between closest ranks (Hyndman and Fan's type 7, the default of
    numpy and of ``statistics.quantiles(method="inclusive")``): over the sorted values
    ``x[0..n-1]`` the rank is ``h = (n - 1) * q / 100`` and the result
    ``x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])``. So the median of an
    even count is the mean of the middle two, and p90 of ten values lies 10% of the way
    from the 9th to the 10th.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, not {q}")
    return _percentile_of_sorted(sorted(values), q)


def _percentile_of_sorted(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """How many durations were measured, their median and their 90th percentile."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_seconds": _seconds_or_none(self.median),
            "p90_seconds": _seconds_or_none(self.p90),
        }


def summarize(durations: Iterable[timedelta]) -> DurationSummary:
    """Median and p90 of ``durations`` (see :func:`percentile`); None for both if empty."""
    return _summary_of_seconds(sorted(d.total_seconds() for d in durations))


def _summary_of_seconds(ordered: Sequence[float]) -> DurationSummary:
    median = _percentile_of_sorted(ordered, 50)
    p90 = _percentile_of_sorted(ordered, 90)
    return DurationSummary(
        count=len(ordered),
        median=None if median is None else timedelta(seconds=median),
        p90=None if p90 is None else timedelta(seconds=p90),
    )


def _seconds_or_none(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """What the review needs of one incident. Times are timezone-aware; ``severity`` is
    1 (SEV1) to 4; ``contributing_factors`` are factor types ("detection", "change",
    ...); ``followups_done_at`` has one entry per follow-up, None while it is open."""

    number: int
    services: tuple[str, ...]
    severity: int
    kind: str
    impact_started_at: datetime | None = None
    detected_at: datetime | None = None
    declared_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    contributing_factors: tuple[str, ...] = ()
    followups_done_at: tuple[datetime | None, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.severity <= 4:
            raise ValidationError("severity", f"{self.severity} is not 1..4")
        # A review reads tens of thousands of records: one cheap pass, and the named
        # check only when some time is naive.
        times = (
            self.impact_started_at,
            self.detected_at,
            self.declared_at,
            self.acknowledged_at,
            self.mitigated_at,
            self.resolved_at,
            self.closed_at,
            *self.followups_done_at,
        )
        if not all(at is None or at.tzinfo is UTC or at.utcoffset() is not None for at in times):
            for name in MILESTONES:
                _require_aware(getattr(self, name), name)
            for index, done_at in enumerate(self.followups_done_at):
                _require_aware(done_at, f"followups_done_at[{index}]")
        # Tuples keep the record hashable and immutable even if lists were passed.
        for name in ("services", "contributing_factors", "followups_done_at"):
            if type(getattr(self, name)) is not tuple:
                object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def anchor(self) -> datetime | None:
        """When the incident counts as having happened: declared, else detected, else
        impact start."""
        return self.declared_at or self.detected_at or self.impact_started_at


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValidationError(name, "needs a timezone (e.g. 2026-11-26T10:00:00Z)")


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """Incident count and time-to-X summaries for one group: ``key`` is "all", a service,
    "SEV1".."SEV4" or a "YYYY-MM" month."""

    key: str
    incidents: int
    time_to_detect: DurationSummary
    time_to_declare: DurationSummary
    time_to_acknowledge: DurationSummary
    time_to_mitigate: DurationSummary
    time_to_resolve: DurationSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "incidents": self.incidents,
            "time_to_detect": self.time_to_detect.to_dict(),
            "time_to_declare": self.time_to_declare.to_dict(),
            "time_to_acknowledge": self.time_to_acknowledge.to_dict(),
            "time_to_mitigate": self.time_to_mitigate.to_dict(),
            "time_to_resolve": self.time_to_resolve.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """A service's incidents in one period, their rate and their time to mitigate."""

    start: datetime
    end: datetime
    incidents: int
    incidents_per_30_days: float | None
    time_to_mitigate: DurationSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "incidents": self.incidents,
            "incidents_per_30_days": self.incidents_per_30_days,
            "time_to_mitigate": self.time_to_mitigate.to_dict(),
        }


FixesStatus = Literal["done", "open", "none"]


@dataclass(frozen=True, slots=True)
class FixesEffect:
    """Did the fixes change reliability?

    ``fixes_done_at``: walk the service's incidents in time order for as long as every
    follow-up so far is done; each time, the latest completion so far qualifies unless
    the next incident was declared before it. The last qualifying time is taken, so by
    then every follow-up of every earlier incident was done. Incidents before it form
    the "before" period, incidents from it on the "after" period (up to the review
    window's end).

    ``status`` is "done" (there is such a time), "open" (follow-ups exist, but those of
    the earliest incidents are not all done) or "none" (no follow-ups were recorded);
    ``note`` says so in words; ``before`` and ``after`` are set only when "done".
    """

    status: FixesStatus
    note: str
    fixes_done_at: datetime | None = None
    before: PeriodFigures | None = None
    after: PeriodFigures | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "note": self.note,
            "fixes_done_at": None if self.fixes_done_at is None else iso(self.fixes_done_at),
            "before": None if self.before is None else self.before.to_dict(),
            "after": None if self.after is None else self.after.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """One service: its time-to-X figures, its incident rate and the fixes view."""

    service: str
    figures: GroupFigures
    incidents_per_30_days: float | None
    fixes: FixesEffect

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.figures.to_dict(),
            "service": self.service,
            "incidents_per_30_days": self.incidents_per_30_days,
            "fixes": self.fixes.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Count:
    """How many incidents have ``key`` (a kind, or a contributing-factor type)."""

    key: str
    incidents: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "incidents": self.incidents}


@dataclass(frozen=True, slots=True)
class ReliabilityReport:
    """The review. ``by_service`` is ordered by name, ``by_severity`` from SEV1,
    ``by_month`` by month; ``recurring_factors`` holds the factor types found in two or
    more incidents, most frequent first."""

    window_start: datetime | None
    window_end: datetime | None
    incidents: int
    by_kind: tuple[Count, ...]
    overall: GroupFigures
    by_service: tuple[ServiceFigures, ...]
    by_severity: tuple[GroupFigures, ...]
    by_month: tuple[GroupFigures, ...]
    recurring_factors: tuple[Count, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC text, durations in seconds."""
        return {
            "window": {
                "start": None if self.window_start is None else iso(self.window_start),
                "end": None if self.window_end is None else iso(self.window_end),
            },
            "incidents": self.incidents,
            "by_kind": [count.to_dict() for count in self.by_kind],
            "overall": self.overall.to_dict(),
            "by_service": [service.to_dict() for service in self.by_service],
            "by_severity": [group.to_dict() for group in self.by_severity],
            "by_month": [group.to_dict() for group in self.by_month],
            "recurring_factors": [count.to_dict() for count in self.recurring_factors],
        }


# One measured incident: its five durations in seconds (detect, declare, acknowledge,
# mitigate, resolve). Not measured is +inf, not None: then a group's column sorts in C
# with the unmeasured at the end, where one bisection cuts them off.
_Measured = tuple[float, float, float, float, float]
_UNMEASURED = math.inf


def _measure(record: IncidentRecord) -> _Measured:
    impact, detected, declared = record.impact_started_at, record.detected_at, record.declared_at
    start = impact or detected
    acknowledged, mitigated, resolved = record.acknowledged_at, record.mitigated_at, record.resolved_at
    durations = (
        (detected - impact).total_seconds() if impact and detected else _UNMEASURED,
        (declared - detected).total_seconds() if detected and declared else _UNMEASURED,
        (acknowledged - declared).total_seconds() if declared and acknowledged else _UNMEASURED,
        (mitigated - start).total_seconds() if start and mitigated else _UNMEASURED,
        (resolved - start).total_seconds() if start and resolved else _UNMEASURED,
    )
    if min(durations) < 0:  # contradictory milestones: not measured
        detect, declare, acknowledge, mitigate, resolve = (d if d >= 0 else _UNMEASURED for d in durations)
        return (detect, declare, acknowledge, mitigate, resolve)
    return durations


class MeasuredIncident(NamedTuple):
    """An incident as the review uses it: the five durations in seconds (detect,
    declare, acknowledge, mitigate, resolve; ``math.inf`` where not measured) and the
    UTC ``YYYY-MM`` of its declaration. Storage can keep these beside the record, so a
    review of many incidents does not rebuild every milestone time; they are trusted
    as given (build them with :func:`measure`)."""

    services: tuple[str, ...]
    severity: int
    kind: str
    anchor: datetime | None
    month: str | None
    durations: _Measured
    contributing_factors: tuple[str, ...] = ()
    followups_done_at: tuple[datetime | None, ...] = ()


def measure(record: IncidentRecord) -> MeasuredIncident:
    """What the review uses of ``record``."""
    declared = record.declared_at
    if declared is not None and declared.tzinfo is not UTC:
        declared = declared.astimezone(UTC)
    return MeasuredIncident(
        services=record.services,
        severity=record.severity,
        kind=record.kind,
        anchor=record.anchor,
        month=None if declared is None else f"{declared.year:04d}-{declared.month:02d}",
        durations=_measure(record),
        contributing_factors=record.contributing_factors,
        followups_done_at=record.followups_done_at,
    )


def _summary_of_column(column: Iterable[float]) -> DurationSummary:
    ordered = sorted(column)
    return _summary_of_seconds(ordered[: bisect.bisect_left(ordered, _UNMEASURED)])


def _figures(key: str, rows: Sequence[_Measured]) -> GroupFigures:
    if not rows:
        empty = _summary_of_seconds(())
        return GroupFigures(key, 0, empty, empty, empty, empty, empty)
    detect, declare, acknowledge, mitigate, resolve = zip(*rows, strict=True)
    return GroupFigures(
        key,
        len(rows),
        _summary_of_column(detect),
        _summary_of_column(declare),
        _summary_of_column(acknowledge),
        _summary_of_column(mitigate),
        _summary_of_column(resolve),
    )


def _rate(incidents: int, start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None or end <= start:
        return None
    return incidents / ((end - start).total_seconds() / _THIRTY_DAYS)


def review_reliability(
    records: Iterable[IncidentRecord],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReliabilityReport:
    """Review ``records``: with ``since``/``until`` only incidents anchored in
    ``[since, until)`` count (and unanchored ones do not); without them all do.

    One pass groups the incidents; each group's durations are sorted once.
    """
    return review_measured((measure(record) for record in records), since=since, until=until)


def review_measured(
    incidents: Iterable[MeasuredIncident],
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ReliabilityReport:
    """:func:`review_reliability` of incidents already measured (see :func:`measure`)."""
    _require_aware(since, "since")
    _require_aware(until, "until")
    windowed = since is not None or until is not None
    overall: list[_Measured] = []
    by_service: dict[str, list[_Measured]] = defaultdict(list)
    service_incidents: dict[str, list[MeasuredIncident]] = defaultdict(list)
    by_severity: dict[int, list[_Measured]] = defaultdict(list)
    by_month: dict[str, list[_Measured]] = defaultdict(list)
    kinds: Counter[str] = Counter()
    factors: Counter[str] = Counter()
    anchors: list[datetime] = []
    for incident in incidents:
        anchor = incident.anchor
        if windowed and (
            anchor is None
            or (since is not None and anchor < since)
            or (until is not None and anchor >= until)
        ):
            continue
        measured = incident.durations
        overall.append(measured)
        for service in incident.services:
            by_service[service].append(measured)
            service_incidents[service].append(incident)
        by_severity[incident.severity].append(measured)
        if incident.month is not None:
            by_month[incident.month].append(measured)
        kinds[incident.kind] += 1
        if incident.contributing_factors:
            factors.update(set(incident.contributing_factors))
        if anchor is not None:
            anchors.append(anchor)
    window_start = since if since is not None else min(anchors, default=None)
    window_end = until if until is not None else max(anchors, default=None)
    return ReliabilityReport(
        window_start=window_start,
        window_end=window_end,
        incidents=len(overall),
        by_kind=tuple(Count(kind, n) for kind, n in sorted(kinds.items())),
        overall=_figures("all", overall),
        by_service=tuple(
            ServiceFigures(
                service=service,
                figures=_figures(service, rows),
                incidents_per_30_days=_rate(len(rows), window_start, window_end),
                fixes=_fixes_effect(service_incidents[service], window_start, window_end),
            )
            for service, rows in sorted(by_service.items())
        ),
        by_severity=tuple(_figures(f"SEV{severity}", rows) for severity, rows in sorted(by_severity.items())),
        by_month=tuple(_figures(month, rows) for month, rows in sorted(by_month.items())),
        recurring_factors=tuple(
            Count(factor, n)
            for factor, n in sorted(factors.items(), key=lambda item: (-item[1], item[0]))
            if n >= 2
        ),
    )


def _fixes_effect(
    incidents: list[MeasuredIncident],
    window_start: datetime | None,
    window_end: datetime | None,
) -> FixesEffect:
    placed = [
        (anchor, incident, incident.durations)
        for incident in incidents
        if (anchor := incident.anchor) is not None
    ]
    placed.sort(key=lambda row: row[0])
    if not any(record.followups_done_at for _, record, _ in placed):
        return FixesEffect("none", "no follow-ups were recorded for this service")
    # Walk the incidents in time order while all their follow-ups are done. After each,
    # the latest completion so far is a candidate, unless the next incident came before
    # it: then that incident's follow-ups would have to be done as well.
    done_at: datetime | None = None
    latest: datetime | None = None
    for index, (_, record, _) in enumerate(placed):
        if None in record.followups_done_at:
            break
        for done in record.followups_done_at:
            if done is not None and (latest is None or done > latest):
                latest = done
        following = placed[index + 1][0] if index + 1 < len(placed) else None
        if latest is not None and (following is None or following >= latest):
            done_at = latest
    if done_at is None:
        return FixesEffect("open", "follow-ups of the earliest incidents are not all done yet")
    split = bisect.bisect_left([anchor for anchor, _, _ in placed], done_at)
    start = min(window_start or done_at, done_at)
    end = max(window_end or done_at, done_at)
    return FixesEffect(
        "done",
        f"follow-ups were all done at {iso(done_at)}",
        fixes_done_at=done_at,
        before=_period([durations for _, _, durations in placed[:split]], start, done_at),
        after=_period([durations for _, _, durations in placed[split:]], done_at, end),
    )


def _period(measured: Sequence[_Measured], start: datetime, end: datetime) -> PeriodFigures:
    return PeriodFigures(
        start=start,
        end=end,
        incidents=len(measured),
        incidents_per_30_days=_rate(len(measured), start, end),
        time_to_mitigate=_summary_of_column(durations[3] for durations in measured),
    )
