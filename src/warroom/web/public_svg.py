"""A component's uptime bars: one bar per UTC day as an inline SVG drawn on the server.

Bars are evenly spaced in day order (oldest left), coloured by the day's worst state.
Operational days are one patterned rectangle (a bar every day) and only the other days
are drawn over it, each with a ``<title>`` (day, state, minutes down): a page of many
components stays small, which keeps the cached page cheap to send. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from warroom.domain.comms.statuspage import LABELS
from warroom.domain.comms.statuspage_history import DayBar

BAR = 8
GAP = 2
HEIGHT = 34


def _minutes(value: float) -> str:
    return f"{round(value, 1):g} min" if value >= 0.05 else "under 0.1 min"


def uptime_bars(days: Sequence[DayBar], *, title_id: str, name: str, uptime: str) -> str:
    """SVG markup for ``days`` (oldest first); ``uptime`` is the window's figure as shown
    (``ComponentHistory.uptime_text``)."""
    width = len(days) * (BAR + GAP) - GAP if days else BAR
    pattern = f"{escape(title_id)}-p"
    parts = [
        f'<defs><pattern id="{pattern}" width="{BAR + GAP}" height="{HEIGHT}" patternUnits="userSpaceOnUse">'
        f'<rect class="ub operational" width="{BAR}" height="{HEIGHT}" rx="1.5"/></pattern></defs>',
        f'<rect width="{width}" height="{HEIGHT}" fill="url(#{pattern})"/>',
    ]
    for index, bar in enumerate(days):
        if bar.state == "operational":
            continue
        label = f"{bar.day.isoformat()}: {LABELS[bar.state]}"
        if bar.down_minutes:
            label += f", {_minutes(bar.down_minutes)} down, {bar.uptime_text} uptime"
        parts.append(
            f'<rect class="ub {bar.state}" x="{index * (BAR + GAP)}" y="0" width="{BAR}" height="{HEIGHT}" rx="1.5">'
            f"<title>{escape(label)}</title></rect>"
        )
    bad = sum(1 for bar in days if bar.state != "operational")
    caption = f"{name}: {len(days)} days, {uptime} uptime"
    description = f"{bad} of {len(days)} days with an incident or maintenance" if days else "no days"
    return (
        f'<svg class="uptime" viewBox="0 0 {width} {HEIGHT}" preserveAspectRatio="none" role="img" '
        f'aria-labelledby="{escape(title_id)}-t {escape(title_id)}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(title_id)}-t">{escape(caption)}</title>'
        f'<desc id="{escape(title_id)}-d">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )
