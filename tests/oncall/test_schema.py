"""Migration 0008 creates exactly the tables of ``storage/oncall_tables.py`` on SQLite and
PostgreSQL, and a downgrade to 0007 removes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect

from tests.learning.test_schema import upgrade_down
from warroom.storage import oncall_tables
from warroom.storage.db import make_engine
from warroom.storage.migrate import upgrade


def test_the_migration_matches_the_tables(build_app: Callable[..., Any], database_url: str) -> None:
    build_app(database_url)
    engine = make_engine(database_url)
    try:
        inspector = inspect(engine)
        for table in oncall_tables.TABLES:
            columns = {c["name"]: c for c in inspector.get_columns(table.name)}
            assert list(columns) == [c.name for c in table.columns], table.name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, f"{table.name}.{column.name}"
            declared = {index.name for index in table.indexes}
            assert declared <= {index["name"] for index in inspector.get_indexes(table.name)}, table.name
    finally:
        engine.dispose()


def test_downgrade_to_0007_drops_the_oncall_tables(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        upgrade_down(engine, "0007")
        names = set(inspect(engine).get_table_names())
        assert not names & {table.name for table in oncall_tables.TABLES}
        upgrade(engine)
        assert {table.name for table in oncall_tables.TABLES} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
