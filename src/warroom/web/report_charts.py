"""SVG charts of the reliability review, drawn on the server (no script, no inline style).

Two shapes cover the report: :func:`columns` (one value per period, e.g. incidents per
month) and :func:`bars` (horizontal, one or more series per label, e.g. median and p90
time to mitigate per service). Colours come from classes (``series-0``, ``series-1``)
styled by ``learning.css``; every chart has a ``<title>`` and a ``<desc>`` and the page
shows the same figures in a table beside it. Pure: no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from html import escape

_ids = itertools.count(1)
Format = Callable[[float], str]

# Drawn at about a phone's width and never scaled up: text stays at its CSS size (13 px
# labels, 12 px values) on a 390 px screen, where a wider drawing would shrink it to 6 px.
WIDTH = 360
LABEL_WIDTH = 100
LABEL_CHARS = 14  # a longer label is cut with an ellipsis (the bar's tooltip has it whole)
CHAR_PX = 7.2  # about one character at the label size
ROW = 18
GAP = 8


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"


def _chart_id(prefix: str) -> str:
    return f"{prefix}-{next(_ids)}"


def _open(prefix: str, title: str, desc: str, height: int) -> tuple[str, str]:
    ident = _chart_id(prefix)
    head = (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" role="img" '
        f'aria-labelledby="{ident}-t {ident}-d" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return ident, head


def columns(title: str, points: Sequence[tuple[str, float]], *, fmt: Format = lambda v: f"{v:g}") -> str:
    """Vertical columns, one per ``(label, value)``, in the given order."""
    height, top, bottom = 200, 20, 40
    _, svg = _open("cols", title, "; ".join(f"{label}: {fmt(value)}" for label, value in points), height)
    parts = [svg]
    if not points:
        parts.append(
            f'<text class="chart-empty" x="{WIDTH / 2}" y="{height / 2}" text-anchor="middle">no data</text>'
        )
        return "".join(parts) + "</svg>"
    peak = max(value for _, value in points) or 1.0
    usable = height - top - bottom
    step = (WIDTH - 40) / len(points)
    width = max(min(step * 0.7, 60), 2)
    widest = max(len(label) for label, _ in points) * CHAR_PX + 6
    label_every = max(1, math.ceil(widest / step))  # labels never overlap
    parts.append(
        f'<line class="axis" x1="20" y1="{height - bottom}" x2="{WIDTH - 20}" y2="{height - bottom}"/>'
    )
    for index, (label, value) in enumerate(points):
        x = 20 + index * step + (step - width) / 2
        h = usable * value / peak
        y = height - bottom - h
        parts.append(
            f'<rect class="bar series-0" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {escape(fmt(value))}</title></rect>"
        )
        if step >= 26:  # room for a value above each column
            parts.append(
                f'<text class="chart-value" x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                f"{escape(fmt(value))}</text>"
            )
        if index % label_every == 0:
            parts.append(
                f'<text class="chart-label" x="{x + width / 2:.1f}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{escape(label)}</text>'
            )
    return "".join(parts) + "</svg>"


def bars(
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None]]],
    series: Sequence[str],
    *,
    fmt: Format = lambda v: f"{v:g}",
) -> str:
    """Horizontal bars: for each ``(label, values)`` one bar per series (None: not measured)."""
    per_row = ROW * len(series) + GAP
    legend = 24
    height = legend + max(len(rows), 1) * per_row + 10
    desc = "; ".join(
        f"{label}: "
        + ", ".join(f"{name} {'-' if v is None else fmt(v)}" for name, v in zip(series, values, strict=True))
        for label, values in rows
    )
    _, svg = _open("bars", title, desc, height)
    parts = [svg]
    for index, name in enumerate(series):
        x = LABEL_WIDTH + index * 80
        parts.append(f'<rect class="bar series-{index}" x="{x}" y="4" width="12" height="12"/>')
        parts.append(f'<text class="chart-label" x="{x + 18}" y="14">{escape(name)}</text>')
    measured = [v for _, values in rows for v in values if v is not None]
    if not measured:
        parts.append(
            f'<text class="chart-empty" x="{WIDTH / 2}" y="{legend + 20}" text-anchor="middle">no data</text>'
        )
        return "".join(parts) + "</svg>"
    peak = max(measured) or 1.0
    span = WIDTH - LABEL_WIDTH - 60
    for row_index, (label, values) in enumerate(rows):
        y0 = legend + row_index * per_row
        middle = y0 + ROW * len(series) / 2 + 4
        parts.append(
            f'<text class="chart-label" x="{LABEL_WIDTH - 8}" y="{middle:.1f}" text-anchor="end">{escape(_short(label))}</text>'
        )
        for index, value in enumerate(values):
            y = y0 + index * ROW
            if value is None:
                parts.append(
                    f'<text class="chart-value" x="{LABEL_WIDTH + 4}" y="{y + 13}">not measured</text>'
                )
                continue
            w = max(span * value / peak, 1.0)
            parts.append(
                f'<rect class="bar series-{index}" x="{LABEL_WIDTH}" y="{y + 2}" width="{w:.1f}" height="{ROW - 4}">'
                f"<title>{escape(label)}, {escape(series[index])}: {escape(fmt(value))}</title></rect>"
            )
            parts.append(
                f'<text class="chart-value" x="{LABEL_WIDTH + w + 6:.1f}" y="{y + 13}">{escape(fmt(value))}</text>'
            )
    return "".join(parts) + "</svg>"
