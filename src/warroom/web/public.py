"""The public status page (``/status``) and its JSON (``/status.json``).

Both are served from a cached rendering (``services.comms.statuspage_cache``): a request
that finds a fresh one answers without touching the database or the template engine, and
only a public event (or a maintenance start or end) makes the next request render again.
The data comes from ``domain.comms.statuspage``, which copies nothing but public names,
states, public updates and maintenance text, so the template cannot leak the rest.
No session is read or set here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Request, Response
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from warroom.domain.comms.statuspage import LABELS, PublicIncident
from warroom.domain.comms.statuspage_history import floored
from warroom.domain.shared.timefmt import iso
from warroom.services.comms import statuspage
from warroom.services.comms.statuspage_cache import cache_of
from warroom.services.shared.context import Context
from warroom.web import session
from warroom.web.public_svg import uptime_bars
from warroom.web.templating import SECURITY_HEADERS, render

HTML_HEADERS = SECURITY_HEADERS | {"Cache-Control": "public, max-age=5"}
JSON_HEADERS = {"Cache-Control": "public, max-age=5", "X-Content-Type-Options": "nosniff"}


def _incident_json(item: PublicIncident) -> dict[str, Any]:
    return {
        "id": item.id,
        "components": list(item.components),
        "stage": item.stage,
        "open": item.open,
        "started_at": iso(item.started_at),
        "updates": [{"at": iso(u.at), "stage": u.stage, "text": u.text} for u in item.updates],
    }


def page_json(data: statuspage.PageData) -> dict[str, Any]:
    """The public JSON of the page: the same public fields the HTML shows."""
    page = data.page
    uptimes = {h.name: floored(h.uptime, 6, down=h.down) for h in data.history}
    return {
        "generated_at": iso(page.generated_at),
        "overall": page.overall,
        "components": [
            {
                "name": c.name,
                "group": c.group,
                "state": c.state,
                "label": c.label,
                "set_by_hand": c.manual is not None,
                "uptime_90d": uptimes.get(c.name, 1.0),
            }
            for c in page.components
        ],
        "incidents": [_incident_json(i) for i in page.incidents],
        "maintenance": [
            {
                "id": m.id,
                "components": list(m.components),
                "starts_at": iso(m.starts_at),
                "ends_at": iso(m.ends_at),
                "phase": m.phase,
                "text": m.text,
            }
            for m in page.maintenance
        ],
        "history": [
            {"day": day.day.isoformat(), "incidents": [_incident_json(i) for i in day.incidents]}
            for day in data.past
        ],
    }


def _render_html(ctx: Context) -> tuple[bytes, datetime | None]:
    data = statuspage.read_page(ctx)
    bars = {
        h.name: Markup(uptime_bars(h.days, title_id=f"up-{index}", name=h.name, uptime=h.uptime_text))
        for index, h in enumerate(data.history)
    }
    uptimes = {h.name: h.uptime_text for h in data.history}
    html = render(
        "status.html",
        user=None,
        csrf="",
        error=None,
        values={},
        failed=None,
        data=data,
        page=data.page,
        bars=bars,
        uptimes=uptimes,
        labels=LABELS,
        now=data.page.generated_at,
    )
    return html.encode(), data.until


def _render_json(ctx: Context) -> tuple[bytes, datetime | None]:
    data = statuspage.read_page(ctx)
    return json.dumps(page_json(data), separators=(",", ":")).encode(), data.until


async def _cached(ctx: Context, key: str, build: Callable[[Context], tuple[bytes, datetime | None]]) -> bytes:
    cache = cache_of(ctx)
    body = cache.fresh(ctx, key)  # no thread hop, no I/O when a fresh rendering is kept
    if body is None:
        made: bytes = await run_in_threadpool(cache.get, ctx, key, lambda: build(ctx))
        return made
    return body


async def status_page(request: Request) -> Response:
    """Public: no session is read or set, and the template gets no user."""
    ctx = session.app_of(request).context
    body = await _cached(ctx, "html", _render_html)
    return Response(body, media_type="text/html; charset=utf-8", headers=HTML_HEADERS)


async def status_json(request: Request) -> Response:
    ctx = session.app_of(request).context
    body = await _cached(ctx, "json", _render_json)
    return Response(body, media_type="application/json", headers=JSON_HEADERS)


ROUTES = [("/status", status_page, ["GET"]), ("/status.json", status_json, ["GET"])]

_LANES: dict[
    str, tuple[str, Callable[[Context], tuple[bytes, datetime | None]], list[tuple[bytes, bytes]]]
] = {
    "/status": (
        "html",
        _render_html,
        [(b"content-type", b"text/html; charset=utf-8")]
        + [(k.lower().encode(), v.encode()) for k, v in HTML_HEADERS.items()],
    ),
    "/status.json": (
        "json",
        _render_json,
        [(b"content-type", b"application/json")]
        + [(k.lower().encode(), v.encode()) for k, v in JSON_HEADERS.items()],
    ),
}


class PublicLane:
    """A pure ASGI lane for ``GET /status`` and ``GET /status.json``, ahead of the router.

    Matching a path against every route of the application costs more than serving the
    cached rendering; the lane answers exactly these two paths (GET and HEAD) with the
    same bytes and headers the declared routes give, and passes everything else (another
    method, a trailing slash, a ``root_path``) on to the application. It sits inside the
    request guard, which records the metrics.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        lane = _LANES.get(scope.get("path", "")) if scope["type"] == "http" else None
        method = scope.get("method", "")
        if lane is None or method not in ("GET", "HEAD") or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        key, build, headers = lane
        body = await _cached(scope["app"].state.warroom.context, key, build)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*headers, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
