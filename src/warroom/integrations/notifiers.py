"""Channel adapters: deliver a `Notification` to Slack-style webhooks, signed webhooks and
email.

Every `Notifier` either returns (the channel accepted the notification) or raises
`DeliveryFailed` saying whether a retry can help; scheduling the retry is the caller's
job (`warroom.domain.comms.notifications.RetryPolicy`). Every delivery carries the
notification's idempotency key, so a retry after an ambiguous failure (a timeout after
the receiver had accepted) is recognisable as a duplicate. The wire formats are
documented in docs/notifications.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol

import httpx

from warroom.domain.comms.notifications import (
    ChannelSpec,
    DeliveryFailed,
    Notification,
    severity_label,
)

__all__ = [
    "DeliveryFailed",
    "DispatchingNotifier",
    "EmailNotifier",
    "Notifier",
    "RecordingNotifier",
    "SignedWebhookNotifier",
    "SlackWebhookNotifier",
    "email_body",
    "message_id",
    "sign",
    "slack_payload",
    "webhook_body",
]


class Notifier(Protocol):
    def send(self, n: Notification, channel: ChannelSpec) -> None:
        """Deliver `n` to `channel`, or raise `DeliveryFailed`."""
        ...


# --- HTTP ------------------------------------------------------------------------------

# 408 and 429 are the receiver asking us to come back later; other 4xx mean the request
# itself is wrong and will be wrong again.
_RETRYABLE_4XX = frozenset({408, 429})


def _post(client: httpx.Client, channel: ChannelSpec, body: bytes, headers: Mapping[str, str]) -> None:
    try:
        response = client.post(channel.url, content=body, headers=dict(headers))
    except httpx.TransportError as error:  # connect, read and write errors, timeouts
        # The URL may hold a credential (Slack's does), so name the channel, not the URL.
        detail = str(error).replace(channel.url, "<url>")
        raise DeliveryFailed(
            f"channel {channel.name}: {type(error).__name__}: {detail}", retryable=True
        ) from error
    except httpx.InvalidURL as error:
        raise DeliveryFailed(f"channel {channel.name}: invalid URL", retryable=False) from error
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = response.text[:200].strip()
    message = f"channel {channel.name}: HTTP {status}" + (f": {detail}" if detail else "")
    retryable = status >= 500 or status in _RETRYABLE_4XX
    raise DeliveryFailed(message, retryable=retryable, retry_after=_retry_after(response))


def _retry_after(response: httpx.Response) -> timedelta | None:
    # Only the delta-seconds form; receivers that send an HTTP date get our own backoff.
    # A day is plenty: anything longer is a receiver bug, not advice.
    value = response.headers.get("Retry-After", "").strip()
    if not (value.isascii() and value.isdecimal()):
        return None
    return timedelta(seconds=min(int(value), 86_400))


def _json_bytes(document: object) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


# --- Slack, Mattermost, Rocket.Chat ----------------------------------------------------

# Block Kit limits; Slack rejects the whole message (400 invalid_blocks) past them.
# The fallback text stays under Rocket.Chat's default message size (5,000).
_TEXT_MAX = 4000
_HEADER_MAX = 150
_SECTION_MAX = 3000
_FIELD_MAX = 2000
_FIELDS_MAX = 10


def _mrkdwn_escape(text: str) -> str:
    # Slack reads <...> as links and mentions: a title containing <!channel> must not
    # page a whole channel.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _summary_fields(n: Notification) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if n.severity is not None:
        pairs.append(("Severity", severity_label(n.severity)))
    if n.services:
        pairs.append(("Services", ", ".join(n.services)))
    if n.team:
        pairs.append(("Team", n.team))
    return pairs + list(n.fields)


def slack_payload(n: Notification) -> dict[str, Any]:
    """The incoming-webhook body: `text` for Mattermost, Rocket.Chat and Slack's
    notification preview, `blocks` for Slack's own rendering."""
    pairs = _summary_fields(n)
    fallback = [n.headline]
    if n.text:
        fallback.append(n.text)
    if pairs:
        fallback.append("\n".join(f"{name}: {value}" for name, value in pairs))
    if n.url:
        fallback.append(n.url)

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _clip(n.headline, _HEADER_MAX)}}
    ]
    if n.text.strip():
        body = _clip(_mrkdwn_escape(n.text), _SECTION_MAX)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": body}})
    if pairs:
        fields = [
            {
                "type": "mrkdwn",
                "text": _clip(f"*{_mrkdwn_escape(name)}*\n{_mrkdwn_escape(value)}", _FIELD_MAX),
            }
            for name, value in pairs[:_FIELDS_MAX]
        ]
        blocks.append({"type": "section", "fields": fields})
    context = [
        n.kind.replace("_", " "),
        n.occurred_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    ]
    if n.url:
        context.insert(0, f"<{n.url}|{_mrkdwn_escape(n.incident or 'Open in warroom')}>")
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]})
    return {"text": _clip(_mrkdwn_escape("\n\n".join(fallback)), _TEXT_MAX), "blocks": blocks}


class SlackWebhookNotifier:
    """Posts to Slack, Mattermost and Rocket.Chat incoming webhooks (`channel.url`).

    `client` is owned by the caller, who sets its timeouts and closes it.
    """

    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def send(self, n: Notification, channel: ChannelSpec) -> None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": n.key}
        _post(self._client, channel, _json_bytes(slack_payload(n)), headers)


# --- Signed webhooks -------------------------------------------------------------------


def webhook_body(n: Notification) -> bytes:
    """The signed webhook's JSON document, as the exact bytes that are signed and sent.
    `fields` becomes an object; if two fields share a name the last one wins."""
    document = {
        "id": n.key,
        "kind": n.kind,
        "incident": n.incident,
        "severity": n.severity,
        "services": list(n.services),
        "team": n.team,
        "title": n.title,
        "text": n.text,
        "url": n.url,
        "fields": dict(n.fields),
        "occurred_at": n.occurred_at.astimezone(UTC).isoformat(),
    }
    if n.unsubscribe:
        document["unsubscribe"] = n.unsubscribe
    return _json_bytes(document)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=` and the hex HMAC-SHA256, keyed by the UTF-8 secret, of `timestamp.body`."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, "sha256")
    return f"v1={mac.hexdigest()}"


class SignedWebhookNotifier:
    """Posts `webhook_body(n)` to `channel.url`, signed with `channel.secret`.

    The signature covers a unix-seconds timestamp so that receivers can refuse replays;
    `clock` (seconds since the epoch) is there so tests can send old timestamps.
    `client` is owned by the caller.
    """

    def __init__(self, client: httpx.Client, clock: Callable[[], float] = time.time) -> None:
        self._client = client
        self._clock = clock

    def send(self, n: Notification, channel: ChannelSpec) -> None:
        if not channel.secret:
            raise ValueError(f"channel {channel.name} has no secret to sign with")
        body = webhook_body(n)
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": n.key,
            "X-Warroom-Timestamp": timestamp,
            "X-Warroom-Signature": sign(channel.secret, timestamp, body),
        }
        _post(self._client, channel, body, headers)


# --- Email -----------------------------------------------------------------------------


def email_body(n: Notification) -> str:
    """The plain-text body: the text, the summary fields, the link."""
    parts = [n.text.strip()] if n.text.strip() else []
    pairs = _summary_fields(n)
    if pairs:
        parts.append("\n".join(f"{name}: {value}" for name, value in pairs))
    if n.url:
        parts.append(n.url)
    if n.unsubscribe:
        parts.append(f"Unsubscribe: {n.unsubscribe}")
    stamp = n.occurred_at.astimezone(UTC).isoformat()
    parts.append(f"-- \nwarroom - {n.kind} - {stamp}")
    return "\n\n".join(parts) + "\n"


def message_id(key: str, sender: str) -> str:
    """A Message-ID that is the same for every delivery of one notification, so mail
    clients and archives can spot duplicates. The key is hashed because it may hold
    characters a Message-ID cannot."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "warroom.invalid"
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}.warroom@{domain}>"


class EmailNotifier:
    """Sends plain-text mail over SMTP to `channel.recipients`, one connection per
    message.

    Connection failures, a dropped connection and 4xx replies are retryable; 5xx
    replies (a refused sender, recipient or message, failed authentication) are not.
    When the server takes the message for some recipients and refuses others, the
    failure is retryable only if a refusal was temporary; the retry goes to all
    recipients again and they recognise it by its Message-ID.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        timeout: float,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        local_hostname: str | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self._host = host
        self._port = port
        self._sender = sender
        self._timeout = timeout
        self._starttls = starttls
        self._username = username
        self._password = password
        self._local_hostname = local_hostname

    def message(self, n: Notification, channel: ChannelSpec) -> EmailMessage:
        """The message `send` would deliver."""
        msg = EmailMessage()
        msg["Subject"] = n.headline
        msg["From"] = self._sender
        msg["To"] = ", ".join(channel.recipients)
        msg["Date"] = format_datetime(n.occurred_at)
        msg["Message-ID"] = message_id(n.key, self._sender)
        msg["X-Warroom-Idempotency-Key"] = n.key
        msg["X-Warroom-Kind"] = n.kind
        if n.incident:
            msg["X-Warroom-Incident"] = n.incident
        if n.unsubscribe:  # RFC 2369 and RFC 8058: mail clients offer a one-click unsubscribe
            msg["List-Unsubscribe"] = f"<{n.unsubscribe}>"
            msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        body = email_body(n)
        # Quoted-printable keeps non-ASCII text (names, places) readable in the raw
        # message; left alone, the email package would pick base64.
        msg.set_content(body, cte=None if body.isascii() else "quoted-printable")
        return msg

    def send(self, n: Notification, channel: ChannelSpec) -> None:
        msg = self.message(n, channel)
        name = channel.name
        try:
            with smtplib.SMTP(self._host, self._port, self._local_hostname, timeout=self._timeout) as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username is not None and self._password is not None:
                    smtp.login(self._username, self._password)
                refused = smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as error:
            raise _refusal(name, error.recipients, accepted=0) from error
        except smtplib.SMTPResponseException as error:
            code = error.smtp_code
            raise DeliveryFailed(
                f"channel {name}: SMTP {code} {_decode(error.smtp_error)}",
                retryable=400 <= code < 500,
            ) from error
        except smtplib.SMTPServerDisconnected as error:
            raise DeliveryFailed(f"channel {name}: SMTP server disconnected", retryable=True) from error
        except smtplib.SMTPException as error:  # e.g. STARTTLS or AUTH not offered
            raise DeliveryFailed(f"channel {name}: {error}", retryable=False) from error
        except OSError as error:  # refused, unreachable, timed out, TLS handshake
            raise DeliveryFailed(
                f"channel {name}: {type(error).__name__}: {error}", retryable=True
            ) from error
        if refused:
            raise _refusal(name, refused, accepted=len(channel.recipients) - len(refused))


def _refusal(name: str, refused: Mapping[str, tuple[int, bytes]], accepted: int) -> DeliveryFailed:
    who = "; ".join(f"{addr}: {code} {_decode(text)}" for addr, (code, text) in refused.items())
    retryable = any(400 <= code < 500 for code, _ in refused.values())
    return DeliveryFailed(f"channel {name}: accepted for {accepted}, refused for {who}", retryable=retryable)


def _decode(smtp_text: bytes | str) -> str:
    text = smtp_text.decode("utf-8", "replace") if isinstance(smtp_text, bytes) else smtp_text
    return " ".join(text.split())


# --- Composition and tests -------------------------------------------------------------


class DispatchingNotifier:
    """Sends each notification with the notifier registered for its channel's type."""

    def __init__(self, by_type: Mapping[str, Notifier]) -> None:
        self._by_type = dict(by_type)

    def send(self, n: Notification, channel: ChannelSpec) -> None:
        notifier = self._by_type.get(channel.type)
        if notifier is None:
            raise DeliveryFailed(
                f"channel {channel.name}: no notifier for type {channel.type}", retryable=False
            )
        notifier.send(n, channel)


class RecordingNotifier:
    """An honest fake: keeps what it was asked to send.

    `failures` are raised, in order, by the first sends (a None lets that send
    through); `attempts` lists every send, `sent` only the ones that succeeded.
    """

    def __init__(self, failures: Iterable[DeliveryFailed | None] = ()) -> None:
        self._failures = list(failures)
        self.attempts: list[tuple[Notification, ChannelSpec]] = []
        self.sent: list[tuple[Notification, ChannelSpec]] = []

    def send(self, n: Notification, channel: ChannelSpec) -> None:
        self.attempts.append((n, channel))
        failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            raise failure
        self.sent.append((n, channel))
