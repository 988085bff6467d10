"""Aware-UTC time helpers shared by the domain: parsing, formatting, durations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.domain.shared.errors import ValidationError


def require_aware(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "needs a timezone (e.g. 2026-11-26T10:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValidationError(field, f"{value.isoformat()} is out of range") from None


def parse_time(text: str, field: str) -> datetime:
    """Parse an ISO 8601 / RFC 3339 time with a zone offset (``Z`` allowed) into aware UTC."""
    raw = text.strip()
    if not raw:
        raise ValidationError(field, "is empty; give an ISO 8601 time such as 2026-11-26T10:00Z")
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValidationError(
            field, f"{text!r} is not an ISO 8601 time such as 2026-11-26T10:00:00Z"
        ) from None
    return require_aware(parsed, field)


def iso(value: datetime) -> str:
    """The canonical text form of a stored time: UTC, microseconds, ``Z`` suffix.

    Hashed into the chain, so it must never change: the same text as
    ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")``, except that years before 1000 keep four digits
    (strftime wrote ``500-01-01...``, which ``from_iso`` cannot read back).
    """
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def from_iso(text: str) -> datetime:
    """Inverse of :func:`iso` (accepts any aware ISO 8601 text)."""
    return datetime.fromisoformat(text).astimezone(UTC)


def human_duration(delta: timedelta) -> str:
    """``1h 05m``, ``4m 10s``, ``12s``: compact and exact to the second."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h {minutes:02d}m"
    if hours:
        return f"{sign}{hours}h {minutes:02d}m"
    if minutes:
        return f"{sign}{minutes}m {secs:02d}s"
    return f"{sign}{secs}s"
