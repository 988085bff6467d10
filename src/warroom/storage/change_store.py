"""The change log: deploys, config and flag changes per service, deduplicated by key."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from warroom.domain.incidents.changes import Change, ChangeKind
from warroom.storage.tables import changes


def _row(row: Any) -> Change:
    return Change(
        id=row.id,
        service=row.service,
        kind=ChangeKind(row.kind),
        at=row.at,
        summary=row.summary,
        actor=row.actor,
        source=row.source,
        dedup=row.dedup,
        details=json.loads(row.details),
    )


class SqlChangeStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, change: Change) -> tuple[Change, bool]:
        if change.dedup is not None:
            existing = self._db.execute(select(changes).where(changes.c.dedup == change.dedup)).first()
            if existing is not None:
                return _row(existing), False
        result = self._db.execute(
            insert(changes)
            .values(
                service=change.service,
                kind=change.kind.value,
                at=change.at,
                summary=change.summary,
                actor=change.actor,
                source=change.source,
                dedup=change.dedup,
                details=json.dumps(change.details),
            )
            .returning(changes.c.id)
        )
        return replace(change, id=int(result.scalar_one())), True

    def between(self, services: Sequence[str], start: datetime, end: datetime) -> list[Change]:
        query = (
            select(changes)
            .where(changes.c.service.in_(list(services)), changes.c.at >= start, changes.c.at <= end)
            .order_by(changes.c.at.desc(), changes.c.id.desc())
        )
        return [_row(row) for row in self._db.execute(query)]
