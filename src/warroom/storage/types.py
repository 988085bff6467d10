"""Column types that keep the storage boundary honest about time.

SQLite has no time type: a time is stored as the text of its naive UTC value,
``YYYY-MM-DD HH:MM:SS.ffffff``, with the year always four digits so that text order is
time order and every reader can parse it back. :func:`warroom.storage.times.sqlite_text` writes that text (for
the raw-SQL writers; :class:`UTCDateTime` writes the same) and ``from_sqlite_text``
reads it, also reading the unpadded years (``1-01-01 ...``) an older version wrote.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from warroom.storage.times import from_sqlite_text, stored_utc, utc


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in, aware UTC out, on SQLite (which has no zones) as on PostgreSQL.

    Every value :class:`datetime` can represent round-trips on both engines.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = stored_utc(value)
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
        return utc(value)
