"""Time zones and wall-clock time: where a hand-off at 09:00 "in Europe/Berlin" lands in UTC.

A wall-clock time that does not exist (the hour skipped when clocks go forward) reads as
the same distance past the gap (02:30 becomes 03:30 summer time); one that happens twice
(the hour repeated when clocks go back) reads as its first occurrence. Both are what
``zoneinfo`` does with ``fold=0``, written down here because schedules depend on it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from warroom.domain.shared.errors import ValidationError

MAX_ZONE = 64


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for odd paths, OSError for folders
        return None


def require_zone(name: str | None, field: str = "time_zone") -> ZoneInfo:
    """The IANA zone called ``name``; an unknown or empty name is refused naming ``field``."""
    text = (name or "").strip()
    if not text:
        raise ValidationError(field, "is empty; give an IANA time zone such as Europe/Berlin or UTC")
    found = _zone(text) if len(text) <= MAX_ZONE and text.isascii() and "\x00" not in text else None
    if found is None:
        raise ValidationError(
            field, f"{text!r} is not a known time zone; use an IANA name such as Europe/Berlin or UTC"
        )
    return found


def wall_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The aware-UTC instant of the naive wall-clock time ``local`` in ``zone``."""
    offset = zone.utcoffset(local)  # read as local wall time (fold=0), as replace(tzinfo=zone) would
    return (local - offset).replace(tzinfo=UTC) if offset is not None else local.replace(tzinfo=UTC)


def utc_to_wall(at: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time in ``zone`` at the aware instant ``at``."""
    return at.astimezone(zone).replace(tzinfo=None)
