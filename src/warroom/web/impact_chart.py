"""The room's impact charts: each indicator's last hour as an inline SVG drawn on the server.

A chart shows the indicator for the whole service (and its worst slice, dashed), the
baseline band (the baseline plus or minus the deviation that still counts as "at
baseline"), the SLO line, and the milestones: impact start, declared, each mitigation
applied, mitigated, resolved. The numbers come from the last recorded measurement (the
``impact_measured`` payload), so drawing a room never waits for Prometheus.

Pure: no I/O and no clock. Colours are presentation attributes, not inline styles, so
the room's Content-Security-Policy (no inline style) lets them through.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from typing import Any

from markupsafe import Markup

from warroom.domain.shared.timefmt import from_iso

WIDTH = 640
HEIGHT = 190
LEFT = 58
RIGHT = 14
TOP = 30
BOTTOM = 26
PLOT_W = WIDTH - LEFT - RIGHT
PLOT_H = HEIGHT - TOP - BOTTOM

INK, MUTED, LINE = "#1f2328", "#656d76", "#d0d7de"
SERIES, FOCUS, SLO_RED, BAND, MARK = "#0969da", "#bc4c00", "#cf222e", "#2da44e", "#8250df"

MILESTONE_LABELS = (
    ("impact_started_at", "impact start"),
    ("declared_at", "declared"),
    ("mitigated_at", "mitigated"),
    ("resolved_at", "resolved"),
)


@dataclass(frozen=True)
class Marker:
    """A moment to mark on the time axis."""

    label: str
    at: datetime


def milestones_of(incident: Mapping[str, Any]) -> list[Marker]:
    """The room view's markers: impact start, declared, each mitigation applied, mitigated, resolved."""
    markers: list[Marker] = []
    found = incident.get("milestones") or {}
    for name, label in MILESTONE_LABELS:
        at = (found.get(name) or {}).get("at")
        if at:
            markers.append(Marker(label, from_iso(at)))
    for item in incident.get("mitigations") or []:
        if item.get("applied_at"):
            markers.append(Marker(f"{item['ref']} applied", from_iso(item["applied_at"])))
    return sorted(markers, key=lambda m: m.at)


def _format(value: float, record: Mapping[str, Any]) -> str:
    if record.get("kind") == "error_ratio":
        share = value * 100
        return f"{share:.0f}%" if abs(share) >= 10 or share == 0 else f"{share:.2g}%"
    unit = record.get("unit") or ""
    return f"{value:.3g} {unit}".rstrip()


def _segments(points: Sequence[tuple[float, float | None]]) -> list[list[tuple[float, float]]]:
    """Runs of known points; a missing value breaks the line instead of bridging the gap."""
    runs: list[list[tuple[float, float]]] = [[]]
    for x, y in points:
        if y is None:
            if runs[-1]:
                runs.append([])
        else:
            runs[-1].append((x, y))
    return [run for run in runs if run]


def impact_chart(
    record: Mapping[str, Any], markers: Sequence[Marker] = (), *, chart_id: str = "impact"
) -> str:
    """SVG markup for one indicator ``record`` of an ``impact_measured`` payload."""
    chart = record.get("chart") or {}
    start, end = from_iso(chart["start"]), from_iso(chart["end"])
    span = (end - start).total_seconds() or 1.0
    step = float(chart.get("step_seconds") or span / max(1, len(chart["values"])))
    values: list[float | None] = list(chart.get("values") or [])
    focus = chart.get("focus") or None
    focus_values: list[float | None] = list(focus["values"]) if focus else []
    slo = float(record["slo"])
    threshold = float(record.get("threshold") or 0.0)
    known_base = record.get("baseline", {}).get("source") not in (None, "none")
    reference = float(record["reference"]) if known_base and record.get("reference") is not None else None
    band = (reference - threshold, reference + threshold) if reference is not None else None

    known = [v for v in values + focus_values if v is not None and math.isfinite(v)]
    # The band may reach below zero (0.3% errors, give or take 2.4 points); the axis does
    # not, unless the values themselves do.
    top = max([*known, slo, *(band[1:] if band else ())]) * 1.12 or 1.0
    bottom = min([0.0, *known])
    if top <= bottom:
        top = bottom + 1.0

    def x_at(at: datetime) -> float:
        return LEFT + (at - start).total_seconds() / span * PLOT_W

    def x_of(index: int) -> float:
        return x_at(start + timedelta(seconds=(index + 0.5) * step))

    def y_of(value: float) -> float:
        return float(TOP + (top - value) / (top - bottom) * PLOT_H)

    parts: list[str] = [
        f'<rect class="ic-plot" x="{LEFT}" y="{TOP}" width="{PLOT_W}" height="{PLOT_H}" fill="#ffffff" stroke="{LINE}"/>'
    ]
    if band is not None and reference is not None:
        high, low = y_of(min(band[1], top)), y_of(max(band[0], bottom))
        parts.append(
            f'<rect class="ic-band" x="{LEFT}" y="{high:.1f}" width="{PLOT_W}" height="{max(low - high, 1):.1f}" '
            f'fill="{BAND}" fill-opacity="0.15"><title>baseline {escape(_format(reference, record))} '
            f"(at baseline within {escape(_format(threshold, record))})</title></rect>"
        )
    for value in (bottom, (top + bottom) / 2, top):
        y = y_of(value)
        parts.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{LEFT}" y2="{y:.1f}" stroke="{MUTED}"/>')
        parts.append(
            f'<text class="ic-tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="{MUTED}">{escape(_format(value, record))}</text>'
        )
    y_slo = y_of(slo)
    parts.append(
        f'<line class="ic-slo" x1="{LEFT}" y1="{y_slo:.1f}" x2="{LEFT + PLOT_W}" y2="{y_slo:.1f}" '
        f'stroke="{SLO_RED}" stroke-width="1.5" stroke-dasharray="6 4"/>'
    )
    parts.append(
        f'<text class="ic-slo-label" x="{LEFT + PLOT_W - 4}" y="{y_slo - 4:.1f}" text-anchor="end" '
        f'font-size="11" fill="{SLO_RED}">SLO {escape(_format(slo, record))}</text>'
    )
    for css, color, series, dash in (
        ("ic-line", SERIES, values, ""),
        ("ic-focus", FOCUS, focus_values, ' stroke-dasharray="5 3"'),
    ):
        for run in _segments([(x_of(i), v) for i, v in enumerate(series)]):
            if len(run) == 1:
                x, v = run[0]
                parts.append(f'<circle class="{css}" cx="{x:.1f}" cy="{y_of(v):.1f}" r="2" fill="{color}"/>')
                continue
            path = " ".join(f"{x:.1f},{y_of(v):.1f}" for x, v in run)
            parts.append(
                f'<polyline class="{css}" points="{path}" fill="none" stroke="{color}" stroke-width="2"{dash}/>'
            )
    outside: list[str] = []
    shown = 0
    for marker in markers:
        if not start <= marker.at <= end:
            outside.append(f"{marker.label} {marker.at:%H:%M:%S}")
            continue
        x = x_at(marker.at)
        label_y = 12 if shown % 2 == 0 else 24
        shown += 1
        parts.append(
            f'<line class="ic-marker" x1="{x:.1f}" y1="{label_y + 2}" x2="{x:.1f}" y2="{TOP + PLOT_H}" '
            f'stroke="{MARK}" stroke-width="1" stroke-dasharray="2 2"><title>{escape(marker.label)} at '
            f"{marker.at.astimezone(UTC):%Y-%m-%d %H:%M:%S}Z</title></line>"
        )
        anchor = "start" if x < LEFT + PLOT_W * 0.8 else "end"
        parts.append(
            f'<text class="ic-marker-label" x="{x + (2 if anchor == "start" else -2):.1f}" y="{label_y}" '
            f'text-anchor="{anchor}" font-size="11" fill="{MARK}">{escape(marker.label)}</text>'
        )
    for at, anchor in ((start, "start"), (start + (end - start) / 2, "middle"), (end, "end")):
        parts.append(
            f'<text class="ic-time" x="{x_at(at):.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}" font-size="11" '
            f'fill="{MUTED}">{at.astimezone(UTC):%H:%M:%S}</text>'
        )

    name = f"{record.get('service', '')} {record.get('name', '')}".strip()
    described = [f"{name} from {start:%H:%M:%S} to {end:%H:%M:%S} UTC"]
    if record.get("current") is not None:
        described.append(f"now {_format(record['current'], record)}")
    if reference is not None:
        described.append(f"baseline {_format(reference, record)}")
    described.append(f"SLO {_format(slo, record)}")
    if focus:
        described.append(f"dashed: {focus['name']}")
    if markers:
        described.append("marked: " + ", ".join(f"{m.label} {m.at:%H:%M:%S}" for m in markers))
    if outside:
        described.append("outside the chart: " + ", ".join(outside))
    cid = escape(chart_id)
    return (
        f'<svg class="impact-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">'
        f'<title id="{cid}-t">{escape(name)}</title>'
        f'<desc id="{cid}-d">{escape("; ".join(described))}</desc>' + "".join(parts) + "</svg>"
    )


def impact_panel(incident: Mapping[str, Any]) -> dict[str, Any] | None:
    """What the room's impact section shows, from the room view; None before any measurement.

    While the probe is blind, the last good measurement's charts stay, under the message.
    """
    measured = incident.get("measured")
    if not measured:
        return None
    blind = measured.get("summary") if measured.get("status") == "unavailable" else None
    good = measured if measured.get("status") in ("measured", "partial") else measured.get("last_good")
    markers = milestones_of(incident)
    charts: list[dict[str, Any]] = []
    if isinstance(good, Mapping):
        for service in good.get("services", []):
            for index, record in enumerate(service.get("indicators", [])):
                if record.get("status") != "measured" or not record.get("chart"):
                    continue
                chart_id = f"ic-{service['service']}-{index}"
                charts.append(
                    {
                        "title": f"{service['service']} {record['name']}",
                        "line": f"{service['service']} {record.get('line', '')}",
                        "breaching": bool(record.get("breaching")),
                        "svg": Markup(impact_chart(record, markers, chart_id=chart_id)),
                    }
                )
    return {
        "status": measured.get("status"),
        "blind": blind,
        "measured_at": good.get("measured_at") if isinstance(good, Mapping) else None,
        "summary": good.get("summary") if isinstance(good, Mapping) else None,
        "severity": good.get("severity") if isinstance(good, Mapping) else None,
        "explanation": good.get("explanation") if isinstance(good, Mapping) else None,
        "charts": charts,
    }
