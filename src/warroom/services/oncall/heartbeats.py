"""Heartbeats: record the beats the alert webhooks carry, and page when one falls silent.

:class:`HeartbeatWatch` sits on the webhook path, so it costs a dictionary lookup per
alert: it keeps the monitors in memory (re-read every few seconds) and writes a beat at
most once per ``throttle`` per monitor. :func:`check_silent` runs in the escalation tick:
a monitor whose last beat is older than its interval opens a page (one per silence; it
resolves itself when the beat is back).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.oncall import documents as docs
from warroom.domain.oncall import pages as pg
from warroom.domain.oncall.heartbeats import Heartbeat
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.domain.shared.timefmt import iso
from warroom.services.oncall.config import OncallConfig
from warroom.services.oncall.directory import load_directory
from warroom.services.shared.context import Context

REFRESH = 5.0  # seconds between re-reads of the monitors
THROTTLE = timedelta(seconds=10)


def put_heartbeat(ctx: Context, document: Mapping[str, Any]) -> Heartbeat:
    beat = docs.heartbeat_from(document)
    with ctx.uow() as uow:
        if beat.policy and beat.policy not in {p.name for p in uow.oncall.policies()}:
            raise ValidationError("policy", f"no escalation policy {beat.policy!r}")
        uow.oncall.put_heartbeat(beat, ctx.clock.now())
        uow.commit()
    return beat


def remove_heartbeat(ctx: Context, name: str) -> None:
    with ctx.uow() as uow:
        if not uow.oncall.remove_heartbeat(name):
            raise NotFound(f"no heartbeat monitor {name!r}")
        uow.commit()


def heartbeats_view(ctx: Context) -> list[dict[str, Any]]:
    now = ctx.clock.now()
    with ctx.read() as uow:
        found = uow.oncall.heartbeats()
    views = []
    for beat in found:
        view = docs.heartbeat_doc(beat)
        due = beat.due_at()
        view |= {
            "last_seen": iso(beat.last_seen) if beat.last_seen else None,
            "due_at": iso(due) if due else None,
            "status": "silent" if beat.silent(now) else "ok" if beat.last_seen else "waiting",
        }
        views.append(view)
    return views


class HeartbeatWatch:
    """Notes the beats in alert deliveries; thread-safe, cheap when nothing matches."""

    def __init__(self, ctx: Context, *, refresh: float = REFRESH, clock: Any = time.monotonic) -> None:
        self.ctx = ctx
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._monitors: list[Heartbeat] = []
        self._read_at = -float("inf")
        self._written: dict[str, datetime] = {}

    @property
    def stale(self) -> bool:
        """True when the monitors should be read again (:meth:`refresh`, off the event loop)."""
        return bool(self._clock() - self._read_at >= self._refresh)

    def refresh(self) -> None:
        with self.ctx.read() as uow:
            monitors = uow.oncall.heartbeats()
        with self._lock:
            self._monitors, self._read_at = monitors, self._clock()

    def matching(self, source: str, signals: Iterable[Mapping[str, str]]) -> list[str]:
        """Names of the monitors that ``signals`` (label sets of firing alerts) beat; reads
        nothing (the monitors as of the last :meth:`refresh`)."""
        with self._lock:
            monitors = self._monitors
        if not monitors:
            return []
        now = self.ctx.clock.now()
        found = []
        for labels in signals:
            for beat in monitors:
                if beat.name not in found and beat.matches(source, labels):
                    last = self._written.get(beat.name)
                    if last is None or now - last >= THROTTLE:
                        found.append(beat.name)
        return found

    def record(self, names: list[str]) -> None:
        if not names:
            return
        now = self.ctx.clock.now()
        with self.ctx.uow() as uow:
            uow.oncall.beat(names, now)
            uow.commit()
        with self._lock:
            for name in names:
                self._written[name] = now


def check_silent(ctx: Context, config: OncallConfig, now: datetime) -> int:
    """Open a page for each silent monitor without one; resolve the pages of monitors that
    beat again. Returns how many pages changed. Reads first, writes only when needed."""
    with ctx.read() as uow:
        monitors = uow.oncall.heartbeats()
        if not monitors:
            return 0
        opened = {beat.name: uow.oncall.open_page(f"heartbeat:{beat.name}") for beat in monitors}
    changed = 0
    for beat in monitors:
        if beat.silent(now) == (opened[beat.name] is not None):
            continue  # silent with its page open, or beating without one: nothing to do
        changed += _settle_beat(ctx, config, beat, now)
    return changed


def _settle_beat(ctx: Context, config: OncallConfig, beat: Heartbeat, now: datetime) -> int:
    dedup = f"heartbeat:{beat.name}"
    with ctx.uow() as uow:
        open_page = uow.oncall.open_page(dedup)
        if beat.silent(now) and open_page is None:
            directory = load_directory(ctx, uow, now)
            policy = beat.policy if beat.policy in directory.policies else None
            policy = policy or (directory.fallback.name if directory.fallback else None)
            if policy is None:
                return 0
            seen = f"last beat {iso(beat.last_seen)}" if beat.last_seen else "no beat yet"
            page = pg.open_page(
                title=f"Heartbeat {beat.name} is silent: the monitoring pipeline may be down",
                by=config.actor,
                now=now,
                policy=policy,
                reason=f"no {', '.join(f'{k}={v}' for k, v in beat.labels)} for "
                f"{int(beat.interval.total_seconds() // 60)} min ({seen})",
                dedup=dedup,
            )
            added = uow.oncall.add_page(page) is not None
            uow.commit()
            return int(added)
        if not beat.silent(now) and open_page is not None:
            outcome = pg.resolve(open_page, config.actor, now, "the heartbeat is back")
            uow.oncall.save_page(outcome.page)
            uow.oncall.cancel_pending(open_page.id, now)
            uow.commit()
            return 1
    return 0
