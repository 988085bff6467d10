"""Migration 0015: on PostgreSQL ``alert_transitions.alert`` has no foreign key (it cost a
row lock per ingested transition); SQLite keeps it; a downgrade to 0014 puts it back."""

from __future__ import annotations

from sqlalchemy import inspect

from tests.learning.test_schema import upgrade_down
from warroom.storage.db import make_engine
from warroom.storage.migrate import upgrade


def _referenced(engine: object) -> set[str]:
    keys = inspect(engine).get_foreign_keys("alert_transitions")
    return {key["referred_table"] for key in keys}


def test_postgresql_transitions_carry_no_key_and_a_downgrade_restores_it(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    try:
        upgrade(engine)
        assert "alerts" not in _referenced(engine)
        upgrade_down(engine, "0014")
        assert "alerts" in _referenced(engine)
        upgrade(engine)
        assert "alerts" not in _referenced(engine)
    finally:
        engine.dispose()


def test_sqlite_keeps_the_key(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        upgrade(engine)
        assert "alerts" in _referenced(engine)
    finally:
        engine.dispose()
