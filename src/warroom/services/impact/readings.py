"""Reading an incident's indicators: what every probe use case measures first.

:func:`measure` reads every indicator of the affected services that the probe can see
(:func:`measurable`) through the ``MetricsSource`` port, from before the impact to now,
and lets the domain (``probe``, ``measurement``) say what they mean. Every query of one
command shares one time budget (``ProbePolicy.timeout`` seconds), and a Prometheus that
failed is not asked again: an unavailable Prometheus is an answer (:attr:`Measured.blind`),
never an exception out of here. Nothing is recorded here.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.impact.measurement import ServiceReadings, impact_start_of, measurement
from warroom.domain.impact.onset import aligned, closer_look, fine_step, first_breach, whole_step
from warroom.domain.impact.probe import IndicatorSeries, Reading, onset_points, read_indicator, render_query
from warroom.domain.incidents.catalog import Indicator, Service
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.timefmt import from_iso, iso
from warroom.services.ports.impact import MetricSeries, MetricsSource, MetricsUnavailable
from warroom.services.shared.context import Context

MAX_POINTS = 10_000  # Prometheus refuses ranges over 11,000 points per series


class _Budget:
    """Every query of one command shares ``seconds``; a Prometheus that failed is not asked again."""

    def __init__(
        self, source: MetricsSource, seconds: float, failed: dict[str | None, str] | None = None
    ) -> None:
        self.source = source
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.failed = {} if failed is None else failed

    def query_range(
        self, expr: str, start: datetime, end: datetime, step: timedelta, url: str | None
    ) -> list[MetricSeries]:
        if url in self.failed:
            raise MetricsUnavailable(self.failed[url])
        left = self.deadline - time.monotonic()
        if left <= 0.01:
            message = f"Prometheus did not answer every query within the probe's {self.seconds:g} s"
            self.failed[url] = message
            raise MetricsUnavailable(message)
        try:
            return self.source.query_range(expr, start, end, step, url=url, timeout=left)
        except MetricsUnavailable as exc:
            if not exc.rejected:
                self.failed[url] = str(exc)
            raise


@dataclass(frozen=True)
class Measured:
    """One measurement: the payload to record (None when nothing could be measured at
    all), the readings behind it, and the affected services the probe cannot see."""

    payload: dict[str, Any] | None
    services: Sequence[ServiceReadings] = ()
    unmeasured: Sequence[dict[str, str]] = field(default_factory=list)

    @property
    def readings(self) -> list[Reading]:
        return [r for s in self.services for r in s.readings]

    @property
    def blind(self) -> bool:
        return self.payload is not None and self.payload["status"] == "unavailable"


def measurable(ctx: Context, state: IncidentState) -> tuple[list[Service], list[dict[str, str]]]:
    """The affected services the probe can read, and why it cannot read the others."""
    found: list[Service] = []
    skipped: list[dict[str, str]] = []
    for name in state.services:
        service = ctx.catalog.service(name)
        if service is None:
            skipped.append({"service": name, "why": "not in the catalog"})
        elif not service.indicators:
            skipped.append({"service": name, "why": "no indicators in the catalog"})
        elif ctx.metrics is None or not ctx.metrics.has_url(service.prometheus_url):
            why = "no Prometheus configured (impact.prometheus_url, or prometheus_url on the service)"
            skipped.append({"service": name, "why": why})
        else:
            found.append(service)
    return found, skipped


def _fetch(
    budget: _Budget, service: Service, indicator: Indicator, start: datetime, end: datetime, step: timedelta
) -> IndicatorSeries:
    """The indicator for the whole service and for each split; a refused query is the
    indicator's error, an unavailable Prometheus raises ``MetricsUnavailable``."""
    url = service.prometheus_url
    try:
        whole = budget.query_range(render_query(indicator.query, []), start, end, step, url)
    except MetricsUnavailable as exc:
        if exc.rejected:
            return IndicatorSeries(service.name, indicator, error=str(exc))
        raise
    if len(whole) > 1:
        error = (
            f"its query returns {len(whole)} series for the whole service; "
            "aggregate it, e.g. sum by ($by) (...)"
        )
        return IndicatorSeries(service.name, indicator, error=error)
    splits: dict[str, dict[str, tuple[tuple[datetime, float], ...]]] = {}
    for label in indicator.split_by:
        try:
            found = budget.query_range(render_query(indicator.query, [label]), start, end, step, url)
        except MetricsUnavailable as exc:
            if exc.rejected:
                continue  # the whole-service reading still stands
            raise
        splits[label] = {f"{label}={s.labels[label]}": s.points for s in found if label in s.labels}
    return IndicatorSeries(service.name, indicator, whole[0].points if whole else (), splits)


def _merge(first: IndicatorSeries, earlier: IndicatorSeries) -> IndicatorSeries:
    splits = {
        label: {
            name: (*earlier.splits.get(label, {}).get(name, ()), *points) for name, points in slices.items()
        }
        for label, slices in first.splits.items()
    }
    return IndicatorSeries(first.service, first.indicator, (*earlier.overall, *first.overall), splits)


def measure(
    ctx: Context,
    state: IncidentState,
    now: datetime,
    *,
    since: datetime | None = None,
    failed: dict[str | None, str] | None = None,
) -> Measured:
    """Read every indicator of the affected services from before the impact to ``now``.

    ``since`` reaches further back when a check needs it (before a mitigation). The
    range covers the baseline search, the chart, the trend and the resolve window.
    """
    services, unmeasured = measurable(ctx, state)
    if not services:
        return Measured(None, (), unmeasured)
    assert ctx.metrics is not None
    policy = ctx.probe
    impact_start, _ = impact_start_of(state)
    start = min(
        impact_start - policy.baseline_search,
        now - max(policy.chart_window, policy.trend_lookback, policy.resolve_window),
        since or now,
    )
    # Steps on the data's grid (multiples of the step since the epoch), not on detection.
    step = whole_step(max(policy.step, (now - start) / MAX_POINTS))
    start = aligned(start, step)
    budget = _Budget(ctx.metrics, policy.timeout, failed)
    measured: list[ServiceReadings] = []
    for service in services:
        try:
            readings = [
                _read(budget, service, indicator, start, now, step, impact_start, ctx)
                for indicator in service.indicators
            ]
        except MetricsUnavailable as exc:
            measured.append(ServiceReadings(service, (), str(exc)))
            continue
        measured.append(ServiceReadings(service, readings))
    payload = measurement(state, measured, now=now, policy=policy, severity=ctx.policy.severity)
    payload["unmeasured"] = list(unmeasured)
    return Measured(payload, measured, unmeasured)


def _read(
    budget: _Budget,
    service: Service,
    indicator: Indicator,
    start: datetime,
    now: datetime,
    step: timedelta,
    impact_start: datetime,
    ctx: Context,
) -> Reading:
    policy = ctx.probe
    series = _fetch(budget, service, indicator, start, now, step)
    reading = read_indicator(series, impact_start=impact_start, now=now, policy=policy)
    if reading.baseline is None or reading.baseline.source != "none":
        return _closer(budget, service, indicator, reading, step, policy.resolution)
    # No healthy window in the search: fall back to the same window a day earlier.
    day_end = impact_start - policy.day_before
    try:
        earlier = _fetch(budget, service, indicator, day_end - policy.baseline_window, day_end, step)
    except MetricsUnavailable:
        return reading
    if earlier.error is not None or not earlier.overall:
        return _closer(budget, service, indicator, reading, step, policy.resolution)
    merged = read_indicator(_merge(series, earlier), impact_start=impact_start, now=now, policy=policy)
    return _closer(budget, service, indicator, merged, step, policy.resolution)


def _closer(
    budget: _Budget,
    service: Service,
    indicator: Indicator,
    reading: Reading,
    step: timedelta,
    resolution: timedelta,
) -> Reading:
    """``reading`` with ``left_slo_at`` found at ``resolution``: the step before the first
    bad evaluation is read again, finely (``onset``); unchanged if that read fails."""
    text = reading.record.get("left_slo_at")
    left = from_iso(text) if text else None
    window = closer_look(left, step)
    if left is None or window is None or resolution >= step:
        return reading
    try:
        fine = _fetch(budget, service, indicator, *window, fine_step(window, resolution, MAX_POINTS))
    except MetricsUnavailable:
        return reading
    if fine.error is not None:
        return reading
    first = first_breach(
        onset_points(fine), *window, slo=indicator.slo, higher_is_worse=indicator.higher_is_worse
    )
    if first is None or first >= left:
        return reading
    return replace(reading, record={**reading.record, "left_slo_at": iso(first)})
