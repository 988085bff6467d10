"""The status page's subscribers in SQL (see ``subscriber_tables``)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from warroom.domain.comms.subscribers import Subscriber
from warroom.storage.subscriber_tables import subscribers


def _names(text: str) -> tuple[str, ...]:
    return tuple(str(name) for name in json.loads(text or "[]"))


def _subscriber(row: Any) -> Subscriber:
    return Subscriber(
        id=row.id,
        kind=row.kind,
        target=row.target,
        services=_names(row.services),
        state=row.state,
        created_at=row.created_at,
        confirmed_at=row.confirmed_at,
        confirm_sent_at=row.confirm_sent_at,
        pending_services=_names(row.pending_services),
        secret=row.secret,
    )


class SqlSubscriberStore:
    def __init__(self, connection: Connection) -> None:
        self._c = connection

    def get(self, subscriber_id: int) -> Subscriber | None:
        row = self._c.execute(select(subscribers).where(subscribers.c.id == subscriber_id)).first()
        return None if row is None else _subscriber(row)

    def find(self, kind: str, target: str) -> Subscriber | None:
        query = select(subscribers).where(subscribers.c.kind == kind, subscribers.c.target == target)
        row = self._c.execute(query).first()
        return None if row is None else _subscriber(row)

    def add(
        self,
        kind: str,
        target: str,
        *,
        services: Sequence[str],
        state: str,
        secret: str | None,
        at: datetime,
    ) -> int:
        chosen = json.dumps(list(services))
        confirmed = state == "confirmed"
        result = self._c.execute(
            insert(subscribers).values(
                kind=kind,
                target=target,
                services=chosen if confirmed else "[]",
                pending_services=chosen,
                state=state,
                secret=secret,
                created_at=at,
                confirmed_at=at if confirmed else None,
                confirm_sent_at=None if confirmed else at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])

    def ask_again(self, subscriber_id: int, services: Sequence[str], at: datetime) -> None:
        self._c.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(pending_services=json.dumps(list(services)), confirm_sent_at=at)
        )

    def confirm(self, subscriber_id: int, at: datetime) -> bool:
        found = self.get(subscriber_id)
        if found is None:
            return False
        self._c.execute(
            update(subscribers)
            .where(subscribers.c.id == subscriber_id)
            .values(
                services=json.dumps(list(found.pending_services)),
                state="confirmed",
                confirmed_at=found.confirmed_at or at,
            )
        )
        return True

    def remove(self, subscriber_id: int) -> bool:
        result = self._c.execute(delete(subscribers).where(subscribers.c.id == subscriber_id))
        return bool(result.rowcount)

    def list(self, *, confirmed_only: bool = False, limit: int = 1000) -> list[Subscriber]:
        query = select(subscribers).order_by(subscribers.c.id).limit(limit)
        if confirmed_only:
            query = query.where(subscribers.c.state == "confirmed")
        return [_subscriber(row) for row in self._c.execute(query)]
