"""Aware-UTC time helpers shared by the domain: parsing, formatting, durations, and the
windows every time that enters warroom must fall in.

Two windows, checked where a time enters (a webhook, the API, a form, the CLI, an import):

- an **observed** time (detection, impact start, a change, an alert's start or end, an
  imported incident's times) happened: from :data:`EARLIEST` (1970-01-01) to a little
  after now (:data:`OBSERVED_AHEAD`, one day of clock skew, unless the caller is stricter);
- a **planned** time (a follow-up's due date, a silence's end) lies ahead: from now to
  :data:`PLANNED_AHEAD` (about ten years) after it.

A time outside its window is refused with a :class:`ValidationError` naming the field, so
it is never stored. Reads must still be total for a time an older version stored: time
arithmetic on stored values goes through :func:`shifted`, which saturates instead of
raising ``OverflowError`` at the ends of the calendar.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from warroom.domain.shared.errors import ValidationError

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
"""No time before this is plausible for anything warroom records."""
OBSERVED_AHEAD = timedelta(days=1)
"""How far after now an observed time may lie (a sender's clock ahead of ours)."""
PLANNED_AHEAD = timedelta(days=3653)
"""How far ahead a planned time (a due date, a silence's end) may lie: about ten years."""
_FIRST = datetime.min.replace(tzinfo=UTC)
_LAST = datetime.max.replace(tzinfo=UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError(field, "needs a timezone (e.g. 2026-11-26T10:00:00Z)")
    try:
        return value.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 has no UTC equivalent
        raise ValidationError(field, f"{value.isoformat()} is out of range") from None


def observed_time(
    value: datetime, field: str, now: datetime, *, ahead: timedelta = OBSERVED_AHEAD
) -> datetime:
    """``value`` in UTC if it is a plausible time for something that happened:
    :data:`EARLIEST` <= value <= now + ``ahead``; else :class:`ValidationError` naming
    ``field``. A naive value is refused (:func:`require_aware`)."""
    value = require_aware(value, field)
    problem = observed_problem(value, now, ahead=ahead)
    if problem is not None:
        raise ValidationError(field, problem)
    return value


def observed_problem(
    value: datetime, now: datetime | None, *, ahead: timedelta = OBSERVED_AHEAD
) -> str | None:
    """Why aware ``value`` is implausible as an observed time, worded to follow a field
    name; None when it is plausible. Without ``now`` only the lower end is checked."""
    if value < EARLIEST:
        return f"{iso(value)} is before {iso(EARLIEST)[:10]}; give the time it happened"
    if now is not None and value > shifted(now, ahead):
        return f"{iso(value)} is in the future (now is {iso(now)})"
    return None


def planned_time(value: datetime, field: str, now: datetime, *, ahead: timedelta = PLANNED_AHEAD) -> datetime:
    """``value`` in UTC if it is a plausible time for something planned: now <= value <=
    now + ``ahead`` (about ten years by default); else :class:`ValidationError` naming
    ``field``. A naive value is refused (:func:`require_aware`)."""
    value = require_aware(value, field)
    if value < now:
        raise ValidationError(field, f"{iso(value)} is in the past (now is {iso(now)})")
    limit = shifted(now, ahead)
    if value > limit:
        raise ValidationError(field, f"{iso(value)} is too far ahead; the latest accepted is {iso(limit)}")
    return value


def shifted(value: datetime, delta: timedelta) -> datetime:
    """``value + delta``, saturating at the first and last representable instants instead of
    raising ``OverflowError``: reads of stored times must never fail on arithmetic."""
    try:
        return value + delta
    except OverflowError:
        first, last = (_FIRST, _LAST) if value.tzinfo is not None else (datetime.min, datetime.max)
        return last if delta > timedelta(0) else first


def parse_time(text: str, field: str) -> datetime:
    """Parse an ISO 8601 / RFC 3339 time with a zone offset (``Z`` allowed) into aware UTC:
    what machines send (webhooks, imported files). What people type: :func:`parse_when`."""
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


TIME_FORMS = (
    "an ISO 8601 time with a zone (2026-11-26T10:00Z), a date (2026-11-26), now, "
    "today, yesterday or tomorrow with an optional UTC time (yesterday 14:00), "
    "'10 minutes ago', 'in 2h', or a duration such as 30m, 2h, 14d, 2w"
)
"""Every form :func:`parse_when` takes, named in its refusals and in the CLI's help."""

DURATION_FORMS = "a duration such as 90s, 30m, 2h, 1h30m, 14d or 2w"
"""Every form :func:`parse_duration` takes."""

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
    "d": 86400, "day": 86400, "days": 86400,
    "w": 604800, "wk": 604800, "week": 604800, "weeks": 604800,
}  # fmt: skip
_PART = r"(\d{1,9})\s*(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")(?![a-z])"
_DURATION = re.compile(rf"^(?:{_PART}\s*)+$")
_PARTS = re.compile(_PART)
_RELATIVE = re.compile(r"^(?:(?P<in>in|\+)\s*)?(?P<span>.+?)(?:\s+(?P<ago>ago))?$")
_DAY_WORDS = {"today": 0, "yesterday": -1, "tomorrow": 1}
_DAY = re.compile(
    r"^(?P<day>today|yesterday|tomorrow|\d{4}-\d{2}-\d{2})"
    r"(?:[ t@]+(?P<clock>\d{1,2}:\d{2}(?::\d{2})?))?\s*(?P<utc>z|utc)?$"
)
_MAX_SECONDS = 3653 * 86400 * 100  # a thousand years: beyond it no answer can be in range


def parse_duration(text: str, field: str) -> timedelta:
    """``90s``, ``30m``, ``2h``, ``1h30m``, ``14d``, ``2w`` (also spelled out: ``10 minutes``)."""
    seconds = _seconds(text.strip().lower())
    if seconds is None:
        raise ValidationError(field, f"{text!r} is not {DURATION_FORMS}")
    if seconds > _MAX_SECONDS:
        raise ValidationError(field, f"{text!r} is too long; give at most a few years")
    return timedelta(seconds=seconds)


def _seconds(text: str) -> int | None:
    if not _DURATION.match(text):
        return None
    return sum(int(amount) * _UNITS[unit] for amount, unit in _PARTS.findall(text))


def parse_when(
    text: str, field: str, now: datetime, *, ahead: bool = False, day_end: bool = False
) -> datetime:
    """The one grammar for a time a person types (every CLI time option; the API takes it too).

    :data:`TIME_FORMS`: ISO 8601 with a zone; a date or ``today``/``yesterday``/``tomorrow``,
    optionally with a UTC ``HH:MM`` (a bare day is its start, or its last second with
    ``day_end``, as for a due date); ``now``; ``N unit ago``, ``in N unit``, ``+N unit``;
    a bare duration counts back from ``now``, or ahead with ``ahead`` (a due date, the end
    of a silence). Only parsed here: each use case checks the window the time must fall in.
    """
    raw = text.strip()
    lowered = " ".join(raw.lower().split())
    if not lowered:
        raise ValidationError(field, f"is empty; give {TIME_FORMS}")
    if lowered == "now":
        return now
    day = _DAY.match(lowered)
    # A date with a clock time needs its zone (Z, UTC, +01:00): a local time would be a guess.
    if day and (day.group("day") in _DAY_WORDS or not day.group("clock") or day.group("utc")):
        return _on_day(day.group("day"), day.group("clock"), field, now, day_end=day_end)
    relative = _RELATIVE.match(lowered)
    if relative:
        seconds = _seconds(relative.group("span"))
        forward, back = bool(relative.group("in")), bool(relative.group("ago"))
        if seconds is not None and not (forward and back):
            if seconds > _MAX_SECONDS:
                raise ValidationError(field, f"{text!r} is too far from now")
            delta = timedelta(seconds=seconds)
            return shifted(now, delta if forward or (ahead and not back) else -delta)
    try:
        parsed = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        raise ValidationError(field, f"{text!r} is not a time; give {TIME_FORMS}") from None
    return require_aware(parsed, field)


def _on_day(word: str, clock: str | None, field: str, now: datetime, *, day_end: bool) -> datetime:
    if word in _DAY_WORDS:
        day: date = (shifted(now, timedelta(days=_DAY_WORDS[word]))).date()
    else:
        try:
            day = date.fromisoformat(word)
        except ValueError:
            raise ValidationError(field, f"{word!r} is not a date such as 2026-12-01") from None
    if clock is None:
        return datetime.combine(day, time(23, 59, 59) if day_end else time(0), UTC)
    try:
        at = time.fromisoformat(clock.zfill(5) if len(clock) == 4 else clock)
    except ValueError:
        raise ValidationError(field, f"{clock!r} is not a time of day such as 14:00") from None
    return datetime.combine(day, at, UTC)


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
