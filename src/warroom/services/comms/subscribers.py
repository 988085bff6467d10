"""The status page's subscribers: subscribe (email with double opt-in, or webhook),
confirm, unsubscribe, list and remove; and how the outbox reaches them.

Every update they receive goes through the transactional outbox: the incident command
that posts a public update writes one outbox message whose targets are the matching
confirmed subscribers (``subscriber:ID``), routing fans it into one delivery per
subscriber, and each is retried, dead-lettered and listed like any other delivery. The
confirmation mail goes the same way. Signed links are added on the way out
(:func:`personalize`), so no token is ever stored.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from warroom.domain.comms import subscribers as rules
from warroom.domain.comms.notifications import ChannelSpec, Notification
from warroom.domain.comms.subscribers import Subscriber
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.domain.shared.timefmt import iso
from warroom.services.ports.comms import OutboxMessage, SubscriberLinks
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

View = dict[str, Any]
STATUS_PATH = "/status"


@dataclass(frozen=True)
class SubscriptionConfig:
    """``links`` sign the confirm and unsubscribe links (``secret_key``); ``base_url`` is
    where they point (``notify.base_url``); ``email`` says SMTP is configured;
    ``check_url`` refuses a webhook URL whose host resolves to a forbidden address;
    ``allow_private`` lets a webhook URL name a private or loopback host (tests, labs)."""

    links: SubscriberLinks
    base_url: str
    email: bool
    check_url: Callable[[str], None]
    allow_private: bool = False

    def link(self, path: str, token: str) -> str:
        return f"{self.base_url.rstrip('/')}{STATUS_PATH}/{path}?token={token}"


def config_of(ctx: Context) -> SubscriptionConfig:
    config = ctx.subscriptions
    if config is None:
        raise ValidationError(
            "subscription",
            "subscriptions are not available here (they need secret_key and notify.base_url)",
        )
    assert isinstance(config, SubscriptionConfig)
    return config


def public_services(ctx: Context) -> list[str]:
    """What a subscriber may pick: the status page's components, by their public names
    (the catalog's ``status_page`` entries; internal service names never leave)."""
    try:
        return sorted({s.status_page.name for s in ctx.catalog.services if s.status_page is not None})
    except Exception:  # a broken catalog: subscribing to everything still works
        return []


def public_names(ctx: Context, services: Sequence[str]) -> tuple[str, ...]:
    """The public component names of an incident's catalog services (those on the page)."""
    try:
        entries = {s.name: s.status_page for s in ctx.catalog.services}
    except Exception:
        return ()
    names = [entry.name for name in services if (entry := entries.get(name)) is not None]
    return tuple(dict.fromkeys(names))


def subscriber_view(s: Subscriber) -> View:
    """``services``: what it follows (a pending one: what its confirmation will follow)."""
    services = s.services if s.confirmed else s.pending_services
    return {
        "id": s.id,
        "kind": s.kind,
        "target": s.target,
        "services": list(services) or "all",
        "state": s.state,
        "created_at": iso(s.created_at),
        "confirmed_at": iso(s.confirmed_at) if s.confirmed_at else None,
    }


# --- The public's side --------------------------------------------------------------


def subscribe_email(ctx: Context, address: str, services: Sequence[str] = ()) -> View:
    """Store a pending subscription and queue the confirmation mail (at most one an hour
    per address: a flood is ``RateLimited`` and stores nothing)."""
    config = config_of(ctx)
    target = rules.parse_address(address)
    chosen = rules.parse_services(services, public_services(ctx))
    if not config.email:
        raise ValidationError("email", "email subscriptions are not available here (no SMTP server)")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        existing = uow.subscribers.find("email", target)
        if existing is not None:
            rules.confirmation_allowed(existing.confirm_sent_at, now)
            uow.subscribers.ask_again(existing.id, chosen, now)
            subscriber_id = existing.id
        else:
            subscriber_id = uow.subscribers.add(
                "email", target, services=chosen, state="pending", secret=None, at=now
            )
        message = OutboxMessage(
            rules.confirmation_notification(subscriber_id, now), (rules.channel_of(subscriber_id),)
        )
        uow.outbox.add(message, now)
        uow.commit()
    return {"id": subscriber_id, "kind": "email", "state": "pending", "services": list(chosen) or "all"}


def subscribe_webhook(ctx: Context, url: str, services: Sequence[str] = ()) -> View:
    """A webhook subscription, active at once; its signing secret is shown once, here."""
    config = config_of(ctx)
    target = rules.parse_webhook_url(url, allow_private=config.allow_private)
    chosen = rules.parse_services(services, public_services(ctx))
    config.check_url(target)
    now = ctx.clock.now()
    secret = secrets.token_urlsafe(32)
    with ctx.uow() as uow:
        if uow.subscribers.find("webhook", target) is not None:
            raise ValidationError("url", "this URL is already subscribed")
        subscriber_id = uow.subscribers.add(
            "webhook", target, services=chosen, state="confirmed", secret=secret, at=now
        )
        uow.commit()
    token = config.links.sign("unsubscribe", subscriber_id, target)
    return {
        "id": subscriber_id,
        "kind": "webhook",
        "state": "confirmed",
        "services": list(chosen) or "all",
        "secret": secret,
        "unsubscribe_url": config.link("unsubscribe", token),
    }


def _by_token(uow: UnitOfWork, config: SubscriptionConfig, purpose: str, token: str) -> Subscriber:
    subscriber_id, digest = config.links.verify(purpose, token)
    found = uow.subscribers.get(subscriber_id)
    if found is None or config.links.digest(found.target) != digest:
        raise NotFound("this subscription no longer exists (it was removed or never confirmed)")
    return found


def confirm(ctx: Context, token: str) -> View:
    """Follow a confirmation link: the subscription is active from now on."""
    config = config_of(ctx)
    now = ctx.clock.now()
    with ctx.uow() as uow:
        found = _by_token(uow, config, "confirm", token)
        uow.subscribers.confirm(found.id, now)
        uow.commit()
    return subscriber_view(
        replace(
            found, state="confirmed", services=found.pending_services, confirmed_at=found.confirmed_at or now
        )
    )


def check_link(ctx: Context, purpose: str, token: str) -> View:
    """Who a confirm or unsubscribe link is for, changing nothing (the page's question)."""
    config = config_of(ctx)
    with ctx.read() as uow:
        return subscriber_view(_by_token(uow, config, purpose, token))


def unsubscribe(ctx: Context, token: str) -> View:
    """Follow an unsubscribe link: the subscriber is deleted, nothing about it is kept."""
    config = config_of(ctx)
    with ctx.uow() as uow:
        found = _by_token(uow, config, "unsubscribe", token)
        uow.subscribers.remove(found.id)
        uow.commit()
    return subscriber_view(found)


# --- Admins' side ---------------------------------------------------------------------


def list_subscribers(ctx: Context, limit: int = 1000) -> list[View]:
    if not 1 <= limit <= 10_000:
        raise ValidationError("limit", "must be 1..10000")
    with ctx.read() as uow:
        return [subscriber_view(s) for s in uow.subscribers.list(limit=limit)]


def remove_subscriber(ctx: Context, subscriber_id: int) -> View:
    with ctx.uow() as uow:
        found = uow.subscribers.get(subscriber_id)
        if found is None:
            raise NotFound(f"no subscriber {subscriber_id}")
        uow.subscribers.remove(subscriber_id)
        uow.commit()
    return subscriber_view(found)


# --- The outbox's side ----------------------------------------------------------------


def targets(uow: UnitOfWork, services: Sequence[str]) -> tuple[str, ...]:
    """The outbox channels of the confirmed subscribers an update on ``services`` reaches."""
    store = getattr(uow, "subscribers", None)
    if store is None:  # in-memory fakes that predate subscribers
        return ()
    return tuple(s.channel for s in rules.audience(store.list(confirmed_only=True, limit=100_000), services))


def channel(ctx: Context, name: str) -> ChannelSpec | None:
    """The channel a ``subscriber:ID`` delivery goes to now (None: the subscriber is gone,
    or its webhook host now resolves to a forbidden address)."""
    subscriber_id = rules.id_of(name)
    if subscriber_id is None:
        return None
    with ctx.read() as uow:
        found = uow.subscribers.get(subscriber_id)
    if found is None:
        return None
    if found.kind == "email":
        return ChannelSpec(name, "email", (found.target,))
    config = ctx.subscriptions
    if isinstance(config, SubscriptionConfig):
        try:
            config.check_url(found.target)
        except ValidationError:
            return None
    return ChannelSpec(name, "webhook", found.target, secret=found.secret)


def personalize(ctx: Context, name: str, n: Notification) -> Notification:
    """Add the signed links of this subscriber: unsubscribe on every message, the
    confirmation link on the confirmation mail, the status page on updates."""
    config = ctx.subscriptions
    subscriber_id = rules.id_of(name)
    if not isinstance(config, SubscriptionConfig) or subscriber_id is None:
        return n
    with ctx.read() as uow:
        found = uow.subscribers.get(subscriber_id)
    if found is None:
        return n
    unsubscribe_url = config.link("unsubscribe", config.links.sign("unsubscribe", found.id, found.target))
    if n.kind == "subscription_confirm":
        confirm_url = config.link("confirm", config.links.sign("confirm", found.id, found.target))
        return replace(n, url=confirm_url, unsubscribe=unsubscribe_url)
    return replace(n, url=f"{config.base_url.rstrip('/')}{STATUS_PATH}", unsubscribe=unsubscribe_url)
