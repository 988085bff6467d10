"""Notifications: what warroom tells people, where it sends it, and when it tries again.

A `Notification` is the channel-neutral message an event produces; `Route`s pick the
`ChannelSpec`s it goes to; a `RetryPolicy` schedules redelivery after a failed attempt and
says when to give up (dead-letter). Adapters that speak Slack, signed webhooks or SMTP
live in `warroom.integrations.notifiers`; everything here is pure.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

# Kinds that go only to the targets they name, never along the routes.
DIRECT_KINDS: frozenset[str] = frozenset({"page", "public_update", "subscription_confirm"})

NOTIFICATION_KINDS: frozenset[str] = frozenset(
    {
        "incident_declared",
        "severity_changed",
        "role_assigned",
        "role_handed_off",
        "status_update_posted",
        "mitigation_applied",
        "mitigation_outcome_recorded",
        "incident_mitigated",
        "incident_resolved",
        "incident_reopened",
        "update_overdue",
        "rotation_due",
        "followup_overdue",
        "page",  # on call: one person, one contact method (never routed; see services/oncall)
        # the public status page's subscribers (never routed; see services/comms/subscribers)
        "public_update",
        "subscription_confirm",
    }
)

ChannelType = Literal["slack", "webhook", "email", "apprise"]
CHANNEL_TYPES: frozenset[str] = frozenset({"slack", "webhook", "email", "apprise"})

_MAX_KEY_LENGTH = 255


class DeliveryFailed(Exception):
    """A channel did not accept a notification.

    `retryable` is True when the same delivery may succeed later (network errors, 429,
    5xx, SMTP 4xx) and False when repeating it cannot help (a rejected payload, a
    missing webhook, SMTP 5xx). `retry_after`, when the receiver named one, is the
    earliest sensible retry. Messages never contain secrets or webhook URLs.
    """

    def __init__(self, message: str, retryable: bool, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after


def severity_label(severity: int) -> str:
    """`2` -> `"SEV2"`."""
    return f"SEV{severity}"


@dataclass(frozen=True)
class Notification:
    """One message about one event, before it is shaped for any channel.

    `key` is the idempotency key: every delivery of this notification, retries
    included, carries it, so receivers can drop duplicates. It is printable ASCII
    without whitespace (it travels in HTTP and SMTP headers). `title` is one line;
    `text` is plain text or light Markdown. `severity` is 1 (worst) to 4, or None when
    the notification is not about one incident's severity. `occurred_at` is aware.
    `unsubscribe` is set on the way to a status-page subscriber only: the signed link
    that ends the subscription (mail carries it as ``List-Unsubscribe`` too).
    """

    key: str
    kind: str
    incident: str | None
    severity: int | None
    services: tuple[str, ...]
    team: str | None
    title: str
    text: str
    url: str | None
    fields: tuple[tuple[str, str], ...]
    occurred_at: datetime
    unsubscribe: str | None = None

    def __post_init__(self) -> None:
        if not 0 < len(self.key) <= _MAX_KEY_LENGTH or not all("!" <= c <= "~" for c in self.key):
            raise ValueError("key must be 1-255 printable ASCII characters without spaces")
        if self.kind not in NOTIFICATION_KINDS:
            raise ValueError(f"unknown notification kind: {self.kind!r}")
        if self.severity is not None and not 1 <= self.severity <= 4:
            raise ValueError(f"severity must be 1-4, not {self.severity}")
        if not self.title.strip() or "\n" in self.title or "\r" in self.title:
            raise ValueError("title must be one non-empty line")
        _require_aware(self.occurred_at, "occurred_at")

    @property
    def headline(self) -> str:
        """`[SEV2] INC-7: title`; the parts that are None are left out."""
        prefix = f"[{severity_label(self.severity)}] " if self.severity is not None else ""
        incident = f"{self.incident}: " if self.incident else ""
        return f"{prefix}{incident}{self.title}"


@dataclass(frozen=True)
class ChannelSpec:
    """Where notifications can go.

    `target` is an http(s) URL for "slack" and "webhook" channels, an Apprise service URL
    (``ntfy://``, ``pover://``, ``json://`` ...) for "apprise" channels, and a tuple of
    email addresses for "email" channels. "webhook" channels require `secret` (the HMAC key
    of their signature). `target` and `secret` are credentials (a Slack webhook URL
    is one), so they stay out of `repr`.
    """

    name: str
    type: ChannelType
    target: str | tuple[str, ...] = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a channel needs a name")
        if self.type not in CHANNEL_TYPES:
            raise ValueError(f"channel {self.name}: unknown type {self.type!r}")
        if self.type == "email":
            if isinstance(self.target, str) or not self.target:
                raise ValueError(f"channel {self.name}: email needs a list of addresses")
            for address in self.target:
                if "@" not in address or any(c.isspace() for c in address):
                    raise ValueError(f"channel {self.name}: not an email address")
        elif self.type == "apprise":
            if not isinstance(self.target, str) or "://" not in self.target:
                raise ValueError(
                    f"channel {self.name}: apprise needs a service URL such as ntfy://host/topic"
                )
        elif not isinstance(self.target, str) or not self.target.startswith(("https://", "http://")):
            raise ValueError(f"channel {self.name}: {self.type} needs an http(s) URL")
        if self.type == "webhook" and not self.secret:
            raise ValueError(f"channel {self.name}: a webhook needs a secret to sign with")

    @property
    def url(self) -> str:
        """The URL of a "slack" or "webhook" channel."""
        if not isinstance(self.target, str):
            raise ValueError(f"channel {self.name} is an {self.type} channel, it has no URL")
        return self.target

    @property
    def recipients(self) -> tuple[str, ...]:
        """The addresses of an "email" channel."""
        if isinstance(self.target, str):
            raise ValueError(f"channel {self.name} is a {self.type} channel, not email")
        return self.target


@dataclass(frozen=True)
class Route:
    """Send matching notifications to `channels`.

    Every filter that is set must match (they are ANDed); an unset filter (None or an
    empty tuple) matches everything. `max_severity=2` matches SEV1 and SEV2, and never
    a notification without a severity. `services` matches when the notification names
    at least one of them.
    """

    channels: tuple[str, ...]
    max_severity: int | None = None
    services: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.channels:
            raise ValueError("a route needs at least one channel")
        if self.max_severity is not None and not 1 <= self.max_severity <= 4:
            raise ValueError(f"max_severity must be 1-4, not {self.max_severity}")
        # A typo in a kind would silently route nothing, so refuse it here.
        unknown = sorted(set(self.kinds) - NOTIFICATION_KINDS)
        if unknown:
            raise ValueError(f"unknown notification kinds: {', '.join(unknown)}")

    def matches(self, notification: Notification) -> bool:
        n = notification
        if self.max_severity is not None and (n.severity is None or n.severity > self.max_severity):
            return False
        if self.services and not set(self.services) & set(n.services):
            return False
        if self.teams and n.team not in self.teams:
            return False
        return not self.kinds or n.kind in self.kinds


def route(notification: Notification, routes: Sequence[Route]) -> list[str]:
    """Names of the channels `notification` goes to: each matching route's channels,
    in route order, each name once."""
    names: dict[str, None] = {}
    for r in routes:
        if r.matches(notification):
            names.update(dict.fromkeys(r.channels))
    return list(names)


@dataclass(frozen=True)
class RetryPolicy:
    """Capped exponential backoff with jitter, then dead-letter.

    After the n-th failed attempt (n >= 1) the next one waits
    `min(cap, base * factor ** (n - 1))`, shortened by up to `jitter` (a fraction) so
    that deliveries failing together do not retry together. Shortening rather than
    spreading both ways keeps `cap` a true maximum. After `max_attempts` attempts
    there is no next one.
    """

    max_attempts: int = 8
    base: timedelta = timedelta(seconds=5)
    factor: float = 2.0
    cap: timedelta = timedelta(minutes=10)
    jitter: float = 0.1

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base <= timedelta(0) or self.cap < self.base:
            raise ValueError("need 0 < base <= cap")
        if self.factor < 1.0:
            raise ValueError("factor must be at least 1")
        if not 0.0 <= self.jitter < 1.0:
            raise ValueError("jitter must be in [0, 1)")

    def delay(self, attempts_so_far: int, rand: float) -> timedelta | None:
        """The wait before the next attempt; zero before the first, None when the
        attempts are used up. `rand` is a uniform random number in [0, 1]."""
        if attempts_so_far < 0:
            raise ValueError("attempts_so_far cannot be negative")
        if not 0.0 <= rand <= 1.0:
            raise ValueError("rand must be in [0, 1]")
        if attempts_so_far >= self.max_attempts:
            return None
        if attempts_so_far == 0:
            return timedelta(0)
        try:
            seconds = self.base.total_seconds() * self.factor ** (attempts_so_far - 1)
        except OverflowError:  # a long schedule's late steps exceed any float
            seconds = math.inf
        seconds = min(seconds, self.cap.total_seconds())
        return timedelta(seconds=seconds * (1.0 - self.jitter * rand))

    def next_attempt_at(self, attempts_so_far: int, now: datetime, rand: float) -> datetime | None:
        """When to try again after `attempts_so_far` attempts failed; None means
        dead-letter. `now` is aware; `rand` is uniform in [0, 1]."""
        _require_aware(now, "now")
        wait = self.delay(attempts_so_far, rand)
        return None if wait is None else now + wait


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
