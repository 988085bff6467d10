"""Honest in-memory fakes of the ports in ``warroom.services.ports``.

They keep the contracts the SQL adapters keep (transactions that roll back unless
committed, appends with the expected version, dedup of changes, newest-first windows), so
the use cases can be unit tested in milliseconds without patching anything.

They cover the stores the incident core uses (incidents, changes, tokens, idempotency);
the alert, learning, outbox, stakeholder and job stores have fakes of their own where
those features are tested. ``announce`` records nothing on a unit of work without an
outbox, which is what these fakes are.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Self

from warroom.domain.incidents.catalog import Catalog
from warroom.domain.incidents.changes import Change
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.fold import fold
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound, ValidationError
from warroom.services.ports.idempotency import StoredResponse
from warroom.services.ports.identity import TokenInfo
from warroom.services.ports.incidents import IncidentFilter, IncidentSummary
from warroom.services.shared.context import Context

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> datetime:
        self.current += timedelta(**delta)
        return self.current


@dataclass
class Tables:
    """The committed contents of the fake database."""

    events: dict[int, list[Event]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    tokens: list[tuple[TokenInfo, str]] = field(default_factory=list)
    responses: dict[tuple[str, str], StoredResponse] = field(default_factory=dict)
    next_number: int = 1
    next_change: int = 1

    def copy(self) -> Tables:
        return Tables(
            events={number: list(rows) for number, rows in self.events.items()},
            changes=list(self.changes),
            tokens=list(self.tokens),
            responses=dict(self.responses),
            next_number=self.next_number,
            next_change=self.next_change,
        )


class FakeIncidentStore:
    def __init__(self, tables: Tables) -> None:
        self._t = tables
        self.reserved: set[int] = set()

    def allocate_number(self) -> int:
        number = self._t.next_number
        self._t.next_number += 1
        self.reserved.add(number)
        return number

    def load(self, number: int) -> IncidentState:
        rows = self._t.events.get(number)
        if not rows:
            raise NotFound(f"no incident INC-{number}")
        return fold(rows)

    def append(self, events: Sequence[Event], state: IncidentState, *, attach: Sequence[int] = ()) -> None:
        if not events:
            return
        number = events[0].incident
        expected = events[0].seq - 1
        rows = self._t.events.get(number)
        if rows is None and number not in self.reserved:
            raise NotFound(f"no incident INC-{number}")
        current = len(rows or [])
        if current != expected:
            raise ConcurrencyConflict(
                f"INC-{number} changed while you were working on it (now at event #{current}, "
                f"you had #{expected}); look again and retry"
            )
        self._t.events.setdefault(number, []).extend(events)

    def events(
        self,
        number: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Event]:
        rows = [e for e in self._t.events.get(number, []) if e.seq > after]
        if before is not None:
            rows = [e for e in rows if e.seq < before]
        if newest_first:
            rows.reverse()
        return rows[:limit] if limit is not None else rows

    def summaries(self, filters: IncidentFilter) -> list[IncidentSummary]:
        found: list[IncidentSummary] = []
        for number in self._t.events:
            state = self.load(number)
            if filters.status and state.status.value != filters.status:
                continue
            if filters.severity and int(state.severity) != filters.severity:
                continue
            if filters.open_only and not state.status.is_open:
                continue
            if filters.service and filters.service not in state.services:
                continue
            commander = state.roles.get(Role.COMMANDER.value)
            declared, detected = state.at("declared_at"), state.at("detected_at")
            assert declared and detected and state.updated_at
            found.append(
                IncidentSummary(
                    number=number,
                    title=state.title,
                    status=state.status.value,
                    severity=state.severity.name,
                    kind=state.kind.value,
                    services=list(state.services),
                    commander=commander.person if commander else None,
                    declared_at=declared,
                    detected_at=detected,
                    updated_at=state.updated_at,
                    version=state.version,
                )
            )
        found.sort(
            key=lambda s: (s.status not in ("triage", "mitigating", "mitigated"), s.severity, -s.number)
        )
        return found[: filters.limit]

    def numbers(self) -> list[int]:
        return sorted(self._t.events)

    def version(self, number: int) -> int | None:
        rows = self._t.events.get(number)
        return len(rows) if rows else None


class FakeChangeStore:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, change: Change) -> tuple[Change, bool]:
        if change.dedup is not None:
            for existing in self._t.changes:
                if existing.dedup == change.dedup:
                    return existing, False
        stored = replace(change, id=self._t.next_change)
        self._t.next_change += 1
        self._t.changes.append(stored)
        return stored, True

    def between(self, services: Sequence[str], start: datetime, end: datetime) -> list[Change]:
        found = [c for c in self._t.changes if c.service in services and start <= c.at <= end]
        return sorted(found, key=lambda c: (c.at, c.id or 0), reverse=True)


class FakeTokenStore:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def add(self, name: str, role: str, token_hash: str, created_at: datetime) -> TokenInfo:
        if self.by_name(name) is not None:
            raise ValidationError("name", f"a token named {name!r} exists")
        info = TokenInfo(len(self._t.tokens) + 1, name, role, created_at)
        self._t.tokens.append((info, token_hash))
        return info

    def by_hash(self, token_hash: str) -> tuple[TokenInfo, str] | None:
        return next(((i, h) for i, h in self._t.tokens if h == token_hash), None)

    def by_name(self, name: str) -> TokenInfo | None:
        return next((i for i, _ in self._t.tokens if i.name == name), None)

    def by_id(self, token_id: int) -> TokenInfo | None:
        return next((i for i, _ in self._t.tokens if i.id == token_id), None)

    def all(self) -> list[TokenInfo]:
        return [i for i, _ in self._t.tokens]

    def _replace(self, token_id: int, **changes: datetime) -> None:
        self._t.tokens = [
            (dataclasses.replace(i, **changes) if i.id == token_id else i, h) for i, h in self._t.tokens
        ]

    def revoke(self, token_id: int, at: datetime) -> None:
        self._replace(token_id, revoked_at=at)

    def touch(self, token_id: int, at: datetime) -> None:
        self._replace(token_id, last_used_at=at)


class FakeIdempotencyStore:
    def __init__(self, tables: Tables) -> None:
        self._t = tables

    def reserve(self, record: StoredResponse) -> StoredResponse | None:
        existing = self._t.responses.get((record.actor, record.key))
        if existing is not None:
            return existing
        self._t.responses[(record.actor, record.key)] = record
        return None

    def complete(self, actor: str, key: str, status: int, body: str) -> None:
        found = self._t.responses[(actor, key)]
        self._t.responses[(actor, key)] = replace(found, status=status, body=body)

    def release(self, actor: str, key: str) -> None:
        self._t.responses.pop((actor, key), None)


class FakeDatabase:
    """Committed tables shared by every unit of work made from it."""

    def __init__(self) -> None:
        self.tables = Tables()
        self.commits = 0

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class FakeUnitOfWork:
    """Works on a copy of the committed tables; ``commit`` publishes it, leaving discards it."""

    def __init__(self, db: FakeDatabase) -> None:
        self._db = db
        self._work: Tables | None = None
        self._incidents: FakeIncidentStore | None = None

    def __enter__(self) -> Self:
        self._work = self._db.tables.copy()
        self._incidents = FakeIncidentStore(self._work)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._work = None
        self._incidents = None

    def _tables(self) -> Tables:
        assert self._work is not None, "use the unit of work inside a with block"
        return self._work

    @property
    def incidents(self) -> FakeIncidentStore:
        assert self._incidents is not None, "use the unit of work inside a with block"
        return self._incidents

    @property
    def changes(self) -> FakeChangeStore:
        return FakeChangeStore(self._tables())

    @property
    def tokens(self) -> FakeTokenStore:
        return FakeTokenStore(self._tables())

    @property
    def idempotency(self) -> FakeIdempotencyStore:
        return FakeIdempotencyStore(self._tables())

    def commit(self) -> None:
        work = self._tables()
        self._db.tables = work.copy()
        self._db.commits += 1


def fake_context(
    db: FakeDatabase,
    clock: FakeClock,
    *,
    policy: ResponsePolicy | None = None,
    catalog: Catalog | None = None,
) -> Context:
    return Context(
        uow=db.uow,
        clock=clock,
        policy=policy or ResponsePolicy(),
        load_catalog=(lambda: catalog) if catalog is not None else Catalog,
    )
