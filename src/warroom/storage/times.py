"""How a UTC time is stored, in one place: ``types.UTCDateTime`` (SQLAlchemy) and the
sqlite3 reader (``sqlite_read``) both read and write it through these two functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utc(value: Any) -> datetime | None:
    """A stored time as an aware UTC datetime: SQLite's text (naive, UTC) or a driver's
    datetime (naive UTC, or aware in the session's zone)."""
    if value is None:
        return None
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def sqlite_text(value: datetime) -> str:
    """An aware time as SQLAlchemy's SQLite ``DateTime`` stores it: naive UTC text with
    microseconds (``2026-01-02 03:04:05.000006``); a test holds it to SQLAlchemy's own."""
    if value.tzinfo is None:
        raise ValueError("refusing to store a naive datetime")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
