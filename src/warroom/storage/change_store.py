"""The change log: deploys, config and flag changes per service, deduplicated by key."""

from __future__ import annotations

import json
from dataclasses import replace

from sqlalchemy import Connection, insert, select

from warroom.domain.incidents.changes import Change
from warroom.storage.queries import CHANGE_COLUMNS, SqlReads
from warroom.storage.reads import ChangeReads, change_from_row
from warroom.storage.tables import changes


class SqlChangeStore(SqlReads, ChangeReads):
    """``add``; the read (``between``) is ``storage.reads.ChangeReads``."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, change: Change) -> tuple[Change, bool]:
        if change.dedup is not None:
            query = select(*CHANGE_COLUMNS).where(changes.c.dedup == change.dedup)
            existing = self._db.execute(query).first()
            if existing is not None:
                return change_from_row(existing), False
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
