"""Bring a database to the migrated head; cheap when it already is there.

Every entry point calls :func:`ensure_schema`; it reads one row to compare revisions and
imports Alembic only when an upgrade is needed, which keeps CLI start-up fast.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from warroom.storage.migrate_head import HEAD  # bump the revision there

MIGRATIONS = Path(__file__).parent / "migrations"


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def ensure_schema(engine: Engine) -> bool:
    """Upgrade to head if needed; returns True when migrations ran."""
    if current_revision(engine) == HEAD:
        return False
    upgrade(engine)
    return True
