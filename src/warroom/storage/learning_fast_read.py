"""``warroom report`` on SQLite without SQLAlchemy: the read-only unit of work of
``fast_read`` with a learning store that answers the two questions a review asks.

When some warroom incident's record is stale, the review must rebuild it (a write): the
caller sees ``stale_records()`` and takes the full path instead.
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from warroom.domain.learning.reliability import MeasuredIncident
from warroom.services.ports.learning import RecordFilter
from warroom.storage.fast_read import SqliteReadUnitOfWork, _stored
from warroom.storage.oncall_fast_read import SqliteOncallLoadStore

DURATIONS = ("detect", "declare", "acknowledge", "mitigate", "resolve")
_STALE = """
SELECT i.number FROM incidents AS i LEFT OUTER JOIN reliability_records AS r ON r.incident = i.number
WHERE i.status != 'declaring' AND (r.id IS NULL OR r.version != i.version)
ORDER BY i.number
"""
_MEASURED = (
    "SELECT services, severity, kind, anchor_at, month, "
    + ", ".join(f"{name}_seconds" for name in DURATIONS)
    + ", factors, followups_done FROM reliability_records"
)


class SqliteLearningReadStore:
    """``stale_records`` and ``measured`` of ``storage.learning_store``, over sqlite3."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def stale_records(self) -> list[int]:
        return [row[0] for row in self._db.execute(_STALE)]

    def measured(self, filters: RecordFilter) -> list[MeasuredIncident]:
        conditions: list[str] = []
        args: list[object] = []
        if filters.since is not None:
            conditions.append("anchor_at >= ?")
            args.append(_stored(filters.since))
        if filters.until is not None:
            conditions.append("anchor_at < ?")
            args.append(_stored(filters.until))
        if filters.severity is not None:
            conditions.append("severity = ?")
            args.append(filters.severity)
        query = _MEASURED + (" WHERE " + " AND ".join(conditions) if conditions else "")
        parse = datetime.fromisoformat
        return measured_rows(self._db.execute(query, args), lambda t: parse(t + "+00:00") if t else None)


def measured_rows(
    rows: Iterable[Sequence[Any]], when: Callable[[Any], datetime | None]
) -> list[MeasuredIncident]:
    """Rows of the ``reliability_records`` read model to review records; both the
    SQLAlchemy store and this reader use it (``when`` reads the anchor time as stored).
    Repeated JSON lists (services, factors, follow-ups) are parsed once."""
    lists: dict[str, tuple[str, ...]] = {}
    done_lists: dict[str, tuple[datetime | None, ...]] = {"[]": ()}
    parse, inf = datetime.fromisoformat, math.inf

    def strings(text: str) -> tuple[str, ...]:
        found = lists.get(text)
        if found is None:
            found = lists[text] = tuple(json.loads(text))
        return found

    def done(text: str) -> tuple[datetime | None, ...]:
        found = done_lists.get(text)
        if found is None:
            found = done_lists[text] = tuple(None if d is None else parse(d) for d in json.loads(text))
        return found

    return [
        MeasuredIncident(
            strings(services),
            severity,
            kind,
            when(anchor),
            month,
            (
                inf if detect is None else detect,
                inf if declare is None else declare,
                inf if acknowledge is None else acknowledge,
                inf if mitigate is None else mitigate,
                inf if resolve is None else resolve,
            ),
            strings(factors),
            done(followups),
        )
        for (
            services,
            severity,
            kind,
            anchor,
            month,
            detect,
            declare,
            acknowledge,
            mitigate,
            resolve,
            factors,
            followups,
        ) in rows
    ]


class SqliteLearningReadUnitOfWork(SqliteReadUnitOfWork):
    """The read-only unit of work, with :class:`SqliteLearningReadStore` as ``learning``."""

    @property
    def learning(self) -> SqliteLearningReadStore:
        assert self._db is not None, "use the unit of work inside a with block"
        return SqliteLearningReadStore(self._db)

    @property
    def oncall(self) -> SqliteOncallLoadStore:
        """The reads of the report's load on people (on call)."""
        assert self._db is not None, "use the unit of work inside a with block"
        return SqliteOncallLoadStore(self._db)
