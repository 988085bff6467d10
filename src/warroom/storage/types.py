"""Column types that keep the storage boundary honest about time.

SQLite has no time type: a time is stored as the text of its naive UTC value,
``YYYY-MM-DD HH:MM:SS.ffffff``, with the year always four digits so that text order is
time order and every reader can parse it back. :func:`sqlite_text` writes that text (for
the raw-SQL writers; :class:`UTCDateTime` writes the same) and :func:`from_sqlite_text`
reads it, also reading the unpadded years (``1-01-01 ...``) an older version wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


def sqlite_text(value: datetime) -> str:
    """The stored SQLite text of an aware time: naive UTC, four-digit year, microseconds."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def from_sqlite_text(text: str) -> datetime:
    """Aware UTC from a stored SQLite time text, including the unpadded years (``1-01-01
    00:00:01.000000``) that older versions wrote for years before 1000."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        year, dash, rest = text.partition("-")
        if not (dash and year.isdigit() and len(year) < 4):
            raise
        parsed = datetime.fromisoformat(f"{year.zfill(4)}-{rest}")
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on SQLite (which has no zones) as on PostgreSQL.

    Every value :class:`datetime` can represent round-trips on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], datetime | None] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        # SQLite hands back the stored text: read it here rather than through the generic
        # DATETIME processor, which cannot read the unpadded years older versions wrote.
        def process(value: Any) -> datetime | None:
            if value is None:
                return None
            if isinstance(value, datetime):
                return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
            return from_sqlite_text(str(value))

        return process

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        parsed = value if isinstance(value, datetime) else from_sqlite_text(str(value))
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
