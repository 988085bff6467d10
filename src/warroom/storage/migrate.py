"""Bring a database to the migrated head; cheap when it already is there.

Every entry point calls :func:`ensure_schema`; it reads one row to compare revisions and
imports Alembic only when an upgrade is needed, which keeps CLI start-up fast.

Several replicas may start at once against one database. The upgrade runs in one
transaction that first takes a lock: ``pg_advisory_xact_lock`` on PostgreSQL, the
database's write lock (``BEGIN IMMEDIATE``, see ``storage.db``) on SQLite. One process
migrates; the others wait for it, then find the schema at head and do nothing. A database
whose schema is newer than this code (a replica left on an old release) is refused with
one line rather than run against tables it does not know.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from warroom.storage.migrate_head import HEAD  # bump the revision there

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock takes a bigint; "warroom" in ASCII, so other tools' keys do not clash.
ADVISORY_LOCK_KEY = 0x77_61_72_72_6F_6F_6D


class DatabaseError(RuntimeError):
    """The database cannot be used as it is; the message is one line for the operator."""


class DatabaseUnreachable(DatabaseError):
    """No connection could be made (yet): a worker waits, a server start fails."""


class SchemaTooNew(DatabaseError):
    """The database was migrated by a newer warroom than this one."""


def current_revision(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return _revision(connection)
    except OperationalError as exc:
        raise DatabaseUnreachable(f"the database does not answer ({_first_line(exc.orig or exc)})") from None


def _revision(connection: Connection) -> str | None:
    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return None if value is None else str(value)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def known_revisions() -> set[str]:
    """Every revision this code's migrations define."""
    from alembic.script import ScriptDirectory

    scripts = ScriptDirectory(str(MIGRATIONS))
    return {script.revision for script in scripts.walk_revisions()}


def refuse_newer(revision: str | None) -> None:
    if revision is not None and revision != HEAD and revision not in known_revisions():
        raise SchemaTooNew(
            f"the database schema is at revision {revision}, newer than this warroom knows "
            f"(its head is {HEAD}): upgrade warroom on this machine, or point it at the right database"
        )


def upgrade(engine: Engine, revision: str = "head") -> bool:
    """Migrate under the lock; returns True when this call ran migrations (False when
    another process had already brought the schema to ``revision`` while this one waited)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:  # SQLite: BEGIN IMMEDIATE, the write lock is held now
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        found = _revision(connection)
        refuse_newer(found)
        if revision == "head" and found == HEAD:
            return False
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    return True


def ensure_schema(engine: Engine) -> bool:
    """Upgrade to head if needed; returns True when this process ran migrations.

    Raises :class:`DatabaseUnreachable` when there is no connection and
    :class:`SchemaTooNew` when the database is ahead of this code."""
    found = current_revision(engine)
    if found == HEAD:
        return False
    refuse_newer(found)
    try:
        return upgrade(engine)
    except OperationalError as exc:
        raise DatabaseUnreachable(f"the database does not answer ({_first_line(exc.orig or exc)})") from None
