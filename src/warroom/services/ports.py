"""The ports through which use cases talk to the world; adapters implement them.

Use cases depend on these Protocols only, so the unit tests run them against honest
in-memory fakes and the product runs them against SQLAlchemy, httpx and SMTP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:  # annotations only: importing every domain module here slowed CLI start-up
    from warroom.domain.alert_policy import AlertRecord, Known, Outcome, Route, Silence
    from warroom.domain.alerts import AlertSignal
    from warroom.domain.changes import Change
    from warroom.domain.events import Event
    from warroom.domain.notifications import ChannelSpec, Notification
    from warroom.domain.stakeholders import StakeholderChange
    from warroom.domain.state import IncidentState
    from warroom.services.learning_ports import LearningStore


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
    source: str | None = None  # the one webhook source an ingest token opens


class TokenStore(Protocol):
    def add(
        self, name: str, role: str, token_hash: str, created_at: datetime, source: str | None = None
    ) -> TokenInfo:
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


class Notifier(Protocol):
    def send(self, n: Notification, channel: ChannelSpec) -> None:
        """Deliver ``n`` to ``channel``, or raise ``warroom.domain.notifications.DeliveryFailed``."""
        ...


@dataclass(frozen=True)
class OutboxMessage:
    """A notification to send, and the stakeholder targets it goes to besides its routes."""

    notification: Notification
    targets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Delivery:
    """One notification to one channel: pending (maybe leased), delivered or dead."""

    id: int
    notification: Notification
    channel: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    updated_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None
    lease_token: str | None = None


class OutboxStore(Protocol):
    def add(self, message: OutboxMessage, at: datetime) -> bool:
        """Store ``message`` unless its key is already stored; True when it was new."""
        ...

    def unrouted(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        """Messages not yet fanned out to channels, oldest first, locked (skipping locked ones)."""
        ...

    def route(self, message_id: int, channels: Sequence[str], at: datetime) -> None:
        """Create a pending delivery per channel (each once) and mark the message routed."""
        ...

    def claim(self, now: datetime, lease_until: datetime, token: str) -> Delivery | None:
        """Lease the next due pending delivery (skipping ones leased by others) and count
        the attempt; returns it with ``lease_token`` set, or None when nothing is due."""
        ...

    def finish(
        self,
        delivery_id: int,
        token: str,
        *,
        at: datetime,
        status: str,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        """Record an attempt's result if the lease ``token`` is still ours; False when not."""
        ...

    def deliveries(self, status: str | None, limit: int) -> list[Delivery]: ...

    def retry(self, ids: Sequence[int], all_dead: bool, at: datetime) -> list[int]:
        """Make dead (or, by id, pending) deliveries due again with fresh attempts."""
        ...

    def counts(self) -> dict[str, int]:
        """Deliveries by status, and ``unrouted`` messages."""
        ...


class StakeholderStore(Protocol):
    def changes(self, number: int) -> list[StakeholderChange]: ...

    def put(self, number: int, change: StakeholderChange, by: str, at: datetime) -> None:
        """Record an addition or a removal (replacing any earlier one for the target)."""
        ...

    def drop(self, number: int, target: str) -> None: ...


class JobStore(Protocol):
    def claim(self, name: str, now: datetime, lease_until: datetime, token: str) -> bool:
        """Lease job ``name`` when it is due and nobody else holds it."""
        ...

    def finish(
        self, name: str, token: str, *, at: datetime, next_run_at: datetime, error: str | None
    ) -> None: ...

    def open_incidents(self) -> list[int]: ...

    def incidents_with_followups(self) -> list[int]: ...


@dataclass(frozen=True)
class IngestView:
    """What one ingest transaction decides on, read after its service locks were granted:
    the stored alerts of the fingerprints read, and, of the locked services, the newest
    open incident and those silenced now."""

    known: dict[str, Known]
    open_incidents: dict[str, int]
    silenced: frozenset[str]


class AlertStore(Protocol):
    """Alerts, one per (source, fingerprint); every write is idempotent across processes."""

    def lock_services(self, services: Iterable[str]) -> None:
        """Serialise check-then-declare per service for this transaction."""
        ...

    def begin_ingest(
        self, services: Iterable[str], source: str, fingerprints: Sequence[str], now: datetime
    ) -> IngestView:
        """Lock ``services`` (as :meth:`lock_services`), then read what ingest decides on;
        on PostgreSQL in one round trip."""
        ...

    def known(self, source: str, fingerprints: Sequence[str]) -> dict[str, Known]: ...

    def insert(
        self,
        rows: Sequence[tuple[AlertSignal, Route]],
        now: datetime,
        transitions: Mapping[str, Sequence[tuple[str, datetime]]] | None = None,
    ) -> dict[str, int]:
        """Insert new alerts and their (status, at) transitions by fingerprint; fingerprint
        -> id of those inserted (existing ones, and their transitions, are skipped)."""
        ...

    def update(
        self, rows: Sequence[tuple[int, AlertSignal, Outcome, Route | None]], now: datetime
    ) -> None: ...

    def add_transitions(self, rows: Sequence[tuple[int, str, datetime]], now: datetime) -> None:
        """Record (alert id, firing|resolved, when) transitions."""
        ...

    def attach(self, alert_ids: Sequence[int], number: int) -> None: ...

    def open_incidents(self, services: Iterable[str]) -> dict[str, int]:
        """The newest open incident of each service that has one."""
        ...

    def queued(self, service: str | None = None, *, limit: int | None = None) -> list[AlertRecord]:
        """Firing alerts attached to no incident, by service then start."""
        ...

    def queue_counts(self) -> dict[str, int]: ...

    def for_incident(self, number: int) -> list[AlertRecord]: ...

    def get(self, source: str, fingerprint: str) -> AlertRecord | None: ...

    def history(self, alert_id: int) -> list[tuple[str, datetime]]: ...

    def add_silence(self, silence: Silence) -> None: ...

    def silences(self, now: datetime) -> dict[str, Silence]:
        """The longest silence in force at ``now``, per service."""
        ...

    def silenced(self, services: Iterable[str], now: datetime) -> set[str]:
        """Which of ``services`` have a silence in force at ``now``."""
        ...

    def add_changes(self, items: Sequence[Change]) -> list[tuple[Change, bool]]:
        """Store changes deduplicated on ``dedup``; each with its id and whether it is new."""
        ...


class UnitOfWork(Protocol):
    @property
    def incidents(self) -> IncidentStore: ...

    @property
    def alerts(self) -> AlertStore: ...

    @property
    def changes(self) -> ChangeStore: ...

    @property
    def tokens(self) -> TokenStore: ...

    @property
    def idempotency(self) -> IdempotencyStore: ...

    @property
    def learning(self) -> LearningStore: ...

    @property
    def outbox(self) -> OutboxStore: ...

    @property
    def stakeholders(self) -> StakeholderStore: ...

    @property
    def jobs(self) -> JobStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...


# --- the impact probe's window on the metrics ----------------------------------------


class MetricsUnavailable(Exception):
    """The metrics backend gave no usable answer; the message is one line for a person.

    `rejected` is True when the backend answered but refused this one query (a wrong
    query), so other queries may still work; False when the backend itself is down,
    slow or failing, and asking it again within the same command is pointless.
    """

    def __init__(self, message: str, *, rejected: bool = False) -> None:
        super().__init__(message)
        self.rejected = rejected


@dataclass(frozen=True)
class MetricSeries:
    """One labelled series of a range query: (aware UTC time, value) points, oldest first."""

    labels: Mapping[str, str]
    points: tuple[tuple[datetime, float], ...]


class MetricsSource(Protocol):
    def query_range(
        self,
        expr: str,
        start: datetime,
        end: datetime,
        step: timedelta,
        *,
        url: str | None = None,
        timeout: float | None = None,
    ) -> list[MetricSeries]:
        """Evaluate PromQL ``expr`` every ``step`` from ``start`` to ``end``.

        ``url`` names the Prometheus to ask (None: the configured default); ``timeout``
        caps this call in seconds (below the source's own limit). Raises
        ``MetricsUnavailable`` for every failure to get an answer.
        """
        ...

    def has_url(self, url: str | None = None) -> bool:
        """Whether a Prometheus is configured for ``url`` (None: the default)."""
        ...
