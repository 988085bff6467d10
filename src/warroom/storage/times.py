"""How a UTC time is stored, in one place: ``types.UTCDateTime`` (SQLAlchemy) and the
sqlite3 reader (``sqlite_read``) both read and write it through these two functions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

T = TypeVar("T")


def utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite's text (naive, UTC) or a driver's
    datetime (naive UTC, or aware in the session's zone)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return from_sqlite_text(str(value))


def from_sqlite_text(text: str) -> datetime:
    """Aware UTC from a stored SQLite time text, including the unpadded years (``1-01-01
    00:00:01.000000``) that older versions wrote for years before 1000."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        year, dash, rest = text.partition("-")
        if not (dash and year.isdecimal() and len(year) < 4):
            raise
        parsed = datetime.fromisoformat(f"{year.zfill(4)}-{rest}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """An aware time as SQLAlchemy's SQLite ``DateTime`` stores it: naive UTC text with a
    four-digit year and microseconds (``2026-01-02 03:04:05.000006``), so text order is
    time order; a test holds it to SQLAlchemy's own."""
    return stored_utc(value).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def stored_utc(value: datetime) -> datetime:
    """An aware time in UTC, as every time is stored; a naive one is refused (its zone would
    be a guess)."""
    if value.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return value.astimezone(UTC)


def remembered(convert: Callable[[Any], T]) -> Callable[[Any], T]:
    """``convert``, remembering what it gave for each value (a group's alerts share their
    times and flags). A time with ``fold=1`` (the second pass through a repeated wall-clock
    hour) is equal to, and hashed as, its ``fold=0`` twin an hour earlier, so it is
    converted afresh and never remembered."""
    seen: dict[Any, T] = {}

    def at(value: Any) -> T:
        if getattr(value, "fold", 0):
            return convert(value)
        found = seen.get(value)
        if found is None:
            found = seen[value] = convert(value)
        return found

    return at
