"""The milestone strip: an incident's milestones as an inline SVG drawn on the server.

Stations are evenly spaced in lifecycle order (impact start, detected, declared,
acknowledged, mitigated, resolved) rather than placed on a time axis: the gaps range from
seconds to days, and a linear axis would squeeze most of them into one point. The time
between consecutive known milestones is written on the segment joining them instead.
Pure: no I/O, no clock; ``now`` is passed in to label how long an open incident has run.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape

from warroom.domain.shared.timefmt import human_duration

STATIONS: tuple[tuple[str, str], ...] = (
    ("impact_started_at", "impact start"),
    ("detected_at", "detected"),
    ("declared_at", "declared"),
    ("acknowledged_at", "acknowledged"),
    ("mitigated_at", "mitigated"),
    ("resolved_at", "resolved"),
)

WIDTH = 760
HEIGHT = 96
MARGIN = 56
LINE_Y = 40


def _x(index: int) -> float:
    step = (WIDTH - 2 * MARGIN) / (len(STATIONS) - 1)
    return MARGIN + index * step


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M:%S")


def _day(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def milestone_strip(
    milestones: Mapping[str, datetime | None], *, now: datetime | None = None, title_id: str = "strip"
) -> str:
    """SVG markup for ``milestones`` (name -> time; missing or None means not reached yet).

    With ``now`` and no ``resolved_at``, a dashed tail after the last known milestone is
    labelled with how long the incident has been running since then.
    """
    known = [
        (index, name, label, at)
        for index, (name, label) in enumerate(STATIONS)
        if (at := milestones.get(name)) is not None
    ]
    parts: list[str] = []
    summary: list[str] = []
    # the base line, then the reached segments over it
    parts.append(
        f'<line class="ms-track" x1="{_x(0):.1f}" y1="{LINE_Y}" x2="{_x(len(STATIONS) - 1):.1f}" '
        f'y2="{LINE_Y}"/>'
    )
    for (i, _, first, a), (j, _, second, b) in itertools.pairwise(known):
        x1, x2 = _x(i), _x(j)
        gap = human_duration(b - a)
        parts.append(f'<line class="ms-gap" x1="{x1:.1f}" y1="{LINE_Y}" x2="{x2:.1f}" y2="{LINE_Y}"/>')
        parts.append(
            f'<text class="ms-gap-label" x="{(x1 + x2) / 2:.1f}" y="{LINE_Y - 10}" '
            f'text-anchor="middle">{escape(gap)}</text>'
        )
        summary.append(f"{first} to {second}: {gap}")
    if now is not None and known and milestones.get("resolved_at") is None:
        last_index, _, last_label, last_at = known[-1]
        if last_index < len(STATIONS) - 1:
            x1, x2 = _x(last_index), _x(last_index + 1)
            running = human_duration(now - last_at)
            parts.append(f'<line class="ms-open" x1="{x1:.1f}" y1="{LINE_Y}" x2="{x2:.1f}" y2="{LINE_Y}"/>')
            parts.append(
                f'<text class="ms-gap-label ms-open-label" x="{(x1 + x2) / 2:.1f}" y="{LINE_Y - 10}" '
                f'text-anchor="middle">+{escape(running)}</text>'
            )
            summary.append(f"{running} since {last_label}")
    for index, (name, label) in enumerate(STATIONS):
        at = milestones.get(name)
        x = _x(index)
        reached = at is not None
        css = "ms-dot" if reached else "ms-dot ms-pending"
        tooltip = f"{label}: {at.isoformat() if at is not None else 'not yet'}"
        parts.append(
            f'<circle class="{css}" cx="{x:.1f}" cy="{LINE_Y}" r="7"><title>{escape(tooltip)}</title></circle>'
        )
        parts.append(
            f'<text class="ms-label" x="{x:.1f}" y="{LINE_Y + 24}" text-anchor="middle">{escape(label)}</text>'
        )
        when = _clock(at) if at is not None else "—"
        parts.append(
            f'<text class="ms-time" x="{x:.1f}" y="{LINE_Y + 40}" text-anchor="middle">{escape(when)}</text>'
        )
    days = sorted({_day(at) for *_, at in known})
    span = f", {days[0]}" + (f" to {days[-1]}" if len(days) > 1 else "") if days else ""
    caption = f"Milestones (UTC{span})"
    description = "; ".join(summary) or "no interval known yet"
    return (
        f'<svg class="milestones" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(title_id)}-t {escape(title_id)}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(title_id)}-t">{escape(caption)}</title>'
        f'<desc id="{escape(title_id)}-d">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
