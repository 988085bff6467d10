"""The transactional outbox: notifications are written with the events that cause them and
delivered afterwards, with retries, until the channel accepts them or they are dead.

1. :func:`announce` runs inside the transaction that appends an incident's events and
   adds one outbox row per notifying event. If the transaction rolls back, so do they;
   if it commits, they exist and will be sent: nothing is lost between the two.
2. :func:`route_pending` fans each new row out into one delivery per channel (its routes'
   channels and, for status updates, the stakeholders of its audience). It never waits
   on a delivery.
3. :class:`warroom.services.comms.delivery.Dispatcher` serves the due deliveries channel
   by channel, each channel in its own bounded lane, so a slow or dead receiver delays
   only its own deliveries. Each attempt is leased (and counted) first, sent outside any
   transaction within a hard deadline, and its result recorded under the lease:
   delivered; or a retry at the ``RetryPolicy``'s backoff (later if the receiver asked
   with ``Retry-After``), scheduled in the store and never slept; or dead after the last
   attempt or a permanent refusal. A worker killed mid-send leaves its lease to expire;
   then the delivery is due again and goes out with the same idempotency key. Delivery is
   therefore at least once. Consecutive failures open the channel's circuit (see
   :class:`OutboxConfig`), which every worker sees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from warroom.domain.comms.announcements import NOTIFYING_EVENTS, event_key, event_notification
from warroom.domain.comms.notifications import (
    DIRECT_KINDS,
    ChannelSpec,
    DeliveryFailed,
    Notification,
    RetryPolicy,
    Route,
    route,
)
from warroom.domain.comms.stakeholders import Stakeholder, is_email, merged, recipients
from warroom.domain.comms.subscribers import CHANNEL_PREFIX as SUBSCRIBER_PREFIX
from warroom.domain.comms.subscribers import public_notification
from warroom.domain.incidents.catalog import Catalog
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import ValidationError
from warroom.services.comms import subscribers
from warroom.services.comms.statuspage_cache import touch_public
from warroom.services.ports.comms import ChannelState, Delivery, Notifier, OutboxMessage
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

    ``deadline`` bounds one attempt to an HTTP channel, ``email_deadline`` one to an
    email channel: an attempt still running then counts as failed (and is retried).
    ``concurrency`` is how many attempts one channel may have in flight in a worker.
    After ``circuit_failures`` consecutive failed attempts a channel's circuit opens:
    nobody sends to it for ``circuit_cooldown``, then one probe attempt closes it (on
    success) or keeps it open for another cool-down.
    """

    channels: Mapping[str, ChannelSpec] = field(default_factory=dict)
    routes: Sequence[Route] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    base_url: str | None = None
    lease: timedelta = timedelta(seconds=60)
    email: bool = False
    deadline: timedelta = timedelta(seconds=10)
    email_deadline: timedelta = timedelta(seconds=40)
    concurrency: int = 2
    circuit_failures: int = 5
    circuit_cooldown: timedelta = timedelta(seconds=60)
    # On call: resolves a ``contact:PERSON:METHOD`` channel to that person's contact method
    # at delivery time (None: no on-call contacts here).
    contacts: Callable[[str], ChannelSpec | None] | None = None
    # The status page: resolves a ``subscriber:ID`` channel at delivery time, and adds that
    # subscriber's signed links to what it is sent (None: no subscribers here).
    subscribers: Callable[[str], ChannelSpec | None] | None = None
    personalize: Callable[[str, Notification], Notification] | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.channels) or self.email or self.contacts is not None or self.subscribers is not None

    def deadline_of(self, channel: str) -> timedelta:
        """The hard deadline of one attempt to the delivery channel named ``channel``."""
        spec = self.channels.get(channel)
        email = channel.startswith(EMAIL_PREFIX) or (spec is not None and spec.type == "email")
        return self.email_deadline if email else self.deadline


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
    touch_public(ctx, uow, events, state)  # the status page's renderings go stale with it
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
            if audience == "public":
                added += tell_subscribers(uow, event, state, subscribers.public_names(ctx, state.services))
        added += uow.outbox.add(OutboxMessage(n, targets), event.recorded_at)
    return added


def tell_subscribers(uow: UnitOfWork, event: Event, state: IncidentState, components: tuple[str, ...]) -> int:
    """One outbox message for a public update, to every matching confirmed subscriber of
    the status page (one delivery each once routed); 0 when nobody follows it.
    ``components``: the incident's services by their public names."""
    channels = subscribers.targets(uow, components)
    if not channels:
        return 0
    n = public_notification(
        event_key(event),
        state.ref,
        components,
        str(event.payload["text"]),
        final=bool(event.payload.get("final")),
        at=event.recorded_at,
    )
    return int(uow.outbox.add(OutboxMessage(n, channels), event.recorded_at))


# --- 2. Routing --------------------------------------------------------------------------


def channel_names(message: OutboxMessage, config: OutboxConfig) -> list[str]:
    """The channels ``message`` goes to: its routes', then its stakeholders' (an email
    address becomes ``email:ADDRESS``).

    A stakeholder gets a delivery even when nothing is configured to reach it: the
    delivery is then dead at once with the reason, so ``warroom outbox list``, the room
    and ``/readyz`` show that the update reached nobody there. A page goes to the contact
    methods it names, a subscriber's message to its subscribers, never along the routes."""
    direct = message.notification.kind in DIRECT_KINDS
    names = [] if direct else route(message.notification, config.routes)
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
    if name.startswith(SUBSCRIBER_PREFIX):
        return config.subscribers(name) if config.subscribers is not None else None
    if name.startswith(EMAIL_PREFIX):
        return ChannelSpec(name, "email", (name[len(EMAIL_PREFIX) :],)) if config.email else None
    return config.channels.get(name)


def with_link(n: Notification, base_url: str | None) -> Notification:
    if not base_url or not n.incident:
        return n
    return replace(n, url=f"{base_url.rstrip('/')}/incidents/{n.incident}")


@dataclass(frozen=True)
class AttemptResult:
    """An attempt's outcome; ``health`` is what it says about the channel: ``ok`` (it took
    the notification), ``failed`` (it may be down: counts toward opening its circuit) or
    None (nothing: a permanent refusal of this one message, or no attempt was made)."""

    status: str
    error: str | None = None
    next_attempt_at: Any = None
    health: str | None = None


def unconfigured(name: str, config: OutboxConfig) -> str | None:
    """Why the delivery channel ``name`` cannot be sent to (None: it can)."""
    if resolve_channel(name, config) is not None:
        return None
    if name.startswith(EMAIL_PREFIX):
        return "no SMTP server is configured ([notify.smtp])"
    if name.startswith(CONTACT_PREFIX):
        return f"{name} is no longer a contact method (or SMTP is not configured for email)"
    if name.startswith(SUBSCRIBER_PREFIX):
        return f"{name} has unsubscribed (or its webhook host is no longer allowed)"
    return f"no channel named {name} in [[notify.channels]]"


def failed(
    claimed: Delivery,
    config: OutboxConfig,
    ctx: Context,
    rand: Callable[[], float],
    message: str,
    *,
    retryable: bool = True,
    retry_after: timedelta | None = None,
) -> AttemptResult:
    """A failed attempt: retried at the backoff (or the receiver's ``Retry-After``), or
    dead when the attempts are used up or retrying cannot help."""
    now = ctx.clock.now()
    later = config.retry.next_attempt_at(claimed.attempts, now, rand()) if retryable else None
    health = "failed" if retryable else None
    if later is None:
        reason = "permanent refusal" if not retryable else f"gave up after {claimed.attempts} attempts"
        return AttemptResult("dead", f"{message} ({reason})", health=health)
    if retry_after is not None:
        later = max(later, now + retry_after)
    return AttemptResult("pending", message, later, health=health)


def attempt(
    claimed: Delivery, config: OutboxConfig, notifier: Notifier, ctx: Context, rand: Callable[[], float]
) -> AttemptResult:
    if claimed.attempts > config.retry.max_attempts:
        # A worker leased the last attempt and never reported back (it was killed).
        return AttemptResult(
            "dead", "the last attempt was interrupted; `warroom outbox retry` sends it again"
        )
    channel = resolve_channel(claimed.channel, config)
    if channel is None:
        return AttemptResult("dead", unconfigured(claimed.channel, config))
    n = with_link(claimed.notification, config.base_url)
    if config.personalize is not None and claimed.channel.startswith(SUBSCRIBER_PREFIX):
        n = config.personalize(claimed.channel, n)
    try:
        notifier.send(n, channel)
    except DeliveryFailed as failure:
        return failed(
            claimed,
            config,
            ctx,
            rand,
            failure.message,
            retryable=failure.retryable,
            retry_after=failure.retry_after,
        )
    except Exception as exc:  # a bug in an adapter must not lose the notification
        log.exception("delivery %s to %s failed unexpectedly", claimed.id, claimed.channel)
        return failed(claimed, config, ctx, rand, f"{type(exc).__name__}: {str(exc)[:200]}")
    return AttemptResult("delivered", health="ok")


# --- Looking and retrying ----------------------------------------------------------------


def list_deliveries(ctx: Context, status: str | None = "dead", limit: int = 100) -> list[Delivery]:
    """Newest first; ``status`` None (or ``all``) lists every status."""
    if status == "all":
        status = None
    if status is not None and status not in STATUSES:
        raise ValidationError("status", f"{status!r} is not one of {', '.join((*STATUSES, 'all'))}")
    if not 1 <= limit <= 10_000:
        raise ValidationError("limit", "must be 1..10000")
    with ctx.read() as uow:
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
    with ctx.read() as uow:
        return uow.outbox.counts()


def channel_states(
    ctx: Context, incident: int | None = None, *, delivered: bool = True
) -> list[ChannelState]:
    """Every channel's deliveries by status (``incident``'s only, when given) and health."""
    with ctx.read() as uow:
        return uow.outbox.channels(incident, delivered=delivered)
