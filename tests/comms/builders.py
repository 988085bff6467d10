"""An incident in memory, stamped and folded as storage would: for the pure tests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from tests.comms.support import T0
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import GENESIS, stamp
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.events import Event, NewEvent
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import Impact, IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.shared.timefmt import iso

POLICY = ResponsePolicy()


def declaration(share: float = 0.12, **overrides: Any) -> Declaration:
    return Declaration(
        title=overrides.pop("title", "Checkout returns 5xx"),
        kind=IncidentKind.AVAILABILITY,
        services=overrides.pop("services", ["checkout"]),
        impact=Impact(customer_share=share),
        **overrides,
    )


class Room:
    """``do`` runs a domain command at the room's current time."""

    def __init__(
        self, decl: Declaration | None = None, *, at: datetime = T0, policy: ResponsePolicy = POLICY
    ):
        self.now = at
        self.policy = policy
        declared = rules.declare(decl or declaration(), now=at, policy=policy)
        self.events: list[Event] = stamp(1, 0, GENESIS, [declared], actor="alice", recorded_at=at)
        self.state: IncidentState = apply(None, self.events[0])

    def later(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def do(
        self, decide: Callable[[IncidentState, datetime], list[NewEvent]], by: str = "alice"
    ) -> list[Event]:
        new = stamp(
            self.state.number, self.state.version, self.state.last_hash, decide(self.state, self.now),
            actor=by, recorded_at=self.now,
        )  # fmt: skip
        for event in new:
            apply(self.state, event)
        self.events.extend(new)
        return new

    def assign(self, role: Role, person: str) -> None:
        self.do(lambda s, now: rules.assign_role(s, role, person, now=now))

    def update(self, text: str = "Investigating.", audience: str = "internal") -> None:
        self.do(lambda s, now: rules.post_update(s, text, audience, now=now, policy=self.policy))

    def severity(self, sev: Severity, why: str = "judgement") -> None:
        self.do(lambda s, now: rules.override_severity(s, sev, why, now=now, policy=self.policy))

    def followup(self, title: str, owner: str, due: datetime) -> None:
        ref = f"A{self.state.counters.get('A', 0) + 1}"
        payload = {"ref": ref, "title": title, "owner": owner, "due": iso(due), "kind": "fix"}
        self.do(lambda s, now: [NewEvent("followup_added", payload, now)])

    def followup_done(self, ref: str) -> None:
        self.do(lambda s, now: [NewEvent("followup_updated", {"ref": ref, "status": "done"}, now)])
