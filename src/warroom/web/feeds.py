"""Feeds of the public status page: Atom (RFC 4287, written by feedgen) and JSON Feed 1.1,
of the whole page (``/status/feed.atom``, ``/status/feed.json``) or of one service
(``?service=checkout``).

An entry is one public update: its words, its stage, its time, the incident's reference
and components, as the page shows them (open incidents and the page's history). Nothing
else of an incident gets here (``domain.comms.statuspage`` copies only public fields).
``service`` names a component by its public name or by its catalog service.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from warroom.domain.comms.statuspage import PublicIncident
from warroom.domain.shared.timefmt import iso
from warroom.services.comms import statuspage
from warroom.services.comms.statuspage import PageData
from warroom.web import session
from warroom.web.templating import SECURITY_HEADERS, render

JSON_FEED = "https://jsonfeed.org/version/1.1"
TITLE = "Service status"
CACHE = {"Cache-Control": "public, max-age=60", "X-Content-Type-Options": "nosniff"}
Service = Query("", max_length=100)


def _component(data: PageData, service: str) -> str | None:
    """The public name ``service`` stands for (a public name or a catalog service)."""
    for c in data.page.components:
        if service in (c.name, c.service):
            return c.name
    return None


def _incidents(data: PageData) -> list[PublicIncident]:
    """Open incidents and those of the page's history, each once."""
    seen: dict[str, PublicIncident] = {}
    for inc in [*data.page.incidents, *(i for day in data.past for i in day.incidents)]:
        seen.setdefault(inc.id, inc)
    return list(seen.values())


def _entries(data: PageData, service: str) -> list[tuple[PublicIncident, datetime, str, str]]:
    """(incident, time, text, stage) of every public update, newest first."""
    name = _component(data, service) if service else None
    found = [
        (inc, update.at, update.text, update.stage)
        for inc in _incidents(data)
        if not service or name in inc.components
        for update in inc.updates
    ]
    found.sort(key=lambda item: item[1], reverse=True)
    return found


def _title(inc: PublicIncident, stage: str) -> str:
    return f"{inc.id} {stage}: {', '.join(inc.components) or 'our services'}"


def _entry_id(base: str, inc: PublicIncident, at: datetime) -> str:
    """Stable across requests: the incident and the update's time to the microsecond."""
    return f"{base}/status#{inc.id}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%S%fZ')}"


def atom(data: PageData, base: str, service: str, now: datetime) -> bytes:
    from feedgen.feed import FeedGenerator

    query = f"?service={quote(service)}" if service else ""
    feed = FeedGenerator()
    feed.id(f"{base}/status/feed.atom{query}")
    feed.title(f"{TITLE}: {service}" if service else TITLE)
    feed.author({"name": "Status page"})
    feed.link(href=f"{base}/status", rel="alternate")
    feed.link(href=f"{base}/status/feed.atom{query}", rel="self")
    entries = _entries(data, service)
    feed.updated(entries[0][1] if entries else now)
    for inc, at, text, stage in entries:
        entry = feed.add_entry(order="append")
        entry.id(_entry_id(base, inc, at))
        entry.title(_title(inc, stage))
        entry.link(href=f"{base}/status#{inc.id}")
        entry.content(text, type="text")
        entry.published(at)
        entry.updated(at)
        for name in inc.components:
            entry.category(term=name)
    body: bytes = feed.atom_str(pretty=True)
    return body


def json_feed(data: PageData, base: str, service: str) -> dict[str, Any]:
    query = f"?service={quote(service)}" if service else ""
    return {
        "version": JSON_FEED,
        "title": f"{TITLE}: {service}" if service else TITLE,
        "home_page_url": f"{base}/status",
        "feed_url": f"{base}/status/feed.json{query}",
        "language": "en",
        "items": [
            {
                "id": _entry_id(base, inc, at),
                "url": f"{base}/status#{inc.id}",
                "title": _title(inc, stage),
                "content_text": text,
                "date_published": iso(at),
                "tags": list(inc.components),
            }
            for inc, at, text, stage in _entries(data, service)
        ],
    }


def _known(request: Request, data: PageData, service: str) -> bool:
    return not service or _component(data, service) is not None


def _missing(service: str) -> HTMLResponse:
    body = render(
        "error.html",
        user=None,
        csrf="",
        error=None,
        status_code=404,
        message=f"This status page lists no service named {service[:100]!r}.",
    )
    return HTMLResponse(body, status_code=404, headers=SECURITY_HEADERS)


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def build_feeds_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/status/feed.atom")
    def atom_feed(request: Request, service: str = Service) -> Response:
        ctx = session.app_of(request).context
        data = statuspage.read_page(ctx)
        if not _known(request, data, service):
            return _missing(service)
        body = atom(data, _base(request), service, ctx.clock.now())
        return Response(body, media_type="application/atom+xml; charset=utf-8", headers=CACHE)

    @router.get("/status/feed.json")
    def json_feed_route(request: Request, service: str = Service) -> Response:
        ctx = session.app_of(request).context
        data = statuspage.read_page(ctx)
        if not _known(request, data, service):
            return _missing(service)
        document = json_feed(data, _base(request), service)
        body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        return Response(body, media_type="application/feed+json; charset=utf-8", headers=CACHE)

    return router
