"""X-ray an incident: read its window and a baseline window from the trace source, analyze,
and answer a JSON view; pin a finding as a fact.

The window is the incident's (impact start to resolution or now, its latest
``window_minutes`` at most; without an impact start, the latest ``window_minutes``); the baseline is the ``baseline_minutes`` before it. Both
reads together get ``timeout`` seconds: a trace source that is absent, down or slow gives
one ``degraded: ...`` line, never an exception or a hang.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import iso
from warroom.domain.xray.analysis import Edge, EdgeStats, Origin, XrayReport
from warroom.domain.xray.spans import Span
from warroom.domain.xray.verdict import findings, xray
from warroom.services.incidents.commands import get_incident, record_fact
from warroom.services.ports.xray import TracesUnavailable
from warroom.services.shared.context import Context
from warroom.services.xray.config import XrayConfig

View = dict[str, Any]


def onset_of(state: IncidentState) -> datetime | None:
    """When the impact probe last saw the worst slice leave its SLO (``left_slo_at`` of the
    recorded measurement), or None."""
    left = (state.measured or {}).get("left_slo_at")
    return datetime.fromisoformat(left) if isinstance(left, str) and left else None


def window_of(state: IncidentState, config: XrayConfig, now: datetime) -> tuple[datetime, datetime, str]:
    """The incident's window and what its start is: from impact start (stated, else where
    the last measurement saw the impact begin, :func:`onset_of`) to resolution or now, its
    latest ``window_minutes`` at most; without either, the latest ``window_minutes``.

    Detection alone does not start the window: an alert fires a rule's ``for`` after the
    failures began, and those first failed traces would count in the baseline."""
    end = min(state.at("resolved_at") or now, now)
    longest = timedelta(minutes=config.window_minutes)
    start, source = state.at("impact_started_at"), "impact_started_at"
    if start is None:
        start, source = onset_of(state), "left_slo_at"
    if start is None or end - start > longest or end <= start:
        start, source = end - longest, "latest"
    return start, end, source


def _stats(stats: EdgeStats | None) -> View | None:
    if stats is None:
        return None
    return {
        "rate_per_s": round(stats.rate, 3),
        "error_ratio": round(stats.error_ratio, 4),
        "p99_ms": round(stats.p99_ms, 1),
        "timeouts": round(stats.timeouts, 1),
        "retries": round(stats.retries, 1),
        "calls_per_request": round(stats.per_request, 2),
    }


def _edge(edge: Edge, owners: dict[str, str]) -> View:
    hop = edge.hop
    return {
        "caller": hop.caller,
        "callee": hop.callee,
        "operation": hop.operation,
        "caller_team": owners.get(hop.caller),
        "callee_team": owners.get(hop.callee),
        "now": _stats(edge.now),
        "baseline": _stats(edge.baseline),
    }


def _origin(origin: Origin) -> View:
    hop = origin.hop
    return {
        "caller": hop.caller,
        "callee": hop.callee,
        "operation": hop.operation,
        "share": round(origin.share, 4),
        "failures": round(origin.failures, 1),
        "kind": origin.kind,
        "typical_ms": round(origin.typical_ms, 1),
        "path": list(origin.path),
        "owners": dict(origin.owners),
    }


def report_view(report: XrayReport) -> View:
    owners = dict(report.owners)
    return {
        "status": "ok" if report.spans else "no_traces",
        "verdict": report.verdict,
        "root_service": report.root_service,
        "requests": round(report.requests, 1),
        "failed": round(report.failed, 1),
        "origins": [_origin(o) for o in report.origins],
        "edges": [_edge(e, owners) for e in report.edges],
        "amplified": [_edge(e, owners) for e in report.amplified],
        "findings": findings(report) if report.spans else [],
        "spans": report.spans,
        "baseline_spans": report.baseline_spans,
    }


def _owners(ctx: Context, spans: list[Span]) -> dict[str, str]:
    names = {s.service for s in spans} | {s.peer for s in spans if s.peer}
    catalog = ctx.catalog
    found = {}
    for name in names:
        service = catalog.service(name)
        if service is not None:
            found[name] = service.team
    return found


def _degraded(head: View, why: str) -> View:
    return head | {"status": "degraded", "verdict": f"degraded: {why}", "findings": []}


def incident_xray(ctx: Context, config: XrayConfig | None, ref: str | int) -> View:
    """The X-ray of incident ``ref`` now (a view; ``status`` ok, no_traces or degraded)."""
    state = get_incident(ctx, ref)
    now = ctx.clock.now()
    config = config or XrayConfig(source=None, store=None)
    start, end, start_from = window_of(state, config, now)
    base_start = start - timedelta(minutes=config.baseline_minutes)
    head: View = {
        "incident": state.ref,
        "services": list(state.services),
        "window": {"start": iso(start), "end": iso(end), "start_from": start_from},
        "baseline_window": {"start": iso(base_start), "end": iso(start)},
        "source": config.source.name if config.source is not None else None,
    }
    source = config.source
    if source is None:
        return _degraded(head, "no trace source is configured ([xray] in warroom.toml)")
    deadline = time.monotonic() + config.timeout
    try:
        spans = source.spans(state.services, start, end, timeout=config.timeout, limit=config.max_spans)
        left = deadline - time.monotonic()
        if left <= 0:
            raise TracesUnavailable(f"the trace source took longer than {config.timeout:g} s")
        baseline = source.spans(state.services, base_start, start, timeout=left, limit=config.max_spans)
    except TracesUnavailable as error:
        return _degraded(head, str(error))
    if not spans:
        return _degraded(head, f"no traces of {', '.join(state.services) or 'any service'} in the window") | {
            "status": "no_traces"
        }
    report = xray(
        spans,
        baseline,
        now_seconds=(end - start).total_seconds(),
        baseline_seconds=(start - base_start).total_seconds(),
        owners=_owners(ctx, spans),
        policy=config.analysis,
    )
    return head | report_view(report)


def pin_finding(ctx: Context, config: XrayConfig | None, ref: str | int, actor: str, index: int = 0) -> View:
    """Record finding ``index`` of the X-ray now as a fact whose source is the evidence link."""
    view = incident_xray(ctx, config, ref)
    found = view.get("findings") or []
    if view["status"] != "ok" or not found:
        raise ValidationError("finding", f"nothing to pin: {view['verdict']}")
    if not 0 <= index < len(found):
        raise ValidationError(
            "finding", f"finding {index} does not exist; there are {len(found)} (0-{len(found) - 1})"
        )
    window = view["window"]
    evidence = f"xray /incidents/{view['incident']}/xray?start={window['start']}&end={window['end']}"
    state = record_fact(ctx, ref, actor, f"X-ray: {found[index]}", evidence)
    entry = state.ledger[-1]
    return {"incident": state.ref, "fact": entry.ref, "text": entry.text, "source": entry.source}
