"""A pure-domain incident for unit tests: decisions are stamped and folded as storage would."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from tests.incidents.fakes import T0
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import GENESIS, stamp
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import Event, NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import Impact, IncidentKind
from warroom.domain.incidents.state import IncidentState

POLICY = ResponsePolicy()


def declaration(**overrides: Any) -> Declaration:
    base = Declaration(
        title="Checkout returns 5xx",
        kind=IncidentKind.AVAILABILITY,
        services=["checkout"],
        impact=Impact(customer_share=0.12),
    )
    return replace(base, **overrides)


class Incident:
    """An incident's timeline in memory: ``do`` runs a command, stamps and folds its events."""

    def __init__(
        self,
        decl: Declaration | None = None,
        *,
        at: datetime = T0,
        by: str = "alice",
        policy: ResponsePolicy = POLICY,
        number: int = 1,
    ) -> None:
        self.policy = policy
        self.now = at
        declared = rules.declare(decl or declaration(), now=at, policy=policy)
        self.events: list[Event] = stamp(number, 0, GENESIS, [declared], actor=by, recorded_at=at)
        self.state: IncidentState = apply(None, self.events[0])

    def later(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def do(
        self, decide: Callable[[IncidentState, datetime], list[NewEvent]], *, by: str = "alice"
    ) -> list[Event]:
        new = decide(self.state, self.now)
        events = stamp(
            self.state.number, self.state.version, self.state.last_hash, new, actor=by, recorded_at=self.now
        )
        for event in events:
            apply(self.state, event)
        self.events.extend(events)
        return events

    def record(self, kind: str, payload: dict[str, Any], *, by: str = "alice") -> list[Event]:
        """Append an event of a kind no command in the core emits (postmortems, follow-ups)."""
        return self.do(lambda s, now: [NewEvent(kind, payload, now)], by=by)
