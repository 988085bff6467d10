"""The reliability review: time to detect, declare, acknowledge, mitigate and resolve, as
medians and 90th percentiles (never means: one long incident would drown the rest), per
service, severity and month; incident rates per service before and after its follow-ups
were done; contributing factors that recur.

The durations, an incident's anchor and its month are defined in
:mod:`~warroom.domain.learning.durations`; medians and p90 in
:mod:`~warroom.domain.learning.percentiles`; the figures returned in
:mod:`~warroom.domain.learning.reliability_report`. Each summary says how many incidents
it measured.

The review window runs from ``since`` (default: the earliest anchor) to ``until``
(default: the latest anchor); rates are incidents per 30 days of it.
"""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from warroom.domain.learning.durations import (
    _UNMEASURED,
    IncidentRecord,
    MeasuredIncident,
    _Measured,
    _require_aware,
    measure,
)
from warroom.domain.learning.percentiles import DurationSummary, _summary_of_seconds
from warroom.domain.learning.reliability_report import (
    Count,
    FixesEffect,
    GroupFigures,
    PeriodFigures,
    ReliabilityReport,
    ServiceFigures,
)
from warroom.domain.shared.timefmt import iso

_THIRTY_DAYS = 30 * 86_400.0


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
