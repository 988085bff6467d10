"""The public page's renderings, kept until a public event makes them stale.

Each process keeps its renderings (HTML, JSON: any bytes, by key) with the page
generation they were made at. A public event in this process drops them at once
(:func:`invalidate`, called after the event's transaction commits); events written by
other processes (other replicas, the CLI) bump the generation row in their transaction,
which each process reads at most once a ``recheck`` (one primary-key read). A rendering
also ends at its ``until`` (the next maintenance start or end, a new UTC day) and after
``max_age`` at the latest, so time-driven changes show without any event.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from warroom.services.shared.context import Context

if TYPE_CHECKING:
    from warroom.domain.incidents.events import Event
    from warroom.domain.incidents.state import IncidentState
    from warroom.services.ports.uow import UnitOfWork

RECHECK = 1.0  # seconds between generation reads
MAX_AGE = 60.0


@dataclass
class _Entry:
    generation: int
    until: datetime | None
    made: float
    body: bytes


@dataclass
class RenderCache:
    recheck: float = RECHECK
    max_age: float = MAX_AGE
    monotonic: Callable[[], float] = time.monotonic
    builds: int = 0  # how many renderings were made (tests and the bench read it)
    _entries: dict[str, _Entry] = field(default_factory=dict)
    _generation: int = -1
    _checked: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invalidate(self) -> None:
        with self._lock:
            self._entries.clear()
            self._checked = float("-inf")

    def _current_generation(self, ctx: Context) -> int:
        tick = self.monotonic()
        if tick - self._checked >= self.recheck:
            with ctx.read() as uow:
                found = uow.statuspage.generation()
            if found != self._generation:
                self._entries.clear()
                self._generation = found
            self._checked = tick
        return self._generation

    def fresh(self, ctx: Context, key: str) -> bytes | None:
        """The rendering of ``key`` if it is fresh without asking the database, else None."""
        entry = self._entries.get(key)
        tick = self.monotonic()
        if (
            entry is not None
            and tick - self._checked < self.recheck
            and tick - entry.made < self.max_age
            and (entry.until is None or ctx.clock.now() < entry.until)
        ):
            return entry.body
        return None

    def get(self, ctx: Context, key: str, build: Callable[[], tuple[bytes, datetime | None]]) -> bytes:
        """The rendering of ``key``; ``build`` (bytes, valid until) makes it when stale."""
        found = self.fresh(ctx, key)
        if found is not None:
            return found
        tick = self.monotonic()
        with self._lock:  # one build at a time; the others wait and take it
            generation = self._current_generation(ctx)
            entry = self._entries.get(key)
            if (
                entry is None
                or entry.generation != generation
                or tick - entry.made >= self.max_age
                or (entry.until is not None and ctx.clock.now() >= entry.until)
            ):
                body, until = build()
                self.builds += 1
                entry = _Entry(generation, until, self.monotonic(), body)
                self._entries[key] = entry
            return entry.body


_CACHES: dict[int, RenderCache] = {}


def cache_of(ctx: Context) -> RenderCache:
    """The cache of the app ``ctx`` belongs to (one per context object)."""
    found = _CACHES.get(id(ctx))
    if found is None:
        found = _CACHES[id(ctx)] = RenderCache()
        weakref.finalize(ctx, _CACHES.pop, id(ctx), None)
    return found


def invalidate(ctx: Context) -> None:
    found = _CACHES.get(id(ctx))
    if found is not None:
        found.invalidate()


# Incident events that change what the public page shows once the incident is public.
PAGE_EVENTS = frozenset(
    {
        "status_update_posted",
        "severity_changed",
        "impact_assessed",
        "scope_widened",
        "incident_mitigated",
        "incident_resolved",
        "incident_reopened",
        "incident_closed",
    }
)


def touch_public(ctx: Context, uow: UnitOfWork, events: Sequence[Event], state: IncidentState) -> bool:
    """In the events' transaction: bump the page generation when ``events`` change what
    the page shows (a public incident's update, severity, services or lifecycle)."""
    if getattr(uow, "statuspage", None) is None:  # in-memory fakes without a status page
        return False
    public = any(u.audience == "public" for u in state.updates)
    if not public or not any(event.kind in PAGE_EVENTS for event in events):
        return False
    uow.statuspage.touch(events[-1].recorded_at)
    invalidate(ctx)
    return True
