"""Triage and the resolve gate: measure an incident and record it, or gate its resolution.

:func:`triage` measures the incident now (:mod:`~warroom.services.impact.readings`) and
records it as ``impact_measured``, with a severity suggestion when the measured impact
disagrees with the declared one; :func:`last_measurement` shows the last one without
asking Prometheus. :func:`resolve` resolves only once the indicators are back at baseline
for the resolve window, unless forced with a reason. Prometheus being down, slow or
refusing queries never raises out of here (except as the resolve gate's refusal): the
answer says so in one line. Mitigation checks are in
:mod:`~warroom.services.impact.mitigation_checks`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from warroom.domain.impact.checks import gate_resolve, off_baseline
from warroom.domain.impact.measurement import last_good, record_measurement
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.state import IncidentState
from warroom.services.impact.readings import measure
from warroom.services.incidents import changes as change_cases
from warroom.services.incidents.commands import execute, get_incident
from warroom.services.incidents.views import change_view
from warroom.services.shared.context import Context

NEARBY_CHANGES = 5


View = dict[str, Any]


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
    final_update: str | None = None,
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
            final_update=final_update,
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
