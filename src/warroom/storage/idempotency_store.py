"""First answers to POSTs with an ``Idempotency-Key``, unique per actor and key.

A request claims its key before it runs (status 0) and fills in the answer after; the
unique ``(actor, key)`` constraint makes exactly one of two concurrent retries run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from warroom.services.ports.idempotency import StoredResponse
from warroom.storage.tables import idempotency_keys as keys


def _record(row: Any) -> StoredResponse:
    return StoredResponse(
        actor=row.actor,
        key=row.key,
        method=row.method,
        path=row.path,
        request_hash=row.request_hash,
        status=row.status,
        body=row.body,
        created_at=row.created_at,
    )


class SqlIdempotencyStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def _find(self, actor: str, key: str) -> StoredResponse | None:
        row = self._db.execute(select(keys).where(keys.c.actor == actor, keys.c.key == key)).first()
        return None if row is None else _record(row)

    def reserve(self, record: StoredResponse) -> StoredResponse | None:
        existing = self._find(record.actor, record.key)
        if existing is not None:
            return existing
        try:
            with self._db.begin_nested():
                self._db.execute(
                    insert(keys).values(
                        actor=record.actor,
                        key=record.key,
                        method=record.method,
                        path=record.path,
                        request_hash=record.request_hash,
                        status=record.status,
                        body=record.body,
                        created_at=record.created_at,
                    )
                )
        except IntegrityError:
            return self._find(record.actor, record.key)
        return None

    def complete(self, actor: str, key: str, status: int, body: str) -> None:
        self._db.execute(
            update(keys).where(keys.c.actor == actor, keys.c.key == key).values(status=status, body=body)
        )

    def release(self, actor: str, key: str) -> None:
        self._db.execute(delete(keys).where(keys.c.actor == actor, keys.c.key == key))
