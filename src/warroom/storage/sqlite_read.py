"""The stores' shared reads on SQLite with the standard library, for the CLI's cold start.

``warroom list``, ``show`` and ``report`` must start in under 300 ms, and importing
SQLAlchemy alone costs about 200 ms of it. So this module runs the reads of
:mod:`warroom.storage.reads` (the same methods and row mappings as the SQLAlchemy
stores) with sqlite3, executing the SQLite text compiled from the stores' own Core
statements (:mod:`warroom.storage.read_sql`): there is no second SQL to keep in step.

:func:`reader_for` answers None whenever this path cannot answer exactly (not SQLite,
no database yet, schema not at head), and the caller falls back to the regular path,
which also migrates.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from warroom.storage.migrate_head import HEAD
from warroom.storage.read_sql import STATEMENTS
from warroom.storage.reads import (
    ChangeReads,
    IncidentReads,
    LearningReads,
    OncallReads,
    TokenReads,
    key,
    with_utc_times,
)
from warroom.storage.times import sqlite_text


def execute(
    db: sqlite3.Connection, name: str, params: Mapping[str, Any], shape: Mapping[str, bool]
) -> list[Any]:
    """The rows of query ``name`` in ``shape``, typed as SQLAlchemy would type them."""
    statement = STATEMENTS[key(name, shape)]
    sql = statement.sql
    values = statement.constants | dict(params)
    for name_ in statement.times:
        values[name_] = sqlite_text(values[name_])
    for name_ in statement.lists:
        items = values.pop(name_)
        sql = sql.replace(f"__[POSTCOMPILE_{name_}]", ", ".join(f":{name_}__{i}" for i in range(len(items))))
        values.update({f"{name_}__{i}": item for i, item in enumerate(items)})
    return with_utc_times(db.execute(sql, values), statement.time_columns)


class SqliteReads(IncidentReads, ChangeReads, LearningReads, OncallReads, TokenReads):
    """The incident, change, learning, on-call and token stores' reads; this path never writes."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def _fetch(self, name: str, params: Mapping[str, Any], **shape: bool) -> Sequence[Sequence[Any]]:
        return execute(self._db, name, params, shape)


class SqliteReadUnitOfWork:
    """``with uow:`` opens a read-only connection on one snapshot; there is nothing to commit."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._reads: SqliteReads | None = None
        self._db: sqlite3.Connection | None = None

    def __enter__(self) -> SqliteReadUnitOfWork:
        self._db = sqlite3.connect(f"file:{self._path}?mode=ro", uri=True, timeout=5)
        self._db.execute("BEGIN")  # one consistent snapshot of the WAL for every read
        self._reads = SqliteReads(self._db)
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._db is not None
        self._db.close()
        self._db = self._reads = None

    @property
    def incidents(self) -> SqliteReads:
        assert self._reads is not None, "use the unit of work inside a with block"
        return self._reads

    # ``oncall``: the reads ``warroom report`` makes (pages, their notifications, zones);
    # ``oncall`` and ``tokens``: the people and services ``warroom show`` names
    changes = learning = oncall = tokens = incidents

    def commit(self) -> None:
        raise RuntimeError("the sqlite3 read path never writes")


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
