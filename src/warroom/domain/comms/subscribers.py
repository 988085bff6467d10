"""Subscribers of the public status page: who hears its public updates, and how.

A subscriber is an email address (double opt-in: nothing reaches it before its owner
followed the signed confirmation link) or a webhook URL (signed like the ``webhook``
channel, with a secret of its own). ``services`` are the public page's services it
follows; empty means all of them. Public updates of an incident reach the confirmed
subscribers that follow at least one of its services.

The rules here are pure: the shape of an address or URL, which services are valid, who
matches an update, and how often a confirmation mail may go to one address. Whether a
URL's host resolves to a forbidden address is the edge's business (it needs DNS).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from warroom.domain.comms.announcements import one_line
from warroom.domain.comms.notifications import Notification
from warroom.domain.comms.stakeholders import is_email
from warroom.domain.shared.errors import RateLimited, ValidationError

KINDS = ("email", "webhook")
STATES = ("pending", "confirmed")
MAX_SERVICES = 50
MAX_URL = 2000
CONFIRM_EVERY = timedelta(hours=1)  # at most one confirmation mail per address per hour


@dataclass(frozen=True)
class Subscriber:
    id: int
    kind: str  # email | webhook
    target: str  # the address or the URL
    services: tuple[str, ...]  # empty: every service
    state: str  # pending | confirmed
    created_at: datetime
    confirmed_at: datetime | None = None
    confirm_sent_at: datetime | None = None
    pending_services: tuple[str, ...] = ()  # what the confirmation link will subscribe to
    secret: str | None = None  # a webhook's signing key

    @property
    def confirmed(self) -> bool:
        return self.state == "confirmed"

    @property
    def channel(self) -> str:
        """The outbox channel of this subscriber."""
        return channel_of(self.id)

    def follows(self, services: Iterable[str]) -> bool:
        return not self.services or bool(set(self.services) & set(services))


CHANNEL_PREFIX = "subscriber:"


def channel_of(subscriber_id: int) -> str:
    return f"{CHANNEL_PREFIX}{subscriber_id}"


def id_of(channel: str) -> int | None:
    """The subscriber id of an outbox channel name (None: not a subscriber's)."""
    if not channel.startswith(CHANNEL_PREFIX):
        return None
    rest = channel[len(CHANNEL_PREFIX) :]
    return int(rest) if rest.isascii() and rest.isdecimal() and len(rest) < 19 else None


def parse_address(value: str) -> str:
    """An email address, stripped and lowercased, or a clear error."""
    address = (value or "").strip()
    if len(address) > 254 or not is_email(address):
        raise ValidationError("email", "that is not an email address (name@example.com)")
    return address.lower()


def parse_webhook_url(value: str, *, allow_private: bool = False) -> str:
    """An http(s) URL without credentials, naming a host; a literal IP must be a public one
    unless ``allow_private`` (a test's or a lab's receiver). A host name's addresses are
    checked where DNS is at hand."""
    url = (value or "").strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise ValidationError("url", f"give an http(s) URL of at most {MAX_URL} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationError("url", "that is not a valid URL") from None
    if parts.scheme not in ("http", "https"):
        raise ValidationError("url", "the webhook URL must start with https:// or http://")
    if not parts.hostname:
        raise ValidationError("url", "the webhook URL needs a host")
    if parts.username is not None or parts.password is not None:
        raise ValidationError("url", "the webhook URL may not hold a user name or password")
    if port == 0:
        raise ValidationError("url", "the webhook URL's port is not valid")
    host = parts.hostname
    if allow_private:
        return url
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise ValidationError("url", f"{host} is not a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    forbidden_address(address)
    return url


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    """Refuse loopback, private, link-local (cloud metadata), multicast and reserved targets."""
    if not address.is_global or address.is_multicast:
        raise ValidationError("url", f"the webhook URL points at {address}, which is not a public address")


def parse_services(values: Sequence[str], known: Iterable[str]) -> tuple[str, ...]:
    """The services a subscriber follows: each a service of the public page; none means all."""
    chosen: list[str] = []
    allowed = set(known)
    for value in values:
        name = (value or "").strip()
        if not name or name in chosen:
            continue
        if name not in allowed:
            raise ValidationError("services", f"{name[:80]!r} is not a service of this status page")
        chosen.append(name)
    if len(chosen) > MAX_SERVICES:
        raise ValidationError("services", f"pick at most {MAX_SERVICES} services (or none for all)")
    return tuple(sorted(chosen))


def confirmation_allowed(last_sent: datetime | None, now: datetime) -> None:
    """Raise ``RateLimited`` when a confirmation mail went to this address within the hour."""
    if last_sent is None:
        return
    wait = last_sent + CONFIRM_EVERY - now
    if wait > timedelta(0):
        raise RateLimited(
            "email",
            "a confirmation mail was sent to this address less than an hour ago; "
            "follow the link in it, or try again later",
            wait,
        )


def audience(subscribers: Iterable[Subscriber], services: Sequence[str]) -> list[Subscriber]:
    """The confirmed subscribers an update about ``services`` reaches."""
    return [s for s in subscribers if s.confirmed and s.follows(services)]


def public_notification(
    key: str, state_ref: str, services: Sequence[str], text: str, *, final: bool, at: datetime
) -> Notification:
    """What a public update tells subscribers: the public words, the incident's reference
    and services, nothing else (no title, severity, team or people)."""
    word = "resolved" if final else "update"
    names = ", ".join(services) or "our services"
    return Notification(
        key=f"{key}.public",
        kind="public_update",
        incident=None,
        severity=None,
        services=tuple(services),
        team=None,
        title=one_line(f"{state_ref} {word}: {names}"),
        text=text,
        url=None,
        fields=(),
        occurred_at=at,
    )


def confirmation_notification(subscriber_id: int, at: datetime) -> Notification:
    """The double opt-in mail; the signed link is added on the way out, never stored."""
    return Notification(
        key=f"subscriber.{subscriber_id}.confirm.{int(at.timestamp())}",
        kind="subscription_confirm",
        incident=None,
        severity=None,
        services=(),
        team=None,
        title="Confirm your status page subscription",
        text=(
            "Someone (we hope you) asked to receive this status page's updates at this "
            "address. Nothing is sent until you confirm with the link below. If it was not "
            "you, ignore this mail."
        ),
        url=None,
        fields=(),
        occurred_at=at,
    )
