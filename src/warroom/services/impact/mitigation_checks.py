"""Mitigation checks: re-measure and record each applied mitigation's outcome.

:func:`check_mitigations` judges applied mitigations against the indicators (and each
one's own verification query) read from before it was applied to now, and records each
outcome with its before and after; a blind probe records nothing and says so.
:func:`run_due_checks` is the scheduled job: it checks every applied mitigation whose
expected time to effect has passed, as ``impact-probe``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from warroom.domain.impact.checks import (
    MitigationCheck,
    Verification,
    VerificationReading,
    awaiting_check,
    due_at,
    judge,
)
from warroom.domain.impact.measurement import record_measurement
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.commands import find_mitigation
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.state import IncidentState, Mitigation
from warroom.domain.shared.errors import DomainError, InvalidTransition
from warroom.domain.shared.timefmt import iso
from warroom.services.impact.readings import MAX_POINTS, _Budget, measurable, measure
from warroom.services.impact.triage import View, _not_configured, _view
from warroom.services.incidents.commands import execute, get_incident
from warroom.services.ports.impact import MetricsUnavailable
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.probe")


PROBE_ACTOR = "impact-probe"


MAX_NOTE = 1000


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
