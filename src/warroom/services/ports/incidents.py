"""Ports of the incidents context: the incident read model and the change log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from warroom.domain.incidents.changes import Change
    from warroom.domain.incidents.events import Event
    from warroom.domain.incidents.state import IncidentState


@dataclass(frozen=True)
class IncidentFilter:
    status: str | None = None
    severity: int | None = None
    service: str | None = None
    open_only: bool = False
    limit: int = 200


@dataclass(frozen=True)
class IncidentSummary:
    """One row of the incident list, served by the read model without folding."""

    number: int
    title: str
    status: str
    severity: str
    kind: str
    services: list[str]
    commander: str | None
    declared_at: datetime
    detected_at: datetime
    updated_at: datetime
    version: int


class IncidentStore(Protocol):
    def allocate_number(self) -> int:
        """Reserve the next incident number inside the current transaction."""
        ...

    def load(self, number: int) -> IncidentState:
        """The incident's folded state; raises ``NotFound``."""
        ...

    def append(self, events: Sequence[Event], state: IncidentState, *, attach: Sequence[int] = ()) -> None:
        """Append ``events`` after version ``events[0].seq - 1`` and store the new ``state``;
        link the alert rows ``attach`` (ids) to the incident in the same write (on PostgreSQL
        the same round trip: ingest appends under its service locks).

        Raises ``ConcurrencyConflict`` when someone else appended first.
        """
        ...

    def events(
        self,
        number: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Event]: ...

    def summaries(self, filters: IncidentFilter) -> list[IncidentSummary]: ...

    def numbers(self) -> list[int]: ...

    def version(self, number: int) -> int | None:
        """The incident's current event count, from the read model (None: no such incident)."""
        ...


class ChangeStore(Protocol):
    def add(self, change: Change) -> tuple[Change, bool]:
        """Store ``change``; returns it with its id and whether it was new (dedup)."""
        ...

    def between(self, services: Sequence[str], start: datetime, end: datetime) -> list[Change]:
        """Changes on ``services`` with ``start <= at <= end``, newest first."""
        ...
