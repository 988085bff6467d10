"""The room page's data in one read: the incident, its latest timeline page, nearby changes.

``operations.room`` plus ``operations.timeline`` plus ``operations.update_template``
would load (and fold) the incident four times per page view; on a 10,000-event incident
that alone costs more than the page's 50 ms budget. This read loads it at most once, in
one transaction, and builds the same view as ``operations.room`` (same keys, same views)
from the services' own pieces, plus what only the page shows: the stakeholders (each
with the reason when nothing reaches it) and the notices about this incident's
notifications that are not getting through. It decides nothing and writes nothing.

Because the timeline is append-only, an incident's state at a given version never
changes: :class:`RoomCache` keeps recent folded states and their views by
``(incident, version)``, so the live room's fan-out (every open browser fetches the room
when an event lands) folds each version once. What depends on the clock (overdue flag,
nudges) is recomputed on every read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from warroom.domain.comms.updates import draft_update
from warroom.domain.incidents.actors import payload_people
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.room import next_update_due, nudges
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.serial import to_data
from warroom.services.comms.health import room_notices, stakeholder_gaps
from warroom.services.comms.outbox import stakeholders_of
from warroom.services.comms.reach import update_preview
from warroom.services.incidents import changes as change_cases
from warroom.services.incidents import commands as cases
from warroom.services.incidents.actors import actor_names_in, actors_shown
from warroom.services.incidents.views import change_view, event_view, incident_view
from warroom.services.operations import stakeholder_views
from warroom.services.shared.context import Context
from warroom.web.alerts_panel import alert_rows

NEARBY_CHANGES = 20

View = dict[str, Any]


class RoomCache:
    """Folded states and their views by ``(incident, version)``, least recently used out."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: OrderedDict[tuple[int, int], tuple[IncidentState, View]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, number: int, version: int) -> tuple[IncidentState, View] | None:
        with self._lock:
            found = self._items.get((number, version))
            if found is not None:
                self._items.move_to_end((number, version))
            return found

    def put(self, state: IncidentState, view: View) -> None:
        with self._lock:
            self._items[(state.number, state.version)] = (state, view)
            self._items.move_to_end((state.number, state.version))
            while len(self._items) > self._size:
                self._items.popitem(last=False)


def room_page(
    ctx: Context,
    ref: str | int,
    *,
    before: int | None,
    limit: int,
    with_draft: bool,
    cache: RoomCache | None = None,
) -> tuple[View, list[View], str]:
    """The room view (as ``operations.room``), ``limit`` events older than ``before``
    (newest first), and the prefilled status update when ``with_draft``."""
    number = parse_ref(ref)
    cache = cache or RoomCache(size=1)
    with ctx.read() as uow:
        version = uow.incidents.version(number)
        cached = cache.get(number, version) if version is not None else None
        if cached is None:
            state = uow.incidents.load(number)  # NotFound for an unknown incident
            now = ctx.clock.now()
            cached = (state, incident_view(state, now=now, policy=ctx.policy))
            cache.put(*cached)
        state, base = cached
        services = ctx.catalog.with_dependencies(state.services)
        start, end = change_cases.window_of(ctx, state)
        nearby = uow.changes.between(services, start, end)
        events = uow.incidents.events(number, before=before, limit=limit, newest_first=True)
        names = actor_names_in(uow)
        people = stakeholders_of(ctx, uow, state)
        reach = update_preview(ctx, uow, state, people)
        channels = uow.outbox.channels(number, delivered=False)
        details = uow.alerts.details_for_incident(number) if state.alerts else []
    now = ctx.clock.now()
    notices = room_notices(ctx, channels, people, now)
    gaps = stakeholder_gaps(ctx, people)
    due = next_update_due(state, ctx.policy)
    view = dict(base)
    view["update_overdue"] = bool(due and now > due)
    view["nudges"] = [to_data(n) for n in nudges(state, now=now, policy=ctx.policy)]
    view["changes"] = [change_view(c) for c in nearby[:NEARBY_CHANGES]]
    view["changes_services"] = services
    view["prepared_mitigations"] = [to_data(p) for p in cases.prepared(ctx, state)]
    view["stakeholders"] = [s | {"gap": gaps.get(s["target"])} for s in stakeholder_views(people)]
    view["delivery_notices"] = notices
    view["reach"] = reach
    view["attached_alerts"] = alert_rows(base["alerts"], details)
    shown = actors_shown(view) + [who for e in events for who in payload_people(e.kind, e.payload)]
    view["actor_names"] = names.labels(shown)
    draft = draft_update(state, now=now, policy=ctx.policy) if with_draft else ""
    return view, [event_view(e, names) for e in events], draft
