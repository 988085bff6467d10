"""Ports of identity: API tokens and what they may do."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class TokenInfo:
    """An API token as shown to people: never its secret, never its hash."""

    id: int
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    source: str | None = None  # the one webhook source an ingest token opens
    owner: str | None = None  # the handle of the person it belongs to
    kind: str = "service"  # personal: acts as its owner; service: a named system


@dataclass(frozen=True)
class IntegrationKeyInfo:
    """A PagerDuty-shaped integration key of an ingest token, as shown: its last four
    characters (``hint``), never the key or its hash."""

    id: int
    token_id: int
    hint: str
    service: str | None
    created_at: datetime


class TokenStore(Protocol):
    def add(
        self,
        name: str,
        role: str,
        token_hash: str,
        created_at: datetime,
        source: str | None = None,
        owner: str | None = None,
        kind: str = "service",
    ) -> TokenInfo:
        """Store a new token; raises ``ValidationError`` (field ``name``) when the name is taken."""
        ...

    def by_hash(self, token_hash: str) -> tuple[TokenInfo, str] | None:
        """The token whose sha256 is ``token_hash`` and the stored hash, for a constant-time check."""
        ...

    def by_name(self, name: str) -> TokenInfo | None: ...

    def by_id(self, token_id: int) -> TokenInfo | None: ...

    def all(self) -> list[TokenInfo]: ...

    def revoke(self, token_id: int, at: datetime) -> None: ...

    def touch(self, token_id: int, at: datetime) -> None:
        """Record that the token was used at ``at``."""
        ...

    def add_integration_keys(
        self, token_id: int, keys: list[tuple[str, str, str | None]], created_at: datetime
    ) -> list[IntegrationKeyInfo]:
        """Store ``(hash, hint, service)`` keys of a token; raises ``ValidationError`` (field
        ``integration_key``) when one is already stored."""
        ...

    def by_integration_key_hash(self, key_hash: str) -> tuple[TokenInfo, IntegrationKeyInfo, str] | None:
        """The token that carries the key whose sha256 is ``key_hash``, the key, and the stored hash."""
        ...

    def integration_keys(self) -> list[IntegrationKeyInfo]:
        """Every stored key, by token then creation."""
        ...


@dataclass(frozen=True)
class Account:
    """A person who may sign in (their handle is their directory handle), as stored.

    ``password_hash`` is argon2; ``setup_hash`` the sha256 of the one-time setup link's
    secret; ``totp_secret`` a confirmed second factor, ``totp_pending`` one being enrolled."""

    handle: str
    role: str
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)
    setup_hash: str | None = field(default=None, repr=False)
    setup_expires_at: datetime | None = None
    totp_secret: str | None = field(default=None, repr=False)
    totp_pending: str | None = field(default=None, repr=False)
    totp_last_step: int | None = None
    failures: int = 0
    locked_at: datetime | None = None


@dataclass(frozen=True)
class WebSession:
    """A server-side web session of an account (never its secret)."""

    id: int
    handle: str
    address: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class DeviceLogin:
    """A ``warroom login`` waiting for (or given) its person's approval."""

    id: int
    user_code: str
    created_at: datetime
    expires_at: datetime
    approved_by: str | None = None
    token_id: int | None = None


class AccountStore(Protocol):
    def add(self, account: Account) -> None:
        """Store a new account; raises ``ValidationError`` (field ``handle``) when it exists."""
        ...

    def get(self, handle: str) -> Account | None: ...

    def by_setup_hash(self, setup_hash: str) -> Account | None: ...

    def all(self) -> list[Account]: ...

    def save(self, account: Account) -> None:
        """Replace the stored account's fields with ``account``'s."""
        ...

    def add_session(
        self, session_hash: str, handle: str, address: str, at: datetime, expires_at: datetime
    ) -> int: ...

    def session_by_hash(self, session_hash: str) -> WebSession | None: ...

    def sessions(self, handle: str | None, now: datetime) -> list[WebSession]:
        """Live sessions (of ``handle``, or of everyone), oldest first."""
        ...

    def revoke_session(self, session_id: int, at: datetime) -> bool:
        """True when a live session was revoked."""
        ...

    def revoke_sessions_of(self, handle: str, at: datetime) -> int: ...

    def add_failure(self, handle: str, address: str, at: datetime) -> None: ...

    def failures_since(
        self, *, handle: str | None = None, address: str | None = None, since: datetime
    ) -> int:
        """Refused sign-ins of ``handle`` (or from ``address``) at or after ``since``."""
        ...

    def forget_failures(self, before: datetime) -> None: ...

    def add_device(self, device_hash: str, user_code: str, at: datetime, expires_at: datetime) -> None:
        """Store a device login; raises ``ValidationError`` (field ``user_code``) on a clash."""
        ...

    def device_by_hash(self, device_hash: str) -> DeviceLogin | None: ...

    def device_by_code(self, user_code: str) -> DeviceLogin | None: ...

    def approve_device(self, device_id: int, handle: str) -> None: ...

    def device_redeemed(self, device_id: int, token_id: int) -> bool:
        """Record the token a device login gave; False when one was given already."""
        ...
