"""Idempotent POSTs: the first answer to a key is the answer to every retry with that key.

A request with an ``Idempotency-Key`` claims ``(actor, key)`` before it runs and stores its
answer after a success; a retry gets the stored answer and changes nothing. A failed
request releases its claim (it changed nothing), so a retry runs again. Keys are per
actor, so two clients cannot collide or read each other's answers.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from warroom.domain.shared.errors import ConcurrencyConflict, ValidationError
from warroom.services.ports.idempotency import StoredResponse
from warroom.services.shared.context import Context

MAX_KEY = 200
FIELD = "Idempotency-Key"
# A claim still unanswered after this long belongs to a request that died (the process
# stopped between its commit and storing the answer); a retry may then run again.
STALE = timedelta(minutes=2)


@dataclass(frozen=True)
class Replay:
    status: int
    body: str


def request_hash(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY or not key.isprintable() or not key.isascii():
        raise ValidationError(FIELD, f"must be 1..{MAX_KEY} printable ASCII characters")
    return key


def claim(ctx: Context, actor: str, key: str, method: str, path: str, fingerprint: str) -> Replay | None:
    """Claim ``key`` for this request; returns the first answer when it was already given.

    Raises ``ValidationError`` when the key was used for a different request and
    ``ConcurrencyConflict`` while the first request with the key is still running.
    """
    record = StoredResponse(
        actor=actor,
        key=check_key(key),
        method=method,
        path=path,
        request_hash=fingerprint,
        status=0,
        body="",
        created_at=ctx.clock.now(),
    )
    with ctx.uow() as uow:
        existing = uow.idempotency.reserve(record)
        if existing is not None and existing.status == 0 and record.created_at - existing.created_at > STALE:
            uow.idempotency.release(actor, key)
            existing = uow.idempotency.reserve(record)
        uow.commit()
    if existing is None:
        return None
    if (existing.method, existing.path, existing.request_hash) != (method, path, fingerprint):
        raise ValidationError(FIELD, "was already used for a different request; use a new key")
    if existing.status == 0:
        raise ConcurrencyConflict("a request with this Idempotency-Key is still running; retry shortly")
    return Replay(status=existing.status, body=existing.body)


def remember(ctx: Context, actor: str, key: str, status: int, body: str) -> None:
    with ctx.uow() as uow:
        uow.idempotency.complete(actor, key, status, body)
        uow.commit()


def release(ctx: Context, actor: str, key: str) -> None:
    with ctx.uow() as uow:
        uow.idempotency.release(actor, key)
        uow.commit()
