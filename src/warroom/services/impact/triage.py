"""Use cases of the impact probe: measure an incident, check mitigations, gate resolve.

Each reads the affected services' indicators through the ``MetricsSource`` port, lets
the domain (``probe``, ``probe_checks``) say what they mean, and appends the result to
the timeline. Prometheus being down, slow or refusing queries never raises out of here
(except as the resolve gate's refusal): the answer says so in one line, and every
command waits at most ``ProbePolicy.timeout`` seconds for all its queries together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.impact.checks import (
    MitigationCheck,
    Verification,
    VerificationReading,
    awaiting_check,
    due_at,
    gate_resolve,
    judge,
    off_baseline,
)
from warroom.domain.impact.measurement import (
    ServiceReadings,
    impact_start_of,
    last_good,
    measurement,
    record_measurement,
)
from warroom.domain.impact.probe import IndicatorSeries, Reading, read_indicator, render_query
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.catalog import Indicator, Service
from warroom.domain.incidents.commands import find_mitigation
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.state import IncidentState, Mitigation
from warroom.domain.shared.errors import DomainError, InvalidTransition
from warroom.domain.shared.timefmt import iso
from warroom.services.incidents import changes as change_cases
from warroom.services.incidents.commands import execute, get_incident
from warroom.services.incidents.views import change_view
from warroom.services.ports.impact import MetricSeries, MetricsSource, MetricsUnavailable
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.probe")

PROBE_ACTOR = "impact-probe"
MAX_POINTS = 10_000  # Prometheus refuses ranges over 11,000 points per series
MAX_NOTE = 1000
NEARBY_CHANGES = 5

View = dict[str, Any]


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
    step = max(policy.step, (now - start) / MAX_POINTS)
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
        return reading
    # No healthy window in the search: fall back to the same window a day earlier.
    day_end = impact_start - policy.day_before
    try:
        earlier = _fetch(budget, service, indicator, day_end - policy.baseline_window, day_end, step)
    except MetricsUnavailable:
        return reading
    if earlier.error is not None or not earlier.overall:
        return reading
    return read_indicator(_merge(series, earlier), impact_start=impact_start, now=now, policy=policy)


# --- triage -------------------------------------------------------------------------------


def _suggestion(state: IncidentState, payload: dict[str, Any]) -> str | None:
    measured = payload.get("severity")
    if measured and measured != state.severity.name:
        return (
            f"measured impact suggests {measured}, declared {state.severity}: "
            f"consider warroom severity {state.ref} {measured} --why ..."
        )
    return None


def _view(state: IncidentState, payload: dict[str, Any] | None, *, recorded: bool, **extra: Any) -> View:
    if payload is None:
        payload = {"status": "never", "summary": "the impact probe has not measured this incident yet"}
    return payload | {
        "incident": state.ref,
        "declared_severity": state.severity.name,
        "suggestion": _suggestion(state, payload),
        "recorded": recorded,
        **extra,
    }


def _nearby_changes(ctx: Context, ref: str | int) -> list[dict[str, Any]]:
    """What changed on the services and their dependencies before impact, newest first."""
    _, _, found = change_cases.changes_near(ctx, ref)
    return [change_view(c) for c in found[:NEARBY_CHANGES]]


def _not_configured(state: IncidentState, unmeasured: Sequence[dict[str, str]]) -> View:
    reasons = "; ".join(f"{u['service']}: {u['why']}" for u in unmeasured) or "no affected service"
    return _view(
        state,
        {
            "status": "not_configured",
            "summary": f"impact probe off: {reasons}",
            "unmeasured": list(unmeasured),
        },
        recorded=False,
    )


def triage(ctx: Context, ref: str | int, actor: str) -> View:
    """Measure the incident now and record it as ``impact_measured``.

    A blind probe is recorded once per distinct failure (it is part of the story: which
    tooling failed), carrying the last good measurement along so the room keeps its charts.
    """
    state = get_incident(ctx, ref)
    rules.ensure_writable(state)
    now = ctx.clock.now()
    measured = measure(ctx, state, now)
    payload = measured.payload
    if payload is None:
        return _not_configured(state, measured.unmeasured)
    if measured.blind:
        previous = state.measured or {}
        if previous.get("status") == "unavailable" and previous.get("error") == payload["error"]:
            return _view(state, payload, recorded=False)
        payload["last_good"] = _without_last_good(last_good(state))
    state = execute(ctx, ref, actor, lambda s, at: record_measurement(s, payload, at=now))
    return _view(state, payload, recorded=True, seq=state.version, changes=_nearby_changes(ctx, ref))


def _without_last_good(payload: dict[str, Any] | None) -> dict[str, Any] | None:
    if payload is None:
        return None
    return {k: v for k, v in payload.items() if k != "last_good"}


def last_measurement(ctx: Context, ref: str | int) -> View:
    """The latest recorded measurement, without asking Prometheus."""
    state = get_incident(ctx, ref)
    changes = _nearby_changes(ctx, ref)
    return _view(state, state.measured, recorded=state.measured is not None, changes=changes)


# --- mitigation checks --------------------------------------------------------------------


def _targets(state: IncidentState, mitigation: str | None, now: datetime, due_only: bool) -> list[Mitigation]:
    if mitigation:
        item = find_mitigation(state, mitigation)
        if item.applied_at is None:
            raise InvalidTransition(f"{item.ref} is {item.state}; apply it before checking it")
        if item.state == "reverted":
            raise InvalidTransition(f"{item.ref} was reverted; there is nothing to check")
        return [item]
    if due_only:
        return awaiting_check(state, now)
    return [m for m in state.mitigations if m.state == "applied"]


def _outcome_event(
    state: IncidentState, check: MitigationCheck, item: Mitigation, now: datetime, ctx: Context
) -> NewEvent:
    due = due_at(item)
    note = check.note
    if due is not None and now < due:
        note = f"checked early (its effect is expected by {iso(due)}): {note}"
    [event] = mitigations.record_outcome(
        state,
        check.ref,
        check.verdict,
        note=note[:MAX_NOTE],
        before=check.before,
        after=check.after,
        now=now,
        policy=ctx.policy,
    )
    extra = {"checked_by": "impact probe", "probe": check.details, "early": bool(due and now < due)}
    return NewEvent(event.kind, event.payload | extra, event.occurred_at)


def check_mitigations(
    ctx: Context,
    ref: str | int,
    actor: str,
    mitigation: str | None = None,
    *,
    due_only: bool = False,
    failed: dict[str | None, str] | None = None,
) -> View:
    """Re-measure and record each applied mitigation's outcome with its before and after.

    ``mitigation`` names one (checked now, even before its expected time to effect, which
    the note then says); otherwise every applied, unjudged one (with ``due_only``, only
    those whose expected time to effect has passed: what the scheduled job does). A
    blind probe records nothing and says so.
    """
    state = get_incident(ctx, ref)
    now = ctx.clock.now()
    targets = _targets(state, mitigation, now, due_only)
    if not targets:
        return _view(
            state,
            {"status": "nothing", "summary": "no applied mitigation awaits a check"},
            recorded=False,
            checks=[],
        )
    rules.ensure_writable(state)
    since = min(m.applied_at for m in targets if m.applied_at is not None) - ctx.probe.verdict_window
    measured = measure(ctx, state, now, since=since, failed=failed)
    payload = measured.payload
    if payload is None:
        return _not_configured(state, measured.unmeasured) | {"checks": []}
    if measured.blind:
        payload = payload | {"summary": f"mitigation check not done: {payload['summary']}"}
        return _view(state, payload, recorded=False, checks=[])
    verifications = _verifications(ctx, targets, now, failed)
    checks = [
        judge(m, measured.readings, now=now, policy=ctx.probe, verification=verifications.get(m.ref))
        for m in targets
    ]

    def decide(s: IncidentState, at: datetime) -> list[NewEvent]:
        events = record_measurement(s, payload, at=now)
        for check in checks:
            events.append(_outcome_event(s, check, find_mitigation(s, check.ref), at, ctx))
        return events

    state = execute(ctx, ref, actor, decide)
    views = [
        {
            "mitigation": c.ref,
            "verdict": c.verdict,
            "before": c.before,
            "after": c.after,
            "note": c.note,
            "details": c.details,
        }
        for c in checks
    ]
    summary = "; ".join(f"{c.ref} {c.verdict}: {c.note}" for c in checks)
    return _view(state, payload | {"summary": summary}, recorded=True, checks=views, seq=state.version)


def _verifications(
    ctx: Context, targets: Sequence[Mitigation], now: datetime, failed: dict[str | None, str] | None
) -> dict[str, VerificationReading]:
    """Each target's own verification query, read from before it was applied to ``now``
    (from the default Prometheus); a query that fails or does not give exactly one series
    is recorded as unreadable, and the service indicators decide alone."""
    assert ctx.metrics is not None
    policy = ctx.probe
    budget = _Budget(ctx.metrics, policy.timeout, failed)  # one deadline for every query
    found: dict[str, VerificationReading] = {}
    for mitigation in targets:
        if not mitigation.verification or mitigation.applied_at is None:
            continue
        check = Verification.parse(mitigation.verification)
        start = mitigation.applied_at - policy.verdict_window
        step = max(policy.step, (now - start) / MAX_POINTS)
        try:
            series = budget.query_range(check.query, start, now, step, None)
        except MetricsUnavailable as exc:
            found[mitigation.ref] = VerificationReading(check, error=str(exc))
            continue
        if len(series) != 1:
            count = "no series" if not series else f"{len(series)} series; aggregate it to one, e.g. sum(...)"
            found[mitigation.ref] = VerificationReading(check, error=f"it returned {count}")
            continue
        found[mitigation.ref] = VerificationReading(check, series[0].points)
    return found


def run_due_checks(ctx: Context, now: datetime) -> int:
    """The scheduled job: check every applied mitigation whose time to effect has passed.

    Returns how many outcomes it recorded. A blind Prometheus is asked once per run and
    the checks wait for a later run.
    """
    if ctx.metrics is None or not any(s.indicators for s in ctx.catalog.services):
        return 0  # nothing could be checked: do not fold every open incident to find out
    with ctx.uow() as uow:
        rows = uow.incidents.summaries(IncidentFilter(open_only=True, limit=1000))
    failed: dict[str | None, str] = {}
    recorded = 0
    for row in rows:
        state = get_incident(ctx, row.number)
        if not awaiting_check(state, now) or not measurable(ctx, state)[0]:
            continue
        try:
            result = check_mitigations(ctx, row.number, PROBE_ACTOR, due_only=True, failed=failed)
        except DomainError as exc:  # e.g. a concurrent writer: the next run tries again
            log.warning("mitigation check of INC-%s skipped: %s", row.number, exc.message)
            continue
        if result["recorded"]:
            recorded += len(result["checks"])
        else:
            log.warning("mitigation check of INC-%s: %s", row.number, result["summary"])
    return recorded


# --- resolve ------------------------------------------------------------------------------


def resolve(
    ctx: Context,
    ref: str | int,
    actor: str,
    summary: str,
    *,
    impact_stopped: bool,
    risk_controlled: bool,
    data_verified: bool = False,
    force: bool = False,
    why: str | None = None,
) -> IncidentState:
    """Resolve, once the probe has seen the indicators back at baseline for the resolve
    window; otherwise refuse unless ``force`` with ``why`` (recorded as ``forced_why``).

    Without indicators or a Prometheus for the affected services, resolve as stated.
    """
    state = get_incident(ctx, ref)
    now = ctx.clock.now()
    policy = ctx.probe

    def statement(s: IncidentState, at: datetime, forced_why: str | None) -> list[NewEvent]:
        return rules.resolve(
            s,
            summary,
            impact_stopped=impact_stopped,
            risk_controlled=risk_controlled,
            data_verified=data_verified,
            now=at,
            policy=ctx.policy,
            forced_why=forced_why,
        )

    statement(state, now, None)  # the statements first: no point measuring a refusal

    def gate(problems: list[str]) -> str | None:
        return gate_resolve(
            state, problems, window=policy.resolve_window, force=force, why=why, max_text=ctx.policy.max_text
        )

    measured = measure(ctx, state, now)
    if measured.payload is None:
        gate([])  # still refuses --force without --why
        return execute(ctx, ref, actor, lambda s, at: statement(s, at, None))
    if measured.blind:
        problems = [f"cannot check the indicators: {measured.payload['error']}"]
    else:
        problems = [f"{s.service.name}: {s.error}" for s in measured.services if s.error]
        problems += off_baseline(measured.readings, now=now, window=policy.resolve_window)
    forced_why = gate(problems)
    check = {
        "back_at_baseline": not problems,
        "window_seconds": policy.resolve_window.total_seconds(),
        "problems": problems[:10],
    }
    payload = measured.payload

    def decide(s: IncidentState, at: datetime) -> list[NewEvent]:
        events = [] if measured.blind else record_measurement(s, payload, at=now)
        for event in statement(s, at, forced_why):
            events.append(NewEvent(event.kind, event.payload | {"probe_check": check}, event.occurred_at))
        return events

    return execute(ctx, ref, actor, decide)
