"""The load on people, for ``warroom report``: read the window's pages and who they told."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.domain.oncall.load import Paged, load
from warroom.services.shared.context import Context


def load_report(ctx: Context, start: datetime, end: datetime) -> dict[str, Any]:
    with ctx.read() as uow:
        pages = uow.oncall.pages_between(start, end)
        planned = uow.oncall.notifications([p.id for p in pages]) if pages else []
        zones = {p.handle: p.time_zone for p in uow.oncall.people()}
    first: dict[tuple[int, str], datetime] = {}
    for note in planned:
        if note.status not in ("sent", "delivered", "failed") or note.sent_at is None:
            continue
        key = (note.page_id, note.person)
        first[key] = min(first.get(key, note.sent_at), note.sent_at)
    paged = [Paged(page, person, at) for (page, person), at in first.items()]
    return load(pages, paged, zones, start, end)
