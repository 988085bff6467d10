"""The impact probe's readings: what one measurement of an incident's indicators says.

Pure: the service layer fetches the series (through the ``MetricsSource`` port) and
hands them in with "now"; this module decides what they mean: the last healthy
baseline, the change against it, the trend, the blast radius by dimension, customer
impact and financial loss, and the severity the policy gives them. What is recorded
(the payload of an ``impact_measured`` event) is plain JSON with finite numbers only.
The measurement of a whole incident is in ``measurement``; verdicts on mitigations
and the resolve gate are in ``checks``; where an indicator is heading is in ``trend``.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.impact.analysis import blast_radius, find_baseline, mean_over
from warroom.domain.impact.onset import first_breach, meets
from warroom.domain.impact.series import Baseline, BlastRadius, Point, TimeSeries, Trend
from warroom.domain.impact.trend import trend
from warroom.domain.incidents.catalog import Indicator
from warroom.domain.shared.timefmt import iso

TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class ProbePolicy:
    """How the probe reads indicators; every field is a setting under ``[impact]``.

    ``timeout`` is the budget of one command in seconds: all the queries of a triage,
    a mitigation check or a resolve together never wait longer. ``resolution`` is the step
    of the closer look at when an indicator first left its SLO (``onset``).
    """

    step: timedelta = timedelta(seconds=15)
    resolution: timedelta = timedelta(seconds=1)
    baseline_window: timedelta = timedelta(minutes=10)
    baseline_search: timedelta = timedelta(hours=6)
    day_before: timedelta = timedelta(days=1)
    trend_lookback: timedelta = timedelta(minutes=10)
    trend_noise: float = 0.1
    deviation_share: float = 0.5
    min_improvement_share: float = 0.5
    verdict_window: timedelta = timedelta(minutes=1)
    resolve_window: timedelta = timedelta(minutes=10)
    chart_window: timedelta = timedelta(hours=1)
    chart_points: int = 120
    stale_after: timedelta = timedelta(minutes=5)
    timeout: float = 5.0


@dataclass(frozen=True)
class IndicatorSeries:
    """What was fetched for one indicator: the service as a whole and each split.

    ``splits`` maps a label to its slices, e.g. ``{"region": {"region=eu-west": [...]}}``.
    ``error`` says why the indicator could not be read (its query was refused).
    """

    service: str
    indicator: Indicator
    overall: TimeSeries = ()
    splits: Mapping[str, Mapping[str, TimeSeries]] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Reading:
    """One indicator read against its baseline; ``record`` is what gets stored.

    ``reference`` is what "at baseline" means for the whole service (the baseline's mean,
    or the SLO when no baseline was found, then with a ``threshold`` of 0), and
    ``slice_reference`` the same per slice.
    """

    series: IndicatorSeries
    baseline: Baseline | None
    current: float | None
    reference: float | None
    threshold: float
    slice_reference: Mapping[str, float]
    slice_current: Mapping[str, float | None]
    record: dict[str, Any]

    @property
    def indicator(self) -> Indicator:
        return self.series.indicator

    @property
    def measured(self) -> bool:
        return self.current is not None


_BY = re.compile(r"\$by\b")


def render_query(query: str, labels: Sequence[str]) -> str:
    """``query`` with ``$by`` replaced by ``labels``; no labels leaves ``sum by () (...)``.

    A dangling comma is dropped, so ``sum by (le, $by)`` works for the whole service too.
    """
    text = _BY.sub(", ".join(labels), query)
    if not labels:
        text = re.sub(r",\s*\)", ")", text)
        text = re.sub(r"\(\s*,\s*", "(", text)
    return text


def finite(value: float | None) -> float | None:
    """A JSON-safe number: None for missing, NaN and infinities; 6 significant digits."""
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def _observed(points: TimeSeries) -> list[Point]:
    return sorted((p for p in points if math.isfinite(p[1])), key=lambda p: p[0])


def latest(points: TimeSeries, now: datetime, stale_after: timedelta) -> float | None:
    """The newest finite value at or before ``now``, unless it is older than ``stale_after``."""
    recent = [p for p in _observed(points) if now - stale_after <= p[0] <= now]
    return recent[-1][1] if recent else None


def worse_by(value: float, reference: float, higher_is_worse: bool) -> float:
    return value - reference if higher_is_worse else reference - value


def format_value(indicator: Indicator, value: float | None) -> str:
    """``4.4%`` for an error ratio, ``0.512 s`` or ``180 req/s`` for the rest."""
    if value is None:
        return "no data"
    if indicator.kind == "error_ratio":
        share = value * 100
        return f"{share:.0f}%" if abs(share) >= 10 else f"{share:.2g}%"
    return f"{value:.3g} {indicator.unit}".rstrip()


def _threshold(indicator: Indicator, reference: float | None, policy: ProbePolicy) -> float:
    if indicator.deviation is not None:
        return indicator.deviation
    gap = abs(indicator.slo - reference) if reference is not None else abs(indicator.slo)
    return policy.deviation_share * gap or policy.deviation_share * abs(indicator.slo) or 1e-9


def _window_mean(points: TimeSeries, baseline: Baseline, impact_start: datetime) -> float | None:
    assert baseline.window_start is not None and baseline.window_end is not None
    # find_baseline's window includes its end, except that points at or after the impact
    # start never count; mean_over excludes its end.
    end = min(baseline.window_end + TINY, impact_start)
    return mean_over(points, baseline.window_start, end)


def read_indicator(
    series: IndicatorSeries, *, impact_start: datetime, now: datetime, policy: ProbePolicy
) -> Reading:
    """Read one indicator: baseline, current value, change, trend, blast radius, chart."""
    ind = series.indicator
    record: dict[str, Any] = {
        "service": series.service,
        "name": ind.name,
        "kind": ind.kind,
        "unit": ind.unit,
        "slo": ind.slo,
        "higher_is_worse": ind.higher_is_worse,
    }
    if series.error is not None:
        record |= {"status": "error", "error": series.error, "line": f"{ind.name}: {series.error}"}
        return Reading(series, None, None, None, 0.0, {}, {}, record)
    overall = _observed(series.overall)
    current = latest(overall, now, policy.stale_after)
    if current is None:
        line = f"{ind.name}: no data" + (
            " (only stale points)" if overall else " (the query returned nothing)"
        )
        record |= {"status": "no_data", "error": None, "line": line}
        return Reading(series, None, None, None, 0.0, {}, {}, record)

    worst_points = worst_of(series, overall)
    baseline = _baseline(series, worst_points, overall, impact_start, policy)
    known = baseline.value is not None and baseline.window_start is not None
    # Without a baseline, "at baseline" can only mean "within the SLO".
    reference = baseline.value if baseline.value is not None and known else ind.slo
    threshold = _threshold(ind, baseline.value, policy) if known else 0.0

    radius: list[tuple[str, BlastRadius]] = []
    slice_reference: dict[str, float] = {}
    slice_current: dict[str, float | None] = {}
    slice_points: dict[str, TimeSeries] = {}
    for label, slices in series.splits.items():
        current_by: dict[str, float] = {}
        base_by: dict[str, float] = {}
        for name, points in slices.items():
            value = latest(points, now, policy.stale_after)
            current_by[name] = math.nan if value is None else value
            slice_current[name] = value
            base = _window_mean(points, baseline, impact_start) if known else None
            base_by[name] = reference if base is None else base
            slice_reference[name] = base_by[name]
            slice_points[name] = points
        radius.append(
            (
                label,
                blast_radius(
                    current_by,
                    base_by,
                    threshold=threshold,
                    higher_is_worse=ind.higher_is_worse,
                    unit=(ind.unit or "errors") if ind.kind == "error_ratio" else ind.unit,
                    percent=ind.kind == "error_ratio",
                ),
            )
        )

    worst = max(
        (d for _, br in radius for d in br.deviating),
        key=lambda d: d.deviation,
        default=None,
    )
    focus_name = worst.dimension if worst is not None else None
    focus_points = slice_points[focus_name] if focus_name is not None else overall
    heading = trend(
        focus_points,
        now=now,
        lookback=policy.trend_lookback,
        noise=policy.trend_noise,
        higher_is_worse=ind.higher_is_worse,
        min_change=threshold / 2,
    )
    breaching = not meets(current, ind.slo, ind.higher_is_worse)
    # When the worst slice first left the SLO after the baseline: the impact as measured
    # (at the step of these points; the service layer then looks closer, see ``onset``).
    since = baseline.window_end or impact_start - policy.baseline_search
    left = first_breach(worst_points, since, now, slo=ind.slo, higher_is_worse=ind.higher_is_worse)
    deviating = worse_by(current, reference, ind.higher_is_worse) > threshold or worst is not None
    record |= {
        "status": "measured",
        "error": None,
        "current": finite(current),
        "breaching": breaching,
        "deviating": deviating,
        "baseline": _baseline_record(baseline),
        "reference": finite(reference),
        "threshold": finite(threshold),
        "change": finite(current - reference),
        "left_slo_at": iso(left) if left is not None and ind.kind != "traffic" else None,
        "trend": _trend_record(heading, focus_name),
        "blast_radius": [_radius_record(label, br) for label, br in radius],
    }
    record["line"] = _line(ind, record, radius)
    record["chart"] = _chart(overall, focus_name, focus_points, now, policy)
    return Reading(series, baseline, current, reference, threshold, slice_reference, slice_current, record)


def onset_points(series: IndicatorSeries) -> list[Point]:
    """What ``left_slo_at`` is judged on: the worst of the whole service and its slices."""
    return worst_of(series, _observed(series.overall))


def worst_of(series: IndicatorSeries, overall: list[Point]) -> list[Point]:
    """At each time, the worst of the whole service and its slices.

    A fault in one region can leave the whole service within its SLO (40% errors in one
    slice of nine is 4.4%); a window where any slice breached is no healthy baseline.
    Traffic slices are left out: a small slice below a traffic floor is normal.
    """
    worst = dict(overall)
    if series.indicator.kind != "traffic":
        pick = max if series.indicator.higher_is_worse else min
        for slices in series.splits.values():
            for points in slices.values():
                for at, value in _observed(points):
                    worst[at] = pick(worst[at], value) if at in worst else value
    return sorted(worst.items())


def _baseline(
    series: IndicatorSeries,
    worst: list[Point],
    overall: list[Point],
    impact_start: datetime,
    policy: ProbePolicy,
) -> Baseline:
    """The last healthy window (chosen on the worst slice), valued on the whole service."""
    ind = series.indicator
    chosen = find_baseline(
        worst,
        impact_start,
        ind.slo,
        policy.baseline_window,
        higher_is_worse=ind.higher_is_worse,
        fallback_offset=policy.day_before,
        search_back=policy.baseline_search,
    )
    if chosen.window_start is None or chosen.window_end is None:
        return chosen
    end = chosen.window_end if chosen.window_end == impact_start else chosen.window_end + TINY
    values = [v for at, v in overall if chosen.window_start <= at < min(end, impact_start)]
    if not values:
        return Baseline("none", None, None, None, None, 0, met_slo=False)
    return replace(
        chosen, value=statistics.fmean(values), median=statistics.median(values), points=len(values)
    )


def _baseline_record(baseline: Baseline) -> dict[str, Any]:
    return {
        "source": baseline.source,
        "value": finite(baseline.value),
        "median": finite(baseline.median),
        "window_start": iso(baseline.window_start) if baseline.window_start else None,
        "window_end": iso(baseline.window_end) if baseline.window_end else None,
        "points": baseline.points,
        "met_slo": baseline.met_slo,
    }


def _trend_record(heading: Trend, focus: str | None) -> dict[str, Any]:
    return {
        "direction": heading.direction,
        "of": focus or "all",
        "since": iso(heading.since) if heading.since is not None else None,
        "change": finite(heading.change),
        "slope_per_second": finite(heading.slope_per_second),
        "reason": heading.reason,
    }


def _radius_record(label: str, br: BlastRadius) -> dict[str, Any]:
    return {
        "dimension": label,
        "sentence": br.sentence,
        "localized": br.localized,
        "deviating": [
            {
                "slice": d.dimension,
                "current": finite(d.current),
                "baseline": finite(d.baseline),
                "deviation": finite(d.deviation),
            }
            for d in br.deviating
        ],
        "at_baseline": [d.dimension for d in br.at_baseline],
        "no_data": list(br.no_data),
    }


def _line(ind: Indicator, record: dict[str, Any], radius: list[tuple[str, BlastRadius]]) -> str:
    """``error_ratio 4.4% (baseline 0.2%, growing; SLO 5%); region=eu-west 13% errors; ...``"""
    base = record["baseline"]
    if base["source"] == "none":
        against = f"no baseline, SLO {format_value(ind, ind.slo)}"
    else:
        against = f"baseline {format_value(ind, base['value'])}"
        if base["source"] == "day_before":
            against += " a day earlier"
        against += f", SLO {format_value(ind, ind.slo)}"
    head = f"{ind.name} {format_value(ind, record['current'])} ({against}; {record['trend']['direction']})"
    spread = [br.sentence for _, br in radius if br.deviating]
    return "; ".join([head, *spread])


def _chart(
    overall: list[Point],
    focus_name: str | None,
    focus_points: TimeSeries,
    now: datetime,
    policy: ProbePolicy,
) -> dict[str, Any]:
    """The last ``chart_window`` in ``chart_points`` buckets (the mean of each), for the room."""
    start = now - policy.chart_window
    width = policy.chart_window / policy.chart_points

    def buckets(points: TimeSeries) -> list[float | None]:
        sums = [0.0] * policy.chart_points
        counts = [0] * policy.chart_points
        for at, value in _observed(points):
            if start <= at <= now:
                index = min(int((at - start) / width), policy.chart_points - 1)
                sums[index] += value
                counts[index] += 1
        return [finite(s / c) if c else None for s, c in zip(sums, counts, strict=True)]

    chart: dict[str, Any] = {
        "start": iso(start),
        "end": iso(now),
        "step_seconds": width.total_seconds(),
        "values": buckets(overall),
        "focus": None,
    }
    if focus_name is not None:
        chart["focus"] = {"name": focus_name, "values": buckets(focus_points)}
    return chart
