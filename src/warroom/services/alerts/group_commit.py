"""Group commit's bookkeeping: bodies waiting for one transaction, and what each one did.

:class:`_Pending` is one parsed body queued for the alert writer with the future its
caller waits on. :func:`_parts` cuts a group of bodies into parts written in order, so
every transition is applied as if the bodies came one by one (and identical repeats are
dropped). :class:`IngestResult` is what one body did, its answer to the webhook.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from warroom.domain.alerts.signals import AlertSignal


@dataclass(frozen=True)
class IngestResult:
    """What one body did: counts, and the incidents its alerts were declared into
    (``declared``) or attached to or resolved on (``updated``)."""

    received: int
    new: int = 0
    changed: int = 0
    declared: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    queued: int = 0

    @property
    def unchanged(self) -> int:
        return self.received - self.changed

    def view(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "declared": list(self.declared),
            "updated": list(self.updated),
            "queued": self.queued,
        }


@dataclass
class _Pending:
    """One body waiting for the group transaction that writes it."""

    source: str
    signals: list[AlertSignal]
    actor: str
    future: Future[IngestResult] = field(default_factory=Future)


def _parts(
    group: Sequence[_Pending],
) -> tuple[list[tuple[str, str, list[AlertSignal]]], dict[tuple[int, str], int]]:
    """The group's signals as parts written in order, one per (source, actor), plus a later
    part whenever a body repeats a fingerprint with a different report (its resolution after
    its firing), so every transition is applied as if the bodies came one by one. Identical
    repeats are dropped: they would change nothing. ``origin`` maps (part, fingerprint) to
    the index of the body the signal came from."""
    parts: list[tuple[str, str, dict[str, AlertSignal]]] = []
    origin: dict[tuple[int, str], int] = {}
    latest: dict[tuple[str, str], int] = {}  # (source, fingerprint) -> the last part holding it
    lanes: dict[tuple[str, str], list[int]] = {}  # (source, actor) -> its parts, in order
    for index, pending in enumerate(group):
        source, actor = pending.source, pending.actor
        lane = lanes.setdefault((source, actor), [])
        for signal in pending.signals:
            key = signal.fingerprint
            last = latest.get((source, key), -1)
            if last >= 0 and _same_report(parts[last][2][key], signal):
                continue
            target = next((n for n in lane if n > last), None)
            if target is None:
                parts.append((source, actor, {}))
                target = len(parts) - 1
                lane.append(target)
            parts[target][2][key] = signal
            latest[source, key] = target
            origin[target, key] = index
    return [(source, actor, list(signals.values())) for source, actor, signals in parts], origin


def _same_report(a: AlertSignal, b: AlertSignal) -> bool:
    return (a.status, a.starts_at, a.extra.get("event_action")) == (
        b.status,
        b.starts_at,
        b.extra.get("event_action"),
    )
