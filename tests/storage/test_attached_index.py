"""Migration 0016: ``ix_alerts_incident`` holds attached alerts only, and the reads by
incident still use it (PostgreSQL and SQLite); a downgrade to 0015 makes it whole again."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text

from tests.learning.test_schema import upgrade_down
from warroom.storage.db import make_engine
from warroom.storage.migrate import upgrade


def _where(engine: Engine) -> str | None:
    (index,) = [i for i in inspect(engine).get_indexes("alerts") if i["name"] == "ix_alerts_incident"]
    options = index.get("dialect_options", {})
    where = options.get("postgresql_where") or options.get("sqlite_where")
    return None if where is None else str(where)


def _plan(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET enable_seqscan = off"))  # an empty table: ask what it could use
            rows = conn.execute(text("EXPLAIN SELECT id FROM alerts WHERE incident = :n"), {"n": 7})
        else:
            rows = conn.execute(
                text("EXPLAIN QUERY PLAN SELECT id FROM alerts WHERE incident = :n"), {"n": 7}
            )
        return "\n".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize("url_fixture", ["postgres_url", "sqlite_url"])
def test_the_index_is_partial_and_reads_by_incident_use_it(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    engine = make_engine(request.getfixturevalue(url_fixture))
    try:
        upgrade(engine)
        assert "incident IS NOT NULL" in (_where(engine) or "")
        assert "ix_alerts_incident" in _plan(engine)
        upgrade_down(engine, "0015")
        assert _where(engine) is None
        upgrade(engine)
        assert "incident IS NOT NULL" in (_where(engine) or "")
    finally:
        engine.dispose()
