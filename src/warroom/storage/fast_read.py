"""SQLAlchemy-free reads on SQLite, for the CLI's cold start (``list`` and ``show``).

``warroom list`` must start in under 300 ms; importing SQLAlchemy alone costs ~220 ms.
This reads the same read model with the standard library. It returns None whenever it
cannot answer exactly (not SQLite, no database yet, schema not at head), and the caller
falls back to the regular path, which also migrates.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from warroom.domain.incidents.changes import Change, ChangeKind
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.fold import restore
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import CorruptTimeline
from warroom.storage.migrate_head import HEAD

_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


def _iso(text: str) -> str:
    # SQLAlchemy's SQLite DateTime storage: "YYYY-MM-DD HH:MM:SS.ffffff" in UTC.
    date, _, time = text.partition(" ")
    if "." not in time:
        time += ".000000"
    return f"{date}T{time}Z"


def fast_summaries(
    url: str,
    *,
    open_only: bool,
    limit: int,
    status: str | None = None,
    severity: int | None = None,
    service: str | None = None,
) -> list[dict[str, Any]] | None:
    """The incident list as ``operations.list_incidents`` returns it, or None when this
    path cannot answer (the caller validates the filters before coming here)."""
    path = reader_for(url)
    if path is None:
        return None
    where = ["status != 'declaring'"]
    args: list[Any] = []
    if open_only:
        where.append("is_open = 1")
    if status is not None:
        where.append("status = ?")
        args.append(status)
    if severity is not None:
        where.append("severity = ?")
        args.append(severity)
    if service is not None:
        where.append("number IN (SELECT number FROM incident_services WHERE service = ?)")
        args.append(service)
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        rows = db.execute(
            "SELECT number, title, status, severity, kind, services, commander, declared_at, detected_at, "
            f"updated_at, version FROM incidents WHERE {' AND '.join(where)} "
            "ORDER BY is_open DESC, severity, number DESC LIMIT ?",
            (*args, limit),
        ).fetchall()
    finally:
        db.close()
    return [
        {
            "id": f"INC-{r[0]}",
            "number": r[0],
            "title": r[1],
            "status": r[2],
            "severity": f"SEV{r[3]}",
            "kind": r[4],
            "services": json.loads(r[5]),
            "commander": r[6],
            "declared_at": _iso(r[7]),
            "detected_at": _iso(r[8]),
            "updated_at": _iso(r[9]),
            "version": r[10],
        }
        for r in rows
    ]


# --- A read-only unit of work over sqlite3, for ``warroom show`` --------------------------
#
# The same IncidentStore / ChangeStore reads as the SQLAlchemy stores, answered with the
# standard library, so ``operations.room`` runs unchanged without importing SQLAlchemy.

SNAPSHOT_FORMAT = 1


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def _stored(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def read_payload(incident: int, seq: int, kind: str, text: str) -> dict[str, Any]:
    """An event's stored payload; :class:`CorruptTimeline` when it is not a JSON object."""
    try:
        payload = json.loads(text)
    except (TypeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        raise CorruptTimeline(incident, seq, kind, "its payload is not a JSON object")
    return payload


def _event(row: tuple[Any, ...]) -> Event:
    incident, seq, kind, payload, actor, occurred, recorded, prev_hash, digest = row
    return Event(
        incident,
        seq,
        kind,
        read_payload(incident, seq, kind, payload),
        actor,
        _time(occurred),
        _time(recorded),
        prev_hash,
        digest,
    )


class SqliteReadStore:
    """Reads of incidents and changes; every write raises (this path only shows)."""

    _EVENT_COLUMNS = "incident, seq, kind, payload, actor, occurred_at, recorded_at, prev_hash, hash"

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def version(self, number: int) -> int | None:
        row = self._db.execute(
            "SELECT version FROM incidents WHERE number = ? AND status != 'declaring'", (number,)
        ).fetchone()
        return None if row is None else int(row[0])

    def load(self, number: int) -> IncidentState:
        snap = self._db.execute(
            "SELECT version, format, state FROM snapshots WHERE number = ?", (number,)
        ).fetchone()
        usable = snap is not None and snap[1] == SNAPSHOT_FORMAT
        return restore(
            (snap[0], snap[2]) if usable else None, lambda after: self.events(number, after=after), number
        )

    def events(
        self,
        number: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Event]:
        sql = f"SELECT {self._EVENT_COLUMNS} FROM events WHERE incident = ? AND seq > ?"
        args: list[Any] = [number, after]
        if before is not None:
            sql += " AND seq < ?"
            args.append(before)
        sql += " ORDER BY seq DESC" if newest_first else " ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [_event(row) for row in self._db.execute(sql, args)]

    def between(self, services: Sequence[str], start: datetime, end: datetime) -> list[Change]:
        if not services:
            return []
        marks = ", ".join("?" for _ in services)
        rows = self._db.execute(
            "SELECT id, service, kind, at, summary, actor, source, dedup, details FROM changes "
            f"WHERE service IN ({marks}) AND at >= ? AND at <= ? ORDER BY at DESC, id DESC",
            [*services, _stored(start), _stored(end)],
        )
        return [
            Change(
                id=r[0],
                service=r[1],
                kind=ChangeKind(r[2]),
                at=_time(r[3]),
                summary=r[4],
                actor=r[5],
                source=r[6],
                dedup=r[7],
                details=json.loads(r[8]),
            )
            for r in rows
        ]


class SqliteReadUnitOfWork:
    """``with uow:`` opens a read-only connection; there is nothing to commit."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> SqliteReadUnitOfWork:
        self._db = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=5)
        self._db.execute("BEGIN")  # one consistent snapshot of the WAL for every read
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._db is not None
        self._db.close()
        self._db = None

    @property
    def incidents(self) -> SqliteReadStore:
        assert self._db is not None
        return SqliteReadStore(self._db)

    changes = incidents

    def commit(self) -> None:
        raise RuntimeError("the fast read path never writes")


def reader_for(url: str) -> Path | None:
    """The database file when ``url`` can be read on this path (SQLite at the current head)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or "?" in url:
        return None
    path = Path(url[len(prefix) :])
    if not path.is_file():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            row = db.execute("SELECT version_num FROM alembic_version").fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return path if row is not None and row[0] == HEAD else None
