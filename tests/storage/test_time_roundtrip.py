"""Every time a datetime can hold round-trips through storage, on SQLite and PostgreSQL.

Entry points keep implausible times out (``timefmt``'s windows), but storage must not
depend on it: a value an older version stored, or one a future rule lets in, must read
back equal, keep its order, and never make a read fail. On SQLite a time is text, so the
year must be written with four digits (``strftime`` wrote ``1-01-01``, which no reader
parsed); on PostgreSQL a session in a zone west or east of UTC could not send year 1 or
year 9999 back.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Column, Integer, MetaData, Table, insert, select
from sqlalchemy.engine import Engine, make_url

from warroom.domain.alerts.policy import AlertPolicy
from warroom.domain.alerts.signals import AlertSignal
from warroom.services.alerts.ingest import AlertIngest
from warroom.services.alerts.queue import signal_groups
from warroom.storage.db import make_engine
from warroom.storage.times import from_sqlite_text, sqlite_text
from warroom.storage.types import UTCDateTime

FIRST = datetime.min.replace(tzinfo=UTC)
LAST = datetime.max.replace(tzinfo=UTC)
EDGES = [
    FIRST,
    datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC),
    datetime(999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1000, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2026, 11, 26, 10, 0, 0, 1, tzinfo=UTC),
    LAST,
]


def _converts(value: datetime) -> bool:
    try:
        value.astimezone(UTC)
    except OverflowError:
        return False
    return True


OFFSETS = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
TIMES = st.one_of(
    st.sampled_from(EDGES),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.just(UTC)),
    # odd offsets (+05:45, -09:30, ...): stored as the same instant, read back in UTC
    st.datetimes(
        min_value=datetime.min, max_value=datetime.max, timezones=st.builds(timezone, OFFSETS)
    ).filter(_converts),
)
SLOW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

metadata = MetaData()
probe = Table("time_probe", metadata, Column("id", Integer, primary_key=True), Column("at", UTCDateTime))


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The app's engine on a fresh database; on PostgreSQL the server's zone is set far
    from UTC (UTC+14), so a session that kept it could not return year 9999."""
    if database_url.startswith("postgresql"):
        import psycopg

        url = make_url(database_url)
        admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"ALTER DATABASE \"{url.database}\" SET timezone TO 'Pacific/Kiritimati'")
    made = make_engine(database_url)
    metadata.create_all(made)
    yield made
    made.dispose()


@given(TIMES)
@SLOW
def test_utc_datetime_round_trips_every_representable_time(engine: Engine, value: datetime) -> None:
    with engine.begin() as conn:
        conn.execute(probe.delete())
        conn.execute(insert(probe).values(id=1, at=value))
        stored = conn.execute(select(probe.c.at)).scalar_one()
    assert stored == value
    assert stored.utcoffset() == timedelta(0)


@given(st.lists(TIMES, min_size=2, max_size=6))
@SLOW
def test_stored_times_keep_their_order(engine: Engine, values: list[datetime]) -> None:
    with engine.begin() as conn:
        conn.execute(probe.delete())
        conn.execute(insert(probe), [{"id": i, "at": v} for i, v in enumerate(values)])
        ordered = list(conn.execute(select(probe.c.at).order_by(probe.c.at, probe.c.id)).scalars())
        later = conn.execute(select(probe.c.id).where(probe.c.at > values[0]).order_by(probe.c.id)).scalars()
        assert list(later) == [i for i, v in enumerate(values) if v > values[0]]
    assert ordered == sorted(values)


@given(TIMES)
@settings(max_examples=300, deadline=None)
def test_sqlite_text_is_padded_ordered_and_read_back(value: datetime) -> None:
    text = sqlite_text(value)
    assert text[4] == "-" and text[:4].isdigit()
    assert from_sqlite_text(text) == value
    assert (text < sqlite_text(datetime(1970, 1, 1, tzinfo=UTC))) == (
        value < datetime(1970, 1, 1, tzinfo=UTC)
    )


def test_unpadded_text_an_older_version_wrote_still_reads() -> None:
    assert from_sqlite_text("1-01-01 00:00:01.000000") == datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert from_sqlite_text("999-12-31 23:59:59.999999") == datetime(
        999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC
    )
    with pytest.raises(ValueError):
        from_sqlite_text("not a time")


def _signal(fingerprint: str, starts: datetime | None, ends: datetime | None, status: str) -> AlertSignal:
    return AlertSignal(
        source="generic",
        fingerprint=fingerprint,
        status=status,  # type: ignore[arg-type]
        labels={"alertname": "Edge", "service": "checkout", "severity": "warning"},
        annotations={},
        starts_at=starts,
        ends_at=ends,
        summary="edge of the calendar",
        severity="warning",
    )


def test_alerts_at_the_edges_of_the_calendar_round_trip_through_ingest(
    database_url: str, build_app: Any
) -> None:
    """The alert store writes times with raw SQL: year 1 and year 9999 read back equal, and
    the triage queue (which failed with ``Invalid isoformat string``) lists them."""
    app = build_app(database_url)
    ingest = AlertIngest(app.context, AlertPolicy())
    counter = itertools.count()
    signals = [
        _signal(f"edge-{next(counter)}", value, value if status == "resolved" else None, status)
        for value in EDGES
        for status in ("firing", "resolved")
    ]
    from warroom.domain.alerts.signals import ParsedBatch

    ingest.ingest(ParsedBatch(source="generic", signals=signals), "test")
    with app.context.uow() as uow:
        for signal in signals:
            record = uow.alerts.get("generic", signal.fingerprint)
            assert record is not None
            assert record.starts_at == signal.starts_at, signal.fingerprint
            assert record.ends_at == signal.ends_at, signal.fingerprint
            assert uow.alerts.history(record.id)[0][1] == signal.starts_at
    groups = signal_groups(app.context)
    assert groups and groups[0]["count"] == len(EDGES)


def test_rows_an_older_version_wrote_with_unpadded_years_still_read(sqlite_url: str, build_app: Any) -> None:
    """SQLite files written before the fix hold ``1-01-01 00:00:01.000000``: the queue and
    the alert reads must show them, not fail."""
    app = build_app(sqlite_url)
    ingest = AlertIngest(app.context, AlertPolicy())
    from warroom.domain.alerts.signals import ParsedBatch

    moment = datetime(2026, 11, 26, 10, tzinfo=UTC)
    ingest.ingest(ParsedBatch(source="generic", signals=[_signal("old", moment, None, "firing")]), "test")
    path = Path(make_url(sqlite_url).database or "")
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alerts SET starts_at = '1-01-01 00:00:01.000000'")
        conn.execute("UPDATE alert_transitions SET at = '1-01-01 00:00:01.000000'")
    with app.context.uow() as uow:
        record = uow.alerts.get("generic", "old")
        assert record is not None and record.starts_at == datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)
        assert uow.alerts.history(record.id)[0][1] == datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)
        assert uow.alerts.known("generic", ["old"])["old"].starts_at == datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert signal_groups(app.context)[0]["firing_since"] == "0001-01-01T00:00:01.000000Z"
