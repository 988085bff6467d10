"""The hot inserts' arrays in PostgreSQL's binary form: the very bytes psycopg's own list
dumper writes, and what PostgreSQL reads back is what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.adapt import PyFormat, Transformer

from warroom.storage.pg_arrays import binary_array

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=40)
ZONES = [
    UTC,
    timezone(timedelta(hours=5, minutes=30)),
    timezone(-timedelta(hours=8)),
    ZoneInfo("America/New_York"),  # clocks go back an hour: times in the repeated hour, fold=1
    ZoneInfo("Australia/Lord_Howe"),  # and half an hour
]
TIMES = st.datetimes(  # in zones away from UTC: a day in, so the instant is within Python's years
    min_value=datetime(1, 1, 2),
    max_value=datetime(9999, 12, 30, 23, 59, 59, 999999),
    timezones=st.sampled_from(ZONES),
    allow_imaginary=False,
)
VALUES = {
    "text": TEXT,
    "boolean": st.booleans(),
    "bigint": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "timestamptz": TIMES,
}
COLUMNS = st.sampled_from(sorted(VALUES)).flatmap(
    lambda kind: st.tuples(st.just(kind), st.lists(st.none() | VALUES[kind], max_size=30))
)


@pytest.fixture(scope="module")
def connection() -> Iterator[psycopg.Connection[Any]]:
    from tests.conftest import _admin_url

    _, admin = _admin_url()
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        from tests.conftest import _unavailable

        _unavailable(f"PostgreSQL unreachable: {str(exc).splitlines()[0]}")
    with conn:
        yield conn


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(column=COLUMNS)
def test_the_bytes_are_psycopgs_and_postgresql_reads_back_what_was_sent(
    connection: psycopg.Connection[Any], column: tuple[str, list[Any]]
) -> None:
    kind, values = column
    encoded = binary_array(kind, values)
    # psycopg sends an all-NULL list as text, and integers as the narrowest type that holds them
    if kind != "bigint" and any(value is not None for value in values):
        dumper = Transformer(connection).get_dumper(values, PyFormat.BINARY)
        assert (bytes(dumper.dump(values)), dumper.oid) == (encoded.data, encoded.oid)
    read = connection.execute(f"SELECT %b::{kind}[]", [encoded]).fetchone()
    assert read is not None
    if kind == "timestamptz":  # an instant in the repeated hour equals no time in another zone
        values = [None if value is None else value.astimezone(UTC) for value in values]
    assert read[0] == values


def test_a_naive_time_is_refused_rather_than_read_in_the_sessions_zone() -> None:
    with pytest.raises(ValueError, match="naive"):
        binary_array("timestamptz", [datetime(2026, 12, 4, 12, 0)])


def test_repeated_values_are_encoded_alike() -> None:
    at = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    same = bytes(
        binary_array("timestamptz", [at, at.astimezone(timezone(timedelta(hours=2))), None, at]).data
    )
    element = same[20:32]
    assert same[20:] == element + element + b"\xff\xff\xff\xff" + element


def test_a_time_in_the_repeated_hour_is_not_taken_for_its_twin_an_hour_earlier(
    connection: psycopg.Connection[Any],
) -> None:
    """01:30 on the night New York's clocks go back happens twice; the second (fold=1) is
    equal to, and hashed as, the first, but it is an hour later and is stored so."""
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    for values in ([first, second], [second, first]):
        read = connection.execute(
            "SELECT %b::timestamptz[]", [binary_array("timestamptz", values)]
        ).fetchone()
        assert read is not None
        assert read[0] == [value.astimezone(UTC) for value in values]
        assert abs(read[0][1] - read[0][0]) == timedelta(hours=1)


def test_the_inserts_memo_of_times_does_not_take_the_repeated_hour_for_its_twin() -> None:
    from warroom.storage.times import remembered

    first = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    second = first.replace(fold=1)
    calls: list[datetime] = []

    def convert(value: datetime) -> datetime:
        calls.append(value)
        return value.astimezone(UTC)

    at = remembered(convert)
    assert [at(first), at(second), at(first), at(second)] == [
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    ] * 2
    assert len(calls) == 3  # the first remembered; its twin converted each time


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("text", ["alertmanager"] * 100),
        ("text", [None] * 3),
        ("boolean", [False] * 40),
        ("bigint", [7] * 5),
        ("timestamptz", [datetime(2026, 12, 5, 20, 0, tzinfo=UTC)] * 60),
        # equal instants in two zones: UTC first, so encoded once and still the instant sent
        (
            "timestamptz",
            [
                datetime(2026, 12, 5, 20, 0, tzinfo=UTC),
                datetime(2026, 12, 5, 21, 0, tzinfo=timezone(timedelta(hours=1))),
            ],
        ),
    ],
)
def test_a_column_of_one_value_is_the_bytes_psycopg_writes(
    connection: psycopg.Connection[Any], kind: str, values: list[Any]
) -> None:
    """A body's source, status, group key and times are alike in every row: encoded once
    and repeated, the array is still byte for byte psycopg's and reads back as sent."""
    encoded = binary_array(kind, values)
    if kind != "bigint" and values[0] is not None:
        dumper = Transformer(connection).get_dumper(values, PyFormat.BINARY)
        assert (bytes(dumper.dump(values)), dumper.oid) == (encoded.data, encoded.oid)
    # PostgreSQL's own bytes for the array it read, NULL flag and all (it would read a
    # wrong flag without complaint)
    sent = connection.execute(f"SELECT array_send(%b::{kind}[])", [encoded]).fetchone()
    assert sent is not None and bytes(sent[0]) == bytes(encoded.data)
    read = connection.execute(f"SELECT %b::{kind}[]", [encoded]).fetchone()
    assert read is not None
    assert read[0] == values


def test_twins_in_a_repeated_hour_are_not_taken_for_one_value() -> None:
    """01:30 twice in New York (fold 0 and 1) compare equal but are an hour apart: a column
    of them is not encoded as one repeated element."""
    first = datetime(2026, 11, 1, 1, 30, tzinfo=ZoneInfo("America/New_York"))
    data = bytes(binary_array("timestamptz", [first, first.replace(fold=1)]).data)
    assert data[20:32] != data[32:44]
