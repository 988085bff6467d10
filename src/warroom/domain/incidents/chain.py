"""The hash chain that makes an incident's timeline tamper-evident.

``hash = sha256(prev_hash + canonical(event))`` where the canonical form is compact JSON
with sorted keys over every field but the hash itself. The first event links to
``GENESIS``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from warroom.domain.incidents.events import Event, NewEvent
from warroom.domain.shared.timefmt import iso

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON: the one serialisation hashed and stored."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(
    *,
    incident: int,
    seq: int,
    kind: str,
    payload: dict[str, Any],
    actor: str,
    occurred_at: datetime,
    recorded_at: datetime,
    prev_hash: str,
) -> str:
    body = canonical_json(
        {
            "incident": incident,
            "seq": seq,
            "kind": kind,
            "payload": payload,
            "actor": actor,
            "occurred_at": iso(occurred_at),
            "recorded_at": iso(recorded_at),
            "prev_hash": prev_hash,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def stamp(
    incident: int,
    version: int,
    last_hash: str,
    new: Sequence[NewEvent],
    *,
    actor: str,
    recorded_at: datetime,
) -> list[Event]:
    """Number and chain ``new`` after ``version`` / ``last_hash``."""
    events: list[Event] = []
    prev = last_hash
    for offset, item in enumerate(new, start=1):
        seq = version + offset
        digest = event_hash(
            incident=incident,
            seq=seq,
            kind=item.kind,
            payload=item.payload,
            actor=actor,
            occurred_at=item.occurred_at,
            recorded_at=recorded_at,
            prev_hash=prev,
        )
        events.append(
            Event(
                incident,
                seq,
                item.kind,
                item.payload,
                actor,
                item.occurred_at,
                recorded_at,
                prev,
                digest,
            )
        )
        prev = digest
    return events


@dataclass(frozen=True)
class ChainBreak:
    """The first broken link of a chain and what is wrong with it."""

    incident: int
    seq: int
    kind: str
    problem: str

    def __str__(self) -> str:
        return f"INC-{self.incident} event #{self.seq} ({self.kind}): {self.problem}"


def verify(events: Iterable[Event]) -> ChainBreak | None:
    """Recompute the whole chain in sequence order; return the first broken link, if any."""
    return check_run(events, prev_hash=GENESIS, first_seq=1)


def check_run(
    events: Iterable[Event], *, prev_hash: str | None = None, first_seq: int | None = None
) -> ChainBreak | None:
    """Check a contiguous run of events in ascending order, as a reader loaded them.

    Every event's content must match its hash and link to the one before it; the first
    must link to ``prev_hash`` and carry ``first_seq`` when they are given (None: the run
    starts wherever it starts). The cost is one hash per event already in hand.
    """
    prev = prev_hash
    expected_seq = first_seq
    for event in events:
        if expected_seq is not None and event.seq != expected_seq:
            return ChainBreak(event.incident, event.seq, event.kind, f"expected event #{expected_seq}")
        if prev is not None and event.prev_hash != prev:
            return ChainBreak(event.incident, event.seq, event.kind, "does not link to the previous event")
        digest = event_hash(
            incident=event.incident,
            seq=event.seq,
            kind=event.kind,
            payload=event.payload,
            actor=event.actor,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            prev_hash=event.prev_hash,
        )
        if digest != event.hash:
            return ChainBreak(event.incident, event.seq, event.kind, "content does not match its hash")
        prev = event.hash
        expected_seq = event.seq + 1
    return None


def chain_view(broken: ChainBreak | None) -> dict[str, Any]:
    """The ``chain`` field of an incident's views: intact, or where it is broken."""
    if broken is None:
        return {"intact": True}
    return {
        "intact": False,
        "broken_at": broken.seq,
        "kind": broken.kind,
        "problem": broken.problem,
        "message": f"{broken}; run `warroom verify` (the stored timeline was changed outside warroom)",
    }
