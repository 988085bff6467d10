"""One read path: the stores' shared reads (``storage.reads``) answer the same whether
SQLAlchemy runs their Core statements or sqlite3 runs the SQLite text generated from
them (``storage.read_sql``), and the generated text is never stale."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import sqlite

from warroom.bootstrap import App
from warroom.domain.shared.errors import NotFound
from warroom.domain.shared.serial import to_data
from warroom.services import operations as ops
from warroom.services.learning import operations as lops
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.ports.learning import RecordFilter
from warroom.storage import readgen
from warroom.storage.sqlite_read import SqliteReadUnitOfWork, reader_for
from warroom.storage.tables import incidents
from warroom.storage.times import sqlite_text, utc
from warroom.storage.types import UTCDateTime

HISTORY = Path(__file__).parents[1] / "learning" / "fixtures" / "history.json"


def test_the_generated_sqlite_text_is_current() -> None:
    assert readgen.TARGET.read_text() == readgen.generated(), (
        "storage/read_sql.py is stale: run `python -m warroom.storage.readgen write`"
    )


def test_a_type_the_sqlite3_reader_cannot_convert_is_refused_when_generating() -> None:
    with pytest.raises(TypeError, match="result column 0"):
        readgen.compile_for_sqlite(select(incidents.c.is_open))
    with pytest.raises(TypeError, match="parameter open"):
        readgen.compile_for_sqlite(select(incidents.c.number).where(incidents.c.is_open == bindparam("open")))


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
        datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 6, 1, 1, 30, tzinfo=UTC) + timedelta(hours=2),
        datetime(2026, 6, 1, 1, 30).astimezone(),
    ],
)
def test_times_are_written_and_read_exactly_as_sqlalchemy_does_on_sqlite(value: datetime) -> None:
    dialect = sqlite.dialect()
    column_type = UTCDateTime().dialect_impl(dialect)
    write = column_type.bind_processor(dialect)
    read = column_type.result_processor(dialect, None)
    assert write is not None and read is not None
    assert sqlite_text(value) == write(value)
    assert utc(sqlite_text(value)) == read(write(value)) == value


@pytest.fixture
def seeded(build_app: Callable[..., App], sqlite_url: str) -> App:
    """Three incidents (one past two snapshots, one resolved), changes, imported history
    and current review records."""
    app = build_app(sqlite_url)
    ctx = app.context
    first = ops.declare(
        ctx, "pager", {"title": "Checkout errors", "services": "checkout", "customer_impact": "7%"}
    )
    ops.fact(ctx, "alice", first["id"], {"text": "5xx at 7%", "source": "dashboard"})
    ops.guess(ctx, "alice", first["id"], {"text": "the 10:00 deploy"})
    for i in range(230):
        ops.note(ctx, "bob", first["id"], {"text": f"note {i}"})
    second = ops.declare(
        ctx, "pager", {"title": "Search slow", "services": ["search", "checkout"], "customer_impact": "30%"}
    )
    ops.assign_role(ctx, "alice", second["id"], {"role": "commander", "person": "alice"})
    ops.mitigated(ctx, "alice", second["id"], {"evidence": "p99 back"})
    ops.resolve(
        ctx,
        "alice",
        second["id"],
        {"summary": "cache warmed", "impact_stopped": True, "risk_controlled": True},
    )
    ops.declare(ctx, "pager", {"title": "Inventory stale", "services": "inventory"})
    for service, summary in (("checkout", "v2"), ("search", "index flag"), ("checkout", "v3")):
        ops.add_change(ctx, "ci", {"service": service, "kind": "deploy", "summary": summary})
    lops.import_history(ctx, "ops", {"format": "json", "content": HISTORY.read_text()})
    lops.report(ctx, {})  # builds the warroom incidents' review records
    return app


def _both(app: App) -> tuple[Any, SqliteReadUnitOfWork]:
    path = reader_for(app.settings.database_url)
    assert path is not None
    return app.context.read(), SqliteReadUnitOfWork(path)


def _same(read: Callable[[Any], Any], sql: Any, lite: Any) -> Any:
    expected = read(sql)
    assert read(lite) == expected
    return expected


def test_every_incident_read_answers_the_same_both_ways(seeded: App) -> None:
    sql_uow, lite_uow = _both(seeded)
    with sql_uow as sql, lite_uow as lite:
        assert _same(lambda u: u.incidents.numbers(), sql, lite) == [1, 2, 3]
        for number in (1, 2, 3):
            assert _same(lambda u, n=number: u.incidents.version(n), sql, lite) is not None
            _same(lambda u, n=number: to_data(u.incidents.load(n)), sql, lite)
        assert _same(lambda u: u.incidents.version(99), sql, lite) is None
        for uow in (sql, lite):
            with pytest.raises(NotFound):
                uow.incidents.load(99)
        shapes = itertools.product((0, 5), (None, 7), (None, 3), (False, True))
        for after, before, limit, newest in shapes:
            found = _same(
                lambda u, a=after, b=before, li=limit, nf=newest: u.incidents.events(
                    1, after=a, before=b, limit=li, newest_first=nf
                ),
                sql,
                lite,
            )
            assert found and all(e.occurred_at.tzinfo is UTC for e in found)
        filters = itertools.product(
            (None, "triage", "resolved"), (None, 2, 3), (None, "checkout", "nothing"), (False, True), (1, 200)
        )
        for status, severity, service, open_only, limit in filters:
            query = IncidentFilter(status, severity, service, open_only, limit)
            _same(lambda u, q=query: u.incidents.summaries(q), sql, lite)


def test_the_change_and_review_reads_answer_the_same_both_ways(seeded: App) -> None:
    now = datetime.now(UTC)
    sql_uow, lite_uow = _both(seeded)
    with sql_uow as sql, lite_uow as lite:
        windows = [(now - timedelta(hours=1), now + timedelta(hours=1)), (now, now + timedelta(hours=1))]
        for services in ([], ["checkout"], ["checkout", "search"], ["nothing"]):
            for start, end in windows:
                _same(lambda u, s=services, a=start, b=end: u.changes.between(s, a, b), sql, lite)
        assert len(sql.changes.between(["checkout", "search"], *windows[0])) == 3
        assert _same(lambda u: u.learning.stale_records(), sql, lite) == []
        since, until = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
        for after, before, severity in itertools.product((None, since), (None, until), (None, 2)):
            records = _same(
                lambda u, f=RecordFilter(after, before, severity): u.learning.measured(f), sql, lite
            )
            assert all(r.anchor is None or r.anchor.tzinfo is UTC for r in records)
        assert len(sql.learning.measured(RecordFilter())) == 7  # 4 imported, 3 of warroom's own


def test_the_on_call_reads_of_the_report_answer_the_same_both_ways(
    sqlite_url: str, build_app: Callable[..., App]
) -> None:
    from tests.oncall.world import oncall_document
    from warroom.bootstrap import build_oncall
    from warroom.services.oncall import directory, escalation
    from warroom.services.oncall import pages as oncall_pages

    app = build_app(sqlite_url)
    ctx = app.context
    directory.apply_document(ctx, oncall_document("http://127.0.0.1:9/x"))
    config = build_oncall(app)
    opened = [
        oncall_pages.open_page(ctx, config, target, f"why {i}", "alice").id
        for i, target in enumerate(("payments", "bob", "incident-commanders"))
    ]
    escalation.escalate(ctx, config)
    now = datetime.now(UTC)
    sql_uow, lite_uow = _both(app)
    with sql_uow as sql, lite_uow as lite:
        for start, end in (
            (now - timedelta(hours=1), now + timedelta(hours=1)),
            (now, now + timedelta(hours=1)),
        ):
            _same(lambda u, a=start, b=end: u.oncall.pages_between(a, b), sql, lite)
        assert [p.id for p in sql.oncall.pages_between(now - timedelta(hours=1), now)] == opened
        for ids in ([], opened[:1], opened, [*opened, 999]):
            _same(lambda u, i=ids: u.oncall.notifications(i), sql, lite)
        assert sql.oncall.notifications(opened) and sql.oncall.notifications([]) == []
        people = _same(lambda u: u.oncall.people(), sql, lite)
        assert [p.handle for p in people] == ["alice", "bob", "ivan"]


def test_the_token_read_answers_the_same_both_ways(seeded: App) -> None:
    from warroom.services.identity import auth

    ctx = seeded.context
    auth.create_token(ctx, "release-bot", "responder")
    _, info = auth.create_token(ctx, "ci-bot", "responder")
    auth.revoke_token(ctx, info.id)  # revoked tokens still name what they did
    sql_uow, lite_uow = _both(seeded)
    with sql_uow as sql, lite_uow as lite:
        found = _same(lambda u: u.tokens.all(), sql, lite)
    assert [(t.name, t.kind, t.revoked_at is not None) for t in found] == [
        ("release-bot", "service", False),
        ("ci-bot", "service", True),
    ]
