"""The transactional outbox: notifications are written with the events that cause them and
delivered afterwards, with retries, until the channel accepts them or they are dead.

1. :func:`announce` runs inside the transaction that appends an incident's events and
   adds one outbox row per notifying event. If the transaction rolls back, so do they;
   if it commits, they exist and will be sent: nothing is lost between the two.
2. :func:`route_pending` fans each new row out into one delivery per channel (its routes'
   channels and, for status updates, the stakeholders of its audience).
3. :func:`deliver_due` leases one due delivery at a time (the attempt is counted at the
   lease), sends it outside any transaction, and records the result under the lease:
   delivered; or a retry at the ``RetryPolicy``'s backoff (later if the receiver asked
   with ``Retry-After``); or dead after the last attempt or a permanent refusal. A worker
   killed mid-send leaves its lease to expire; then the delivery is due again and goes
   out with the same idempotency key. Delivery is therefore at least once.
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from warroom.domain.comms.announcements import NOTIFYING_EVENTS, event_notification
from warroom.domain.comms.notifications import (
    ChannelSpec,
    DeliveryFailed,
    Notification,
    RetryPolicy,
    Route,
    route,
)
from warroom.domain.comms.stakeholders import Stakeholder, is_email, merged, recipients
from warroom.domain.incidents.catalog import Catalog
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ValidationError
from warroom.services.ports.comms import Delivery, Notifier, OutboxMessage
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

log = logging.getLogger("warroom.outbox")

STATUSES = ("pending", "delivered", "dead")
EMAIL_PREFIX = "email:"
CONTACT_PREFIX = "contact:"


@dataclass(frozen=True)
class OutboxConfig:
    """Where notifications go and how hard warroom tries.

    ``email`` says an SMTP server is configured, so a stakeholder may be a plain address.
    ``lease`` is how long a worker owns a delivery it is sending; it must outlast the
    slowest send, because a lease that runs out makes the delivery due again.
    """

    channels: Mapping[str, ChannelSpec] = field(default_factory=dict)
    routes: Sequence[Route] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    base_url: str | None = None
    lease: timedelta = timedelta(seconds=60)
    email: bool = False
    # On call: resolves a ``contact:PERSON:METHOD`` channel to that person's contact method
    # at delivery time (None: no on-call contacts here).
    contacts: Callable[[str], ChannelSpec | None] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.channels) or self.email or self.contacts is not None


@dataclass
class DeliveryReport:
    routed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def attempts(self) -> int:
        return self.delivered + self.retrying + self.dead


# --- 1. Writing: in the transaction of the event ------------------------------------------


def team_of(catalog: Catalog, services: Sequence[str]) -> str | None:
    """The owning team of the first affected service the catalog knows."""
    for name in services:
        found = catalog.service(name)
        if found is not None:
            return found.team
    return None


def catalog_or_empty(ctx: Context) -> Catalog:
    # A broken catalog must not block the incident's own commands; the notification then
    # goes out without a team or playbook stakeholders (and the log says why).
    try:
        return ctx.catalog
    except Exception as exc:
        log.warning("notifications without the catalog: %s", str(exc).splitlines()[0])
        return Catalog()


def playbook_stakeholders(ctx: Context, state: IncidentState) -> list[str]:
    """The stakeholders the affected services' playbooks name."""
    found: list[str] = []
    catalog = catalog_or_empty(ctx)
    for name in state.services:
        service = catalog.service(name)
        if service is not None:
            found.extend(s for s in service.playbook.stakeholders if s not in found)
    return found


def stakeholders_of(ctx: Context, uow: UnitOfWork, state: IncidentState) -> list[Stakeholder]:
    """The playbooks' stakeholders of the affected services, with this incident's changes."""
    return merged(playbook_stakeholders(ctx, state), uow.stakeholders.changes(state.number))


def announce(ctx: Context, uow: UnitOfWork, events: Sequence[Event], state: IncidentState) -> int:
    """Add the notifications of ``events`` (just appended, ``state`` after them) to the
    outbox of the current transaction; returns how many."""
    # In-memory fakes of the unit of work that predate the outbox have none; they record
    # nothing rather than fail every command.
    if getattr(uow, "outbox", None) is None:
        return 0
    notifying = [event for event in events if event.kind in NOTIFYING_EVENTS]
    if not notifying:
        return 0
    team = team_of(catalog_or_empty(ctx), state.services)
    added = 0
    for event in notifying:
        n = event_notification(event, state, team=team)
        if n is None:
            continue
        targets: tuple[str, ...] = ()
        if event.kind == "status_update_posted":
            audience = str(event.payload.get("audience", "internal"))
            targets = tuple(recipients(stakeholders_of(ctx, uow, state), audience))
        added += uow.outbox.add(OutboxMessage(n, targets), event.recorded_at)
    return added


# --- 2. Routing --------------------------------------------------------------------------


def channel_names(message: OutboxMessage, config: OutboxConfig) -> list[str]:
    """The channels ``message`` goes to: its routes', then its stakeholders' (an email
    address becomes ``email:ADDRESS``); none while no channel is configured."""
    if not config.enabled:
        return []
    # A page goes to the contact methods it names, never along the broadcast routes.
    names = [] if message.notification.kind == "page" else route(message.notification, config.routes)
    for target in message.targets:
        name = f"{EMAIL_PREFIX}{target}" if is_email(target) else target
        if name not in names:
            names.append(name)
    return names


def route_pending(ctx: Context, config: OutboxConfig, limit: int = 200) -> int:
    """Fan new outbox rows out into deliveries; returns how many rows were routed."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        batch = uow.outbox.unrouted(limit)
        for message_id, message in batch:
            uow.outbox.route(message_id, channel_names(message, config), now)
        uow.commit()
    return len(batch)


# --- 3. Delivering -----------------------------------------------------------------------


def resolve_channel(name: str, config: OutboxConfig) -> ChannelSpec | None:
    if name.startswith(CONTACT_PREFIX):
        return config.contacts(name) if config.contacts is not None else None
    if name.startswith(EMAIL_PREFIX):
        return ChannelSpec(name, "email", (name[len(EMAIL_PREFIX) :],)) if config.email else None
    return config.channels.get(name)


def with_link(n: Notification, base_url: str | None) -> Notification:
    if not base_url or not n.incident:
        return n
    return replace(n, url=f"{base_url.rstrip('/')}/incidents/{n.incident}")


@dataclass(frozen=True)
class _Result:
    status: str
    error: str | None = None
    next_attempt_at: Any = None


def _attempt(
    claimed: Delivery, config: OutboxConfig, notifier: Notifier, ctx: Context, rand: Callable[[], float]
) -> _Result:
    if claimed.attempts > config.retry.max_attempts:
        # A worker leased the last attempt and never reported back (it was killed).
        return _Result("dead", "the last attempt was interrupted; `warroom outbox retry` sends it again")
    channel = resolve_channel(claimed.channel, config)
    if channel is None:
        what = (
            "no SMTP server is configured ([notify.smtp])"
            if claimed.channel.startswith(EMAIL_PREFIX)
            else f"{claimed.channel} is no longer a contact method (or SMTP is not configured for email)"
            if claimed.channel.startswith(CONTACT_PREFIX)
            else (f"no channel named {claimed.channel} in [[notify.channels]]")
        )
        return _Result("dead", what)
    try:
        notifier.send(with_link(claimed.notification, config.base_url), channel)
    except DeliveryFailed as failure:
        now = ctx.clock.now()
        later = config.retry.next_attempt_at(claimed.attempts, now, rand()) if failure.retryable else None
        if later is None:
            reason = (
                "permanent refusal" if not failure.retryable else f"gave up after {claimed.attempts} attempts"
            )
            return _Result("dead", f"{failure.message} ({reason})")
        if failure.retry_after is not None:
            later = max(later, now + failure.retry_after)
        return _Result("pending", failure.message, later)
    except Exception as exc:  # a bug in an adapter must not lose the notification
        log.exception("delivery %s to %s failed unexpectedly", claimed.id, claimed.channel)
        now = ctx.clock.now()
        later = config.retry.next_attempt_at(claimed.attempts, now, rand())
        message = f"{type(exc).__name__}: {str(exc)[:200]}"
        return _Result("dead", message) if later is None else _Result("pending", message, later)
    return _Result("delivered")


def deliver_due(
    ctx: Context,
    config: OutboxConfig,
    notifier: Notifier,
    *,
    limit: int = 200,
    rand: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Send up to ``limit`` due deliveries, one lease at a time."""
    report = DeliveryReport()
    for _ in range(limit):
        now = ctx.clock.now()
        token = secrets.token_hex(16)
        with ctx.uow() as uow:
            claimed = uow.outbox.claim(now, now + config.lease, token)
            uow.commit()
        if claimed is None:
            break
        result = _attempt(claimed, config, notifier, ctx, rand)
        with ctx.uow() as uow:
            kept = uow.outbox.finish(
                claimed.id,
                token,
                at=ctx.clock.now(),
                status=result.status,
                error=result.error,
                next_attempt_at=result.next_attempt_at,
            )
            uow.commit()
        if not kept:
            log.warning("delivery %s: lease expired during the attempt; another worker owns it", claimed.id)
        if result.status == "delivered":
            report.delivered += 1
        elif result.status == "dead":
            report.dead += 1
        else:
            report.retrying += 1
    return report


def deliver(
    ctx: Context,
    config: OutboxConfig,
    notifier: Notifier,
    *,
    limit: int = 200,
    rand: Callable[[], float] = random.random,
) -> DeliveryReport:
    """Route what is new, then send what is due: one pass of the delivery job."""
    routed = route_pending(ctx, config, limit)
    report = deliver_due(ctx, config, notifier, limit=limit, rand=rand)
    report.routed = routed
    return report


# --- Looking and retrying ----------------------------------------------------------------


def list_deliveries(ctx: Context, status: str | None = "dead", limit: int = 100) -> list[Delivery]:
    """Newest first; ``status`` None (or ``all``) lists every status."""
    if status == "all":
        status = None
    if status is not None and status not in STATUSES:
        raise ValidationError("status", f"{status!r} is not one of {', '.join((*STATUSES, 'all'))}")
    if not 1 <= limit <= 10_000:
        raise ValidationError("limit", "must be 1..10000")
    with ctx.uow() as uow:
        return uow.outbox.deliveries(status, limit)


def retry_deliveries(ctx: Context, ids: Sequence[int] = (), *, all_dead: bool = False) -> list[int]:
    """Make dead deliveries (all, or the given ones) due now with a fresh set of attempts;
    they keep their idempotency key. Returns the ids that will be retried."""
    if not ids and not all_dead:
        raise ValidationError("ids", "name deliveries to retry, or retry all dead ones")
    with ctx.uow() as uow:
        retried = uow.outbox.retry(list(ids), all_dead, ctx.clock.now())
        uow.commit()
    return retried


def outbox_counts(ctx: Context) -> dict[str, int]:
    with ctx.uow() as uow:
        return uow.outbox.counts()
