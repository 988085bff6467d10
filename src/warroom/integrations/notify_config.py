"""Read ``[notify]``, ``[[notify.channels]]``, ``[[notify.routes]]`` and ``[notify.smtp]``.

Every mistake is a ``SettingsError`` naming the place (``notify.channels[2]
(status-bridge)``) and never the secret or URL it holds. The format is documented in
docs/notifications.md.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from warroom.domain.comms.notifications import ChannelSpec, RetryPolicy, Route
from warroom.domain.comms.stakeholders import CHANNEL_NAME
from warroom.integrations.apprise_notifier import AppriseNotifier
from warroom.integrations.notifiers import (
    DispatchingNotifier,
    EmailNotifier,
    Notifier,
    SignedWebhookNotifier,
    SlackWebhookNotifier,
)
from warroom.services.comms.outbox import OutboxConfig
from warroom.settings import SettingsError

_CHANNEL_KEYS = {"name", "type", "url", "to", "secret"}
_ROUTE_KEYS = {"channels", "max_severity", "services", "teams", "kinds"}
_SMTP_KEYS = {"host", "port", "sender", "timeout", "starttls", "username", "password"}
_NOTIFY_KEYS = {
    "channels",
    "routes",
    "smtp",
    "base_url",
    "timeout_seconds",
    "lease_seconds",
    "max_attempts",
    "retry_base_seconds",
    "retry_max_seconds",
    "channel_concurrency",
    "circuit_failures",
    "circuit_cooldown_seconds",
}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "warroom@localhost"
    timeout: float = 10.0
    starttls: bool = False
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class NotifySettings:
    outbox: OutboxConfig
    smtp: SmtpSettings | None = None
    timeout: float = 10.0


def _table(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SettingsError(f"{where} must be a table")
    return value


def _unknown(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    extra = sorted(set(table) - allowed)
    if extra:
        raise SettingsError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(sorted(allowed))})")


def _str(table: Mapping[str, Any], key: str, where: str, default: str | None = None) -> str:
    value = table.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise SettingsError(f"{where}: {key} must be a non-empty string")
    return value.strip()


def _strings(table: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SettingsError(f"{where}: {key} must be a list of strings")
    return tuple(v.strip() for v in value)


def _number(table: Mapping[str, Any], key: str, where: str, default: float, minimum: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise SettingsError(f"{where}: {key} must be a number >= {minimum:g}, not {value!r}")
    return float(value)


def _channel(raw: Any, where: str) -> ChannelSpec:
    table = _table(raw, where)
    name = table.get("name")
    if not isinstance(name, str) or not CHANNEL_NAME.fullmatch(name):
        raise SettingsError(f"{where}: name must be letters, digits, '.', '_' or '-' (e.g. support-leads)")
    where = f"{where} ({name})"
    _unknown(table, _CHANNEL_KEYS, where)
    kind = _str(table, "type", where)
    target: str | tuple[str, ...]
    if kind == "email":
        target = _strings(table, "to", where)
    elif kind in ("slack", "webhook"):
        target = _str(table, "url", where)
    else:
        raise SettingsError(f"{where}: type must be slack, webhook or email, not {kind!r}")
    secret = table.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise SettingsError(f"{where}: secret must be a string")
    try:
        return ChannelSpec(name, kind, target, secret=secret)  # type: ignore[arg-type]
    except ValueError as exc:
        # ChannelSpec's messages name the channel and never the URL or secret.
        raise SettingsError(f"{where}: {str(exc).removeprefix(f'channel {name}: ')}") from None


def _route(raw: Any, where: str, channels: Mapping[str, ChannelSpec]) -> Route:
    table = _table(raw, where)
    _unknown(table, _ROUTE_KEYS, where)
    names = _strings(table, "channels", where)
    if not names:
        raise SettingsError(f"{where}: channels must name at least one channel")
    for name in names:
        if name not in channels:
            raise SettingsError(f"{where}: no channel named {name!r} in [[notify.channels]]")
    max_severity = table.get("max_severity")
    if max_severity is not None and (
        isinstance(max_severity, bool) or not isinstance(max_severity, int) or not 1 <= max_severity <= 4
    ):
        raise SettingsError(f"{where}: max_severity must be 1, 2, 3 or 4")
    try:
        return Route(
            channels=names,
            max_severity=max_severity,
            services=_strings(table, "services", where),
            teams=_strings(table, "teams", where),
            kinds=_strings(table, "kinds", where),
        )
    except ValueError as exc:
        raise SettingsError(f"{where}: {exc}") from None


def _smtp(raw: Any) -> SmtpSettings:
    where = "[notify.smtp]"
    table = _table(raw, where)
    _unknown(table, _SMTP_KEYS, where)
    username, password = table.get("username"), table.get("password")
    if (username is None) != (password is None):
        raise SettingsError(f"{where}: username and password go together")
    if username is not None and not (isinstance(username, str) and isinstance(password, str)):
        raise SettingsError(f"{where}: username and password must be strings")
    starttls = table.get("starttls", False)
    if not isinstance(starttls, bool):
        raise SettingsError(f"{where}: starttls must be true or false")
    sender = _str(table, "sender", where, "warroom@localhost")
    if "@" not in sender:
        raise SettingsError(f"{where}: sender must be an email address")
    port = _number(table, "port", where, 25, 1)
    if port != int(port) or port > 65535:
        raise SettingsError(f"{where}: port must be 1..65535")
    return SmtpSettings(
        host=_str(table, "host", where),
        port=int(port),
        sender=sender,
        timeout=_number(table, "timeout", where, 10, 0.1),
        starttls=starttls,
        username=username,
        password=password,
    )


def parse_notify(raw: Mapping[str, Any]) -> NotifySettings:
    """The ``notify`` table of ``warroom.toml`` (``raw`` is the whole file's data)."""
    section = _table(raw.get("notify", {}), "[notify]")
    _unknown(section, _NOTIFY_KEYS, "[notify]")
    channels: dict[str, ChannelSpec] = {}
    raw_channels = section.get("channels", [])
    if not isinstance(raw_channels, Sequence) or isinstance(raw_channels, str):
        raise SettingsError("notify.channels must be an array of tables ([[notify.channels]])")
    for index, item in enumerate(raw_channels, start=1):
        channel = _channel(item, f"notify.channels[{index}]")
        if channel.name in channels:
            raise SettingsError(f"notify.channels[{index}]: a channel named {channel.name!r} already exists")
        channels[channel.name] = channel
    raw_routes = section.get("routes", [])
    if not isinstance(raw_routes, Sequence) or isinstance(raw_routes, str):
        raise SettingsError("notify.routes must be an array of tables ([[notify.routes]])")
    routes = [_route(item, f"notify.routes[{i}]", channels) for i, item in enumerate(raw_routes, start=1)]
    smtp = _smtp(section["smtp"]) if "smtp" in section else None
    if smtp is None:
        for channel in channels.values():
            if channel.type == "email":
                raise SettingsError(f"channel {channel.name} sends email: configure [notify.smtp]")
    base_url = section.get("base_url")
    if base_url is not None and (
        not isinstance(base_url, str) or not base_url.startswith(("http://", "https://"))
    ):
        raise SettingsError("notify.base_url must be an http(s) URL such as https://warroom.example.com")
    timeout = _number(section, "timeout_seconds", "[notify]", 10, 0.1)
    lease = _number(section, "lease_seconds", "[notify]", 60, 0.5)
    email_deadline = (smtp.timeout if smtp else 10.0) * 4  # SMTP: connect, hello, mail, data
    slowest = max(timeout, email_deadline if smtp else 0)
    if lease <= slowest:
        raise SettingsError(
            f"notify.lease_seconds ({lease:g}) must exceed the slowest send ({slowest:g} s): "
            "a lease that runs out during a send makes the delivery due again"
        )
    try:
        retry = RetryPolicy(
            max_attempts=int(_number(section, "max_attempts", "[notify]", 8, 1)),
            base=timedelta(seconds=_number(section, "retry_base_seconds", "[notify]", 5, 0.001)),
            cap=timedelta(seconds=_number(section, "retry_max_seconds", "[notify]", 600, 0.001)),
        )
    except ValueError as exc:
        raise SettingsError(f"[notify]: {exc} (retry_base_seconds <= retry_max_seconds)") from None
    concurrency = _number(section, "channel_concurrency", "[notify]", 2, 1)
    failures = _number(section, "circuit_failures", "[notify]", 5, 1)
    for key, value in (("channel_concurrency", concurrency), ("circuit_failures", failures)):
        if value != int(value):
            raise SettingsError(f"[notify]: {key} must be a whole number, not {value!r}")
    outbox = OutboxConfig(
        channels=channels,
        routes=tuple(routes),
        retry=retry,
        base_url=base_url.rstrip("/") if base_url else None,
        lease=timedelta(seconds=lease),
        email=smtp is not None,
        deadline=timedelta(seconds=timeout),
        email_deadline=timedelta(seconds=email_deadline),
        concurrency=int(concurrency),
        circuit_failures=int(failures),
        circuit_cooldown=timedelta(seconds=_number(section, "circuit_cooldown_seconds", "[notify]", 60, 0.1)),
    )
    return NotifySettings(outbox=outbox, smtp=smtp, timeout=timeout)


def make_notifier(notify: NotifySettings) -> tuple[Notifier, Callable[[], None]]:
    """The notifier for every configured channel type, and the function that closes it."""
    # Every phase of a request is bounded (connect, send, wait for the answer, wait for a
    # pooled connection); the dispatcher also cuts the whole attempt off at the deadline.
    t = notify.timeout
    client = httpx.Client(
        timeout=httpx.Timeout(connect=t, read=t, write=t, pool=t),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    by_type: dict[str, Notifier] = {
        "slack": SlackWebhookNotifier(client),
        "webhook": SignedWebhookNotifier(client),
        "apprise": AppriseNotifier(),  # on-call contact methods (ntfy://, pover://, tgram:// ...)
    }
    if notify.smtp is not None:
        smtp = notify.smtp
        by_type["email"] = EmailNotifier(
            smtp.host,
            smtp.port,
            smtp.sender,
            timeout=smtp.timeout,
            starttls=smtp.starttls,
            username=smtp.username,
            password=smtp.password,
        )
    return DispatchingNotifier(by_type), client.close
