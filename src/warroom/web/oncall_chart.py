"""A schedule's coming days as an inline SVG drawn on the server: one bar per stretch of
the final timeline, coloured by person, overrides hatched and labelled, day lines in the
schedule's zone. Pure: the shifts and the window come in."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from markupsafe import Markup

from warroom.domain.oncall.schedules import Shift

WIDTH = 900
HEIGHT = 70
TOP = 18
BAR = 30
PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f")


def _colour(person: str) -> str:
    return PALETTE[int(hashlib.sha256(person.encode()).hexdigest(), 16) % len(PALETTE)]


def timeline_svg(
    shifts: Sequence[Shift], start: datetime, end: datetime, zone: ZoneInfo, title: str
) -> Markup:
    span = (end - start).total_seconds()

    def x(at: datetime) -> float:
        return round((at - start).total_seconds() / span * WIDTH, 1)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="oncall-chart">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#000" '
        'stroke-opacity="0.35" stroke-width="3"/></pattern></defs>',
        f"<title>{escape(title)}</title>",
    ]
    day = start.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    while day.astimezone(start.tzinfo) < end:
        at = day.astimezone(start.tzinfo)
        parts.append(f'<line x1="{x(at)}" y1="{TOP - 4}" x2="{x(at)}" y2="{TOP + BAR + 4}" stroke="#ccc"/>')
        parts.append(f'<text x="{x(at) + 2}" y="{TOP - 6}" font-size="9" fill="#666">{day:%a %d}</text>')
        day = day + timedelta(days=1)  # wall-clock arithmetic: the next midnight in the zone
    for shift in shifts:
        left, right = x(max(shift.start, start)), x(min(shift.end, end))
        label = f"{shift.person}: {shift.start.astimezone(zone):%a %d %H:%M} to {shift.end.astimezone(zone):%a %d %H:%M}"
        label += " (override)" if shift.override else f" ({shift.source})"
        parts.append(
            f'<rect x="{left}" y="{TOP}" width="{max(right - left, 0.5)}" height="{BAR}" '
            f'fill="{_colour(shift.person)}"><title>{escape(label)}</title></rect>'
        )
        if shift.override:
            parts.append(
                f'<rect x="{left}" y="{TOP}" width="{max(right - left, 0.5)}" height="{BAR}" fill="url(#hatch)" '
                f'stroke="#000" stroke-width="1" class="override"/>'
            )
        if right - left > 40:
            parts.append(
                f'<text x="{left + 4}" y="{TOP + 19}" font-size="11" fill="#fff">{escape(shift.person)}'
                f"{' *' if shift.override else ''}</text>"
            )
    parts.append(f'<text x="0" y="{HEIGHT - 4}" font-size="9" fill="#666">* override (hatched)</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
