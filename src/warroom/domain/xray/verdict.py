"""The one line a responder reads, and the findings worth pinning as facts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from warroom.domain.xray.analysis import AnalysisPolicy, Origin, XrayReport, analyze
from warroom.domain.xray.spans import Span


def seconds_text(ms: float) -> str:
    if ms >= 1000:
        value = ms / 1000
        return f"{value:.0f} s" if abs(value - round(value)) < 0.05 else f"{value:.1f} s"
    return f"{ms:.0f} ms"


def _cause(origin: Origin) -> str:
    if origin.kind == "timeout":
        return f"timeout after {seconds_text(origin.typical_ms)}"
    return origin.kind


def _owner_clause(report: XrayReport, origin: Origin) -> str:
    hop = origin.hop
    for service in (hop.callee, hop.caller):
        team = report.owners.get(service)
        if team:
            return f"; {service} is owned by team {team}"
    return f"; no team owns {hop.caller} in the catalog"


def amplification_lines(report: XrayReport) -> list[str]:
    lines = []
    for edge in report.amplified:
        assert edge.baseline is not None
        lines.append(
            f"{edge.hop.caller} calls {edge.hop.callee} {edge.now.per_request:.1f}x per request, "
            f"baseline {edge.baseline.per_request:.1f}x"
        )
    return lines


def verdict(report: XrayReport) -> XrayReport:
    """The report with its one-line verdict."""
    if report.spans == 0:
        return replace(report, verdict="no spans in the incident's window")
    if not report.origins:
        text = f"no failed {report.root_service} requests in the window ({report.requests:.0f} requests)"
    else:
        top = report.origins[0]
        text = (
            f"{top.share:.0%} of failed {report.root_service} requests end in {top.hop.label()} "
            f"({_cause(top)}){_owner_clause(report, top)}"
        )
    amplified = amplification_lines(report)
    if amplified:
        text += "; " + amplified[0]
    return replace(report, verdict=text)


def findings(report: XrayReport) -> list[str]:
    """Statements worth pinning as facts: the verdict, each origin over 10%, amplification."""
    found = [report.verdict]
    for origin in report.origins[1:]:
        if origin.share >= 0.1:
            found.append(
                f"{origin.share:.0%} of failed {report.root_service} requests end in "
                f"{origin.hop.label()} ({_cause(origin)})"
            )
    found.extend(amplification_lines(report)[1:])
    return found


def xray(
    now: Sequence[Span],
    baseline: Sequence[Span],
    *,
    now_seconds: float,
    baseline_seconds: float,
    owners: Mapping[str, str],
    policy: AnalysisPolicy | None = None,
) -> XrayReport:
    """:func:`~warroom.domain.xray.analysis.analyze` with its verdict."""
    report = analyze(
        now,
        baseline,
        now_seconds=now_seconds,
        baseline_seconds=baseline_seconds,
        owners=owners,
        policy=policy,
    )
    return verdict(report)
