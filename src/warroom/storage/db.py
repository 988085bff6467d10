"""Engines: the one place where SQLite pragmas and connection settings live."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import NullPool

SQLITE_BUSY_MS = 30_000
READONLY_KEY = "warroom_readonly"
PING_AFTER_IDLE = 1.0  # seconds a pooled PostgreSQL connection may rest before it is pinged
_IDLE_SINCE = "warroom_idle_since"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys, a busy timeout and
    ``BEGIN IMMEDIATE`` so a writer waits for the lock instead of failing mid-transaction."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            echo=echo,
            connect_args={
                "timeout": SQLITE_BUSY_MS / 1000,
                "isolation_level": None,
                "check_same_thread": False,
            },
            poolclass=NullPool if parsed.database in (None, "", ":memory:") else None,
        )
        _sqlite_pragmas(engine)
        return engine
    engine = create_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # the hot inserts write text arrays in PostgreSQL's binary form, which is in the
        # client encoding: always UTF-8, whatever the database's own encoding
        connect_args={"client_encoding": "utf8"},
    )
    _utc_sessions(engine)
    _ping_when_idle(engine)
    return engine


def _utc_sessions(engine: Engine) -> None:
    """Every PostgreSQL session speaks UTC, whatever the server's ``TimeZone``: a
    ``timestamptz`` is sent back in the session's zone, and in a zone west of UTC year 1
    (east: year 9999) falls outside what a Python datetime holds, so the read would fail.
    Stored times are compared and returned as instants; only their rendering changes."""

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("SET TIME ZONE 'UTC'")
        finally:
            cursor.close()
        dbapi_connection.commit()


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only when it rested for :data:`PING_AFTER_IDLE`.

    ``pool_pre_ping`` would cost a round trip on every checkout, which under a storm of
    webhook deliveries (a transaction every few milliseconds) is a tenth of the work. A
    connection that rested is pinged; a dead one is replaced by the pool (DisconnectionError
    makes it retry with a fresh connection), so a database restart during a quiet spell costs
    nobody an error. A connection that broke while busy fails its transaction, which the
    caller answers as a transient fault (503), and the pool drops it.
    """

    @event.listens_for(engine, "checkin")
    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE:
            return
        try:
            dbapi_connection.rollback()  # no round trip when idle; ends a dead transaction
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as error:
            raise DisconnectionError(f"a pooled connection is dead: {error}") from error


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # Writers take the lock up front (no upgrade deadlock mid-transaction); readers
        # get a deferred BEGIN and read their WAL snapshot without queueing for it.
        readonly = connection.info.get(READONLY_KEY, False)
        connection.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")
