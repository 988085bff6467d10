"""Ports of comms: notifiers, the transactional outbox, stakeholders and the job leases."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from warroom.domain.comms.notifications import ChannelSpec, Notification
    from warroom.domain.comms.stakeholders import StakeholderChange
    from warroom.domain.comms.subscribers import Subscriber


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


@dataclass(frozen=True)
class ChannelState:
    """One channel as the outbox sees it: its deliveries by status and its health.

    ``failures`` counts consecutive failed attempts (reset by a delivery); ``open_until``
    is set while the circuit is open (no attempts before then, then one probe).
    """

    name: str
    pending: int = 0
    delivered: int = 0
    dead: int = 0
    failures: int = 0
    open_until: datetime | None = None
    last_error: str | None = None
    last_failure_at: datetime | None = None
    last_success_at: datetime | None = None
    dead_error: str | None = None  # why the newest dead delivery died

    @property
    def circuit_open(self) -> bool:
        return self.open_until is not None

    @property
    def degraded(self) -> bool:
        """Failing now, or holding dead letters."""
        return self.circuit_open or self.failures > 0 or self.dead > 0


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

    def claim(
        self, now: datetime, lease_until: datetime, token: str, channel: str | None = None
    ) -> Delivery | None:
        """Lease the next due pending delivery (to ``channel`` when given; skipping ones
        leased by others) and count the attempt; returns it with ``lease_token`` set, or
        None when nothing is due."""
        ...

    def due_channels(self, now: datetime) -> dict[str, int]:
        """Channels with due, unleased pending deliveries, and how many each has."""
        ...

    def open_circuits(self) -> dict[str, datetime]:
        """Channels whose circuit is open (cooling down, or waiting for its probe), and until when."""
        ...

    def admit(self, channel: str, now: datetime, probe_until: datetime) -> str | None:
        """May an attempt go to ``channel`` now? ``closed`` (yes), ``probe`` (the circuit
        was open and its cool-down is over: this is the one probe, and the circuit stays
        open until ``probe_until`` for everyone else), or None (open: no)."""
        ...

    def record(
        self,
        channel: str,
        ok: bool,
        *,
        at: datetime,
        error: str | None = None,
        open_after: int,
        open_until: datetime,
    ) -> None:
        """An attempt's effect on ``channel``'s health: a delivery closes the circuit; a
        failure counts, and the ``open_after``-th consecutive one opens it until ``open_until``."""
        ...

    def channels(self, incident: int | None = None, *, delivered: bool = True) -> list[ChannelState]:
        """Every channel with deliveries (of ``incident`` only, when given) or a health
        record, by name; ``delivered`` False skips counting delivered ones (the costly part)."""
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


class SubscriberLinks(Protocol):
    """Signed, expiring tokens for the confirm and unsubscribe links of a subscriber."""

    def sign(self, purpose: str, subscriber_id: int, target: str) -> str:
        """A token for ``purpose`` (``confirm`` or ``unsubscribe``) bound to the subscriber."""
        ...

    def verify(self, purpose: str, token: str) -> tuple[int, str]:
        """The subscriber id and a digest of its target, or a ``ValidationError`` saying
        why not (forged, altered, made for another purpose, expired)."""
        ...

    def digest(self, target: str) -> str:
        """What a token holds of the target, to tell a reused id apart."""
        ...


class SubscriberStore(Protocol):
    def get(self, subscriber_id: int) -> Subscriber | None: ...

    def find(self, kind: str, target: str) -> Subscriber | None: ...

    def add(
        self,
        kind: str,
        target: str,
        *,
        services: Sequence[str],
        state: str,
        secret: str | None,
        at: datetime,
    ) -> int:
        """A new subscriber (pending: ``services`` wait for the confirmation); its id."""
        ...

    def ask_again(self, subscriber_id: int, services: Sequence[str], at: datetime) -> None:
        """A new confirmation mail goes out now, for ``services``."""
        ...

    def confirm(self, subscriber_id: int, at: datetime) -> bool:
        """Make the pending choice of services the subscription; False when it is gone."""
        ...

    def remove(self, subscriber_id: int) -> bool: ...

    def list(self, *, confirmed_only: bool = False, limit: int = 1000) -> list[Subscriber]:
        """Oldest first."""
        ...


class JobStore(Protocol):
    def claim(self, name: str, now: datetime, lease_until: datetime, token: str) -> bool:
        """Lease job ``name`` when it is due and nobody else holds it."""
        ...

    def finish(
        self, name: str, token: str, *, at: datetime, next_run_at: datetime, error: str | None
    ) -> None: ...

    def open_incidents(self) -> list[int]: ...

    def incidents_with_followups(self) -> list[int]: ...
