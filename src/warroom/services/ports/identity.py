"""Ports of identity: API tokens and what they may do."""

from __future__ import annotations

from dataclasses import dataclass
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
        self, name: str, role: str, token_hash: str, created_at: datetime, source: str | None = None
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
