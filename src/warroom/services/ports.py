"""The ports through which use cases talk to the world; adapters implement them.

Use cases depend on these Protocols only, so the unit tests run them against honest
in-memory fakes and the product runs them against SQLAlchemy, httpx and SMTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol, Self

from warroom.domain.changes import Change
from warroom.domain.events import Event
from warroom.domain.state import IncidentState


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


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

    def append(self, events: Sequence[Event], state: IncidentState) -> None:
        """Append ``events`` after version ``events[0].seq - 1`` and store the new ``state``.

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


@dataclass(frozen=True)
class TokenInfo:
    """An API token as shown to people: never its secret, never its hash."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None


class TokenStore(Protocol):
    def add(self, name: str, role: str, token_hash: str, created_at: datetime) -> TokenInfo:
        """Store a new token; raises ``ValidationError`` (field ``name``) when the name is taken."""
        ...

    def by_hash(self, token_hash: str) -> tuple[TokenInfo, str] | None:
        """The token whose sha256 is ``token_hash`` and the stored hash, for a constant-time check."""
        ...

    def by_name(self, name: str) -> TokenInfo | None: ...

    def by_id(self, token_id: int) -> TokenInfo | None: ...

    def all(self) -> list[TokenInfo]: ...

    def revoke(self, token_id: int, at: datetime) -> None: ...

    def touch(self, token_id: int, at: datetime) -> None:
        """Record that the token was used at ``at``."""
        ...


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to a POST carrying an ``Idempotency-Key``; status 0 while in flight."""

    actor: str
    key: str
    method: str
    path: str
    request_hash: str
    status: int
    body: str
    created_at: datetime


class IdempotencyStore(Protocol):
    def reserve(self, record: StoredResponse) -> StoredResponse | None:
        """Claim ``(record.actor, record.key)``; returns the existing record when already claimed."""
        ...

    def complete(self, actor: str, key: str, status: int, body: str) -> None: ...

    def release(self, actor: str, key: str) -> None:
        """Forget a claim whose request failed, so a retry runs again."""
        ...


class UnitOfWork(Protocol):
    @property
    def incidents(self) -> IncidentStore: ...

    @property
    def changes(self) -> ChangeStore: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...
