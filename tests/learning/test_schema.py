"""Migration 0006 creates exactly the tables of ``storage/learning_tables.py``, on SQLite and
PostgreSQL, and a downgrade removes them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from warroom.storage import learning_tables
from warroom.storage.db import make_engine
from warroom.storage.migrate import upgrade

TABLES = (learning_tables.postmortems, learning_tables.followups, learning_tables.reliability_records)


def test_the_migration_matches_the_tables(any_app: Any, database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        for table in TABLES:
            columns = {c["name"]: c for c in inspector.get_columns(table.name)}
            assert list(columns) == [c.name for c in table.columns], table.name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{table.name}.{column.name}"
            declared = {index.name for index in table.indexes}
            assert declared <= {index["name"] for index in inspector.get_indexes(table.name)}, table.name
        uniques = {u["name"] for u in inspector.get_unique_constraints("reliability_records")}
        assert "uq_reliability_records_source_id" in uniques
    finally:
        engine.dispose()


def test_downgrade_to_0005_drops_the_learning_tables(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        upgrade_down(engine, "0005")
        names = set(inspect(engine).get_table_names())
        assert not names & {table.name for table in TABLES}
        upgrade(engine)
        assert {table.name for table in TABLES} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def upgrade_down(engine: Any, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from warroom.storage.migrate import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
