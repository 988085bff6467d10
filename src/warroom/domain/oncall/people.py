"""People on call: who they are, how to reach them, and in what order.

A person has contact methods (an email address, a signed webhook, a Slack-compatible
webhook, or any push, chat or SMS service an Apprise URL names: ``ntfy://``,
``pover://``, ``tgram://``, ``matrix://``, ``msteams://``, ``discord://``,
``twilio://`` ...) and notification rules that say when each is used after they are
paged: "push at once, email after 2 min, SMS after 5 min". Without rules, every method
is used at once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from warroom.domain.oncall.zones import require_zone
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.text import optional_text, require_text

HANDLE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
EMAIL = re.compile(r"[^@\s<>,;:\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")
_APPRISE_URL = re.compile(r"[a-z][a-z0-9+.-]{1,31}://\S+")

CONTACT_KINDS = ("email", "webhook", "slack", "apprise")
MAX_RULE_DELAY = timedelta(hours=24)


def require_handle(value: str | None, field: str = "handle") -> str:
    """A person's handle: lower-case letters, digits, '.', '_' or '-' (``alice``, ``bob.s``)."""
    text = (value or "").strip()
    if not HANDLE.fullmatch(text):
        raise ValidationError(
            field, f"{text!r} is not a handle: use lower-case letters, digits, '.', '_' or '-' (e.g. alice)"
        )
    return text


def require_name(value: str | None, field: str) -> str:
    """The name of a team, schedule, policy, layer or contact method (``payments-primary``)."""
    text = (value or "").strip()
    if not NAME.fullmatch(text):
        raise ValidationError(
            field, f"{text!r} is not a name: use letters, digits, '.', '_' or '-' (e.g. payments-primary)"
        )
    return text


@dataclass(frozen=True)
class ContactMethod:
    """One way to reach a person. ``address`` is an email address (``email``) or a URL,
    which for webhooks and Apprise services usually holds a credential: views show
    :attr:`redacted`, never the address itself."""

    name: str
    kind: str
    address: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)

    @property
    def redacted(self) -> str:
        if self.kind == "email":
            return self.address
        scheme, _, rest = self.address.partition("://")
        host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
        return f"{scheme}://{host[:40]}/…" if self.kind != "apprise" else f"{scheme}://…"


@dataclass(frozen=True)
class NotificationRule:
    """Use contact method ``method`` this long after the person is paged."""

    method: str
    delay: timedelta = timedelta(0)


@dataclass(frozen=True)
class Person:
    handle: str
    name: str
    email: str = ""
    time_zone: str = "UTC"
    teams: tuple[str, ...] = ()
    contacts: tuple[ContactMethod, ...] = ()
    rules: tuple[NotificationRule, ...] = ()

    def contact(self, name: str) -> ContactMethod | None:
        return next((c for c in self.contacts if c.name == name), None)

    def plan(self) -> list[tuple[ContactMethod, timedelta]]:
        """Which contact method to use how long after being paged, in order of delay.

        The rules when there are any, else every method at once; with no contact method
        at all, the person's email address at once (if they have one)."""
        if self.rules:
            found = [(self.contact(rule.method), rule.delay) for rule in self.rules]
            return sorted(((c, d) for c, d in found if c is not None), key=lambda item: item[1])
        if self.contacts:
            return [(contact, timedelta(0)) for contact in self.contacts]
        if self.email:
            return [(ContactMethod("email", "email", self.email), timedelta(0))]
        return []


def contact_method(
    name: str | None, kind: str | None, address: str | None, secret: str | None = None
) -> ContactMethod:
    """A validated contact method; the errors name the field, never the address."""
    label = require_name(name, "contact.name")
    what = (kind or "").strip().lower()
    if what not in CONTACT_KINDS:
        raise ValidationError("contact.kind", f"{kind!r} is not one of {', '.join(CONTACT_KINDS)}")
    text = require_text(address, "contact.address", limit=2000)
    if what == "email":
        if not EMAIL.fullmatch(text):
            raise ValidationError("contact.address", "is not an email address such as alice@example.com")
    elif what in ("webhook", "slack"):
        if not text.startswith(("https://", "http://")) or any(c.isspace() for c in text):
            raise ValidationError("contact.address", f"a {what} contact needs an http(s) URL")
    elif not _APPRISE_URL.fullmatch(text):
        raise ValidationError(
            "contact.address", "an apprise contact needs a service URL such as ntfy://ntfy.sh/topic"
        )
    if what == "webhook" and not (secret or "").strip():
        raise ValidationError("contact.secret", "a signed webhook needs a secret to sign with")
    return ContactMethod(label, what, text, (secret or "").strip() or None)


def notification_rule(method: str | None, delay_minutes: float | int | None) -> NotificationRule:
    label = require_name(method, "rule.method")
    minutes = 0 if delay_minutes is None else delay_minutes
    if isinstance(minutes, bool) or not isinstance(minutes, int | float):
        raise ValidationError("rule.delay_minutes", "must be a number of minutes")
    if not 0 <= minutes <= MAX_RULE_DELAY / timedelta(minutes=1):  # NaN fails too
        raise ValidationError("rule.delay_minutes", "must be between 0 and 1440 minutes")
    return NotificationRule(label, timedelta(minutes=minutes))


def person(
    handle: str | None,
    name: str | None,
    *,
    email: str | None = None,
    time_zone: str | None = "UTC",
    teams: Sequence[str] = (),
    contacts: Sequence[ContactMethod] = (),
    rules: Sequence[NotificationRule] = (),
) -> Person:
    """A validated person: a known zone, unique contact names, rules naming real contacts."""
    who = require_handle(handle)
    full = require_text(name or who, "name", limit=120)
    address = optional_text(email, "email", limit=320)
    if address and not EMAIL.fullmatch(address):
        raise ValidationError("email", f"{address!r} is not an email address such as alice@example.com")
    zone = require_zone(time_zone or "UTC").key
    team_names = tuple(dict.fromkeys(require_name(t, "teams") for t in teams))
    names = [c.name for c in contacts]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValidationError("contact.name", f"{who} already has a contact method called {duplicate!r}")
    for rule in rules:
        if rule.method not in names:
            raise ValidationError(
                "rule.method",
                f"{who} has no contact method called {rule.method!r} (known: {', '.join(names) or 'none'})",
            )
    return Person(who, full, address, zone, team_names, tuple(contacts), tuple(rules))
