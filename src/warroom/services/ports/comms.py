"""Ports of comms: notifiers, the transactional outbox, stakeholders and the job leases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from warroom.domain.comms.notifications import ChannelSpec, Notification
    from warroom.domain.comms.stakeholders import StakeholderChange


class Notifier(Protocol):
    def send(self, n: Notification, channel: ChannelSpec) -> None:
        """Deliver ``n`` to ``channel``, or raise ``warroom.domain.comms.notifications.DeliveryFailed``."""
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
