"""The unit of work every use case runs in, and the clock it reads."""

from __future__ import annotations

from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

if TYPE_CHECKING:
    from warroom.services.ports.alerts import AlertStore
    from warroom.services.ports.comms import JobStore, OutboxStore, StakeholderStore, SubscriberStore
    from warroom.services.ports.idempotency import IdempotencyStore
    from warroom.services.ports.identity import AccountStore, TokenStore
    from warroom.services.ports.incidents import ChangeStore, IncidentStore
    from warroom.services.ports.learning import LearningStore
    from warroom.services.ports.oncall import OncallStore
    from warroom.services.ports.statuspage import StatusPageStore


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
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
    def accounts(self) -> AccountStore: ...

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

    @property
    def oncall(self) -> OncallStore: ...

    @property
    def subscribers(self) -> SubscriberStore: ...

    @property
    def statuspage(self) -> StatusPageStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    def commit(self) -> None: ...
