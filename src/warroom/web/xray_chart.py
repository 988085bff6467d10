"""The X-ray's failing path as an inline SVG drawn on the server.

One box per service along the most common failing path (root first, the failing callee
last), each with its owning team; the arrows between them carry the hop's calls per
request, and the last arrow, where the errors originate, is drawn red with how it fails
and its share of the failed requests. The viewBox scales to the width it is given, so the
same drawing fits a phone and a desk. Pure: the X-ray view in, markup out.
"""

from __future__ import annotations

from html import escape
from typing import Any

BOX_W, BOX_H, GAP, PAD = 150, 54, 70, 12
HEIGHT = BOX_H + 2 * PAD + 34


def _short(text: str, limit: int = 20) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _edge(view: dict[str, Any], caller: str, callee: str) -> dict[str, Any] | None:
    return next((e for e in view.get("edges", []) if e["caller"] == caller and e["callee"] == callee), None)


def failing_path(view: dict[str, Any], *, title_id: str = "xray-path") -> str:
    """SVG markup of the top origin's path, or "" when there is no failing path."""
    origins = view.get("origins") or []
    if not origins:
        return ""
    top = origins[0]
    path: list[str] = top["path"]
    owners: dict[str, str] = top.get("owners", {})
    width = PAD * 2 + len(path) * BOX_W + (len(path) - 1) * GAP
    title = f"Failing path: {' to '.join(path)}; {top['share'] * 100:.0f}% of failed requests end at {top['caller']} to {top['callee']} ({top['kind']})"
    parts = [
        f'<svg class="xray-path" viewBox="0 0 {width} {HEIGHT}" role="img" aria-labelledby="{title_id}" '
        f'preserveAspectRatio="xMinYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{title_id}">{escape(title)}</title>',
        '<defs><marker id="xray-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="10" markerHeight="10" '
        'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>',
    ]
    for index, service in enumerate(path):
        x = PAD + index * (BOX_W + GAP)
        failing = index == len(path) - 1
        css = "xray-box failing" if failing else "xray-box"
        parts.append(f'<rect class="{css}" x="{x}" y="{PAD}" width="{BOX_W}" height="{BOX_H}" rx="8"/>')
        parts.append(
            f'<text class="xray-name" x="{x + BOX_W / 2}" y="{PAD + 22}" text-anchor="middle">{escape(_short(service))}</text>'
        )
        team = owners.get(service)
        parts.append(
            f'<text class="xray-team" x="{x + BOX_W / 2}" y="{PAD + 40}" text-anchor="middle">'
            f"{escape(_short('team ' + team if team else 'no owner'))}</text>"
        )
        if index == 0:
            continue
        caller = path[index - 1]
        x0, x1, y = x - GAP + 2, x - 4, PAD + BOX_H / 2
        css = "xray-hop origin" if failing else "xray-hop"
        parts.append(
            f'<line class="{css}" x1="{x0}" y1="{y}" x2="{x1}" y2="{y}" marker-end="url(#xray-arrow)"/>'
        )
        edge = _edge(view, caller, service)
        if edge is not None:
            label = f"{edge['now']['calls_per_request']:g}x/req"
            parts.append(
                f'<text class="xray-rate" x="{(x0 + x1) / 2}" y="{y - 8}" text-anchor="middle">{escape(label)}</text>'
            )
    last_x = PAD + (len(path) - 1) * (BOX_W + GAP)
    caption = f"{top['share'] * 100:.0f}% of failed requests: {top['kind']} ({top['typical_ms']:.0f} ms)"
    parts.append(
        f'<text class="xray-cause" x="{last_x + BOX_W}" y="{PAD + BOX_H + 24}" text-anchor="end">{escape(caption)}</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
