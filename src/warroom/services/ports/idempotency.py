"""The port behind idempotent POSTs: the first answer to a key, stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class StoredResponse:
    """The first answer to a POST carrying an ``Idempotency-Key``; status 0 while in flight."""

    actor: str
    key: str
    method: str
    path: str
    request_hash: str
    status: int
    body: str
    created_at: datetime


class IdempotencyStore(Protocol):
    def reserve(self, record: StoredResponse) -> StoredResponse | None:
        """Claim ``(record.actor, record.key)``; returns the existing record when already claimed."""
        ...

    def complete(self, actor: str, key: str, status: int, body: str) -> None: ...

    def release(self, actor: str, key: str) -> None:
        """Forget a claim whose request failed, so a retry runs again."""
        ...
