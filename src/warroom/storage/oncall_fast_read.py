"""The on-call reads of ``warroom report`` with sqlite3 alone (no SQLAlchemy): the pages
of a window, the notifications they planned, the people's time zones."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from warroom.domain.oncall.documents import person_from
from warroom.domain.oncall.pages import Page
from warroom.domain.oncall.people import Person
from warroom.services.ports.oncall import PlannedNotification
from warroom.storage.oncall_rows import page_of, planned_of

_PAGE_TIMES = ("due_at", "opened_at", "triggered_at", "acked_at", "resolved_at")
_NOTE_TIMES = ("due_at", "sent_at")


def _stored(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _row(cursor: sqlite3.Cursor, values: tuple[Any, ...], times: tuple[str, ...]) -> SimpleNamespace:
    found = dict(zip([c[0] for c in cursor.description], values, strict=True))
    for key in times:
        if found.get(key) is not None:
            found[key] = datetime.fromisoformat(found[key]).replace(tzinfo=UTC)
    return SimpleNamespace(**found)


class SqliteOncallLoadStore:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def pages_between(self, start: datetime, end: datetime) -> list[Page]:
        cursor = self._db.execute(
            "SELECT * FROM pages WHERE opened_at >= ? AND opened_at < ? ORDER BY id",
            (_stored(start), _stored(end)),
        )
        return [page_of(_row(cursor, values, _PAGE_TIMES)) for values in cursor.fetchall()]

    def notifications(self, page_ids: Sequence[int]) -> list[PlannedNotification]:
        found: list[PlannedNotification] = []
        ids = list(page_ids)
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            marks = ",".join("?" * len(chunk))
            cursor = self._db.execute(
                f"SELECT * FROM page_notifications WHERE page_id IN ({marks}) ORDER BY id", chunk
            )
            found += [planned_of(_row(cursor, values, _NOTE_TIMES)) for values in cursor.fetchall()]
        return found

    def people(self) -> list[Person]:
        return [
            person_from(json.loads(text))
            for (text,) in self._db.execute("SELECT document FROM oncall_people")
        ]
