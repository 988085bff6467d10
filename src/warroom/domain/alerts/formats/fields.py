"""Reading fields out of decoded webhook JSON, with every complaint naming its JSON path.

The parsers read with these helpers and collect complaints in a :class:`Problems` instead of
stopping at the first one, so a sender learns everything wrong with a body in one answer.
JSON ``null`` counts as absent everywhere. Nothing here recurses without a depth bound.

Times are checked against the observed window of :mod:`warroom.domain.shared.timefmt`
(1970 to a day after ``now``, the receive time the caller passes in). An alert's time
outside it is *set aside*, not refused (:func:`read_time` with ``set_aside``): the alert
reads as if the time were absent, so ingest uses the receive time, and the text as sent
is kept in the alert's ``extra["implausible_times"]``. Alertmanager and most senders do not
retry a 4xx, so refusing the body would lose every alert in it for one wrong clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import NoReturn

from warroom.domain.alerts.signals import ALERT_STATUSES, AlertStatus, JsonValue
from warroom.domain.shared.text import stored_size
from warroom.domain.shared.timefmt import observed_problem

MAX_VALUE_BYTES = 4096
"""Largest label name, label value or annotation value, in UTF-8 bytes."""
MAX_LABELS = 100
"""Most entries in one label or annotation map."""
MAX_KEY_CHARS = 255
"""Longest dedup key (fingerprint, PagerDuty dedup_key), as PagerDuty allows."""
MAX_TEXT_BYTES = 16384
"""Longest free-text field that is not a label: group keys, URLs, summaries."""
MAX_JSON_DEPTH = 32
"""Deepest nesting accepted in free-form parts (PagerDuty custom_details, Grafana values)."""
MAX_ERRORS = 50
"""Most messages reported for one body; the rest are counted, not listed."""
IMPLAUSIBLE_TIMES = "implausible_times"
"""The ``extra`` key of an alert that keeps the times set aside as implausible, as sent."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ZERO_TIME = datetime(1, 1, 1, tzinfo=UTC)


class InvalidAlertPayload(ValueError):
    """A webhook body that cannot be ingested; ``errors`` lists every reason found.

    Each message names the offending field by its JSON path, e.g.
    ``alerts[2].labels: must be an object of strings``. Entry points answer 400 with the list.
    """

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("invalid payload: " + "; ".join(self.errors))


class Problems:
    """Collects complaints about one body, keeping at most :data:`MAX_ERRORS` of them."""

    def __init__(self) -> None:
        self._messages: list[str] = []
        self._dropped = 0

    def add(self, path: str, message: str) -> None:
        """Record ``message`` about the field at ``path`` (``""`` is the body itself)."""
        self.add_message(f"{path or 'body'}: {message}")

    def add_message(self, message: str) -> None:
        """Record a complaint already worded in full (PagerDuty-style messages)."""
        if len(self._messages) < MAX_ERRORS:
            self._messages.append(message)
        else:
            self._dropped += 1

    def fail(self, path: str, message: str) -> NoReturn:
        """Record a complaint that makes reading on pointless, then raise them all."""
        self.add(path, message)
        self.raise_if_any()
        raise AssertionError("unreachable: raise_if_any raises after a complaint")

    def __len__(self) -> int:
        return len(self._messages) + self._dropped

    def raise_if_any(self) -> None:
        """Raise :class:`InvalidAlertPayload` carrying every complaint, if there is one."""
        if not self._messages:
            return
        messages = list(self._messages)
        if self._dropped:
            messages.append(f"... and {self._dropped} more errors")
        raise InvalidAlertPayload(messages)


def root_object(body: object) -> Mapping[str, object]:
    """The body as a JSON object, or :class:`InvalidAlertPayload` naming ``body``."""
    if isinstance(body, Mapping):
        return body
    raise InvalidAlertPayload([f"body: must be a JSON object, not {kind_of(body)}"])


def child(path: str, key: str) -> str:
    """The path of member ``key`` of the object at ``path``: ``alerts[0].labels``."""
    if len(key) > 64:
        # A hostile 4 KiB key would otherwise be echoed in full by every message about it.
        key = key[:61] + "..."
    if _IDENTIFIER.fullmatch(key):
        return f"{path}.{key}" if path else key
    # Keys such as "k8s.io/name" or "a b" are quoted so the path stays unambiguous.
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def item(path: str, index: int) -> str:
    """The path of element ``index`` of the array at ``path``: ``alerts[2]``."""
    return f"{path}[{index}]"


def as_object(value: object, path: str, problems: Problems) -> Mapping[str, object] | None:
    """``value`` if it is a JSON object, else a complaint and None."""
    if isinstance(value, Mapping):
        return value
    problems.add(path, f"must be a JSON object, not {kind_of(value)}")
    return None


def kind_of(value: object) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list | tuple):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def read_str(
    obj: Mapping[str, object],
    key: str,
    path: str,
    problems: Problems,
    *,
    required: bool = False,
    max_bytes: int | None = MAX_VALUE_BYTES,
) -> str | None:
    """The string member ``key``; None when absent or null (a complaint if ``required``).

    A required string must also be non-blank. ``max_bytes`` bounds its UTF-8 size.
    """
    value = obj.get(key)
    if value is None:
        if required:
            problems.add(child(path, key), "is required")
        return None
    if not isinstance(value, str):
        problems.add(child(path, key), f"must be a string, not {kind_of(value)}")
        return None
    if required and not value.strip():
        problems.add(child(path, key), "must not be empty")
        return None
    problem = text_problem(value, max_bytes)
    if problem is not None:
        problems.add(child(path, key), problem)
        return None
    return value


def read_choice(
    obj: Mapping[str, object],
    key: str,
    path: str,
    problems: Problems,
    choices: Sequence[str],
    *,
    required: bool = False,
) -> str | None:
    """The string member ``key`` if it is one of ``choices``; None when absent or null."""
    value = read_str(obj, key, path, problems, required=required)
    if value is not None and value not in choices:
        problems.add(child(path, key), f"must be one of {', '.join(choices)}, not {value!r}")
        return None
    return value


def read_status(
    obj: Mapping[str, object], key: str, path: str, problems: Problems, *, required: bool = False
) -> AlertStatus | None:
    """The member ``key`` as ``firing`` or ``resolved``; None when absent, null or invalid."""
    value = read_choice(obj, key, path, problems, tuple(ALERT_STATUSES), required=required)
    return None if value is None else ALERT_STATUSES[value]


def read_count(obj: Mapping[str, object], key: str, path: str, problems: Problems) -> int:
    """The non-negative integer member ``key``; 0 when absent or null."""
    value = obj.get(key)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems.add(child(path, key), "must be a non-negative integer")
        return 0
    return value


def read_string_map(
    obj: Mapping[str, object],
    key: str,
    path: str,
    problems: Problems,
    *,
    required: bool = False,
    non_empty: bool = False,
) -> dict[str, str]:
    """The member ``key`` as a ``str`` to ``str`` map; ``{}`` when absent, null or invalid.

    Bounded like labels: at most :data:`MAX_LABELS` entries, names non-empty, names and
    values at most :data:`MAX_VALUE_BYTES` bytes each.
    """
    where = child(path, key)
    value = obj.get(key)
    if value is None:
        if required:
            problems.add(where, "is required")
        return {}
    if not isinstance(value, Mapping):
        problems.add(where, f"must be an object of strings, not {kind_of(value)}")
        return {}
    if len(value) > MAX_LABELS:
        problems.add(where, f"has {len(value)} entries, more than the limit of {MAX_LABELS}")
        return {}
    if non_empty and not value:
        problems.add(where, "must have at least one entry")
        return {}
    if _plain_strings(value):
        return dict(value)  # the common case, checked in one cheap pass
    result: dict[str, str] = {}
    for name, entry in value.items():
        if not isinstance(name, str) or not name:
            problems.add(where, "has an empty name")
        elif (name_problem := text_problem(name, MAX_VALUE_BYTES)) is not None:
            problems.add(where, f"has a name that {name_problem}")
        elif not isinstance(entry, str):
            problems.add(child(where, name), f"must be a string, not {kind_of(entry)}")
        elif (value_problem := text_problem(entry, MAX_VALUE_BYTES)) is not None:
            problems.add(child(where, name), value_problem)
        else:
            result[name] = entry
    return result


def _plain_strings(value: Mapping[object, object]) -> bool:
    """Every name and value is an ASCII string without NUL that fits
    :data:`MAX_VALUE_BYTES`, and no name is empty: what the slow path would accept
    unchanged. Checked with C-level string operations, not a Python loop per entry."""
    if not value:
        return True
    try:
        names = "".join(value)  # type: ignore[arg-type]  # TypeError: not all strings
        values = "".join(value.values())  # type: ignore[arg-type]
    except TypeError:
        return False
    return (
        names.isascii()
        and values.isascii()
        and "\x00" not in names
        and "\x00" not in values
        and "" not in value
        and max(map(len, value)) <= MAX_VALUE_BYTES  # type: ignore[arg-type]
        and max(map(len, value.values())) <= MAX_VALUE_BYTES  # type: ignore[arg-type]
    )


def read_time(
    obj: Mapping[str, object],
    key: str,
    path: str,
    problems: Problems,
    *,
    zero_is_absent: bool = False,
    now: datetime | None = None,
    set_aside: dict[str, JsonValue] | None = None,
) -> datetime | None:
    """The RFC 3339 / ISO 8601 member ``key`` as aware UTC; None when absent or null.

    With ``zero_is_absent``, Go's zero time ``0001-01-01T00:00:00Z`` (Alertmanager's "not
    ended yet") also reads as None. A time outside the observed window (before 1970, more
    than a day after ``now``, or beyond what a time can represent) is a complaint, unless
    ``set_aside`` is given: then it reads as None and its text goes to ``set_aside[key]``.
    """
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        problems.add(child(path, key), f"must be an RFC 3339 time string, not {kind_of(value)}")
        return None
    try:
        return plausible_time(value, zero_is_absent=zero_is_absent, now=now)
    except ImplausibleTime as error:
        _implausible(value, key, path, str(error), problems, set_aside)
    except ValueError as error:
        problems.add(child(path, key), str(error))
    return None


class ImplausibleTime(ValueError):
    """A well-formed time outside the observed window; its message follows a field name."""


def plausible_time(text: str, *, zero_is_absent: bool, now: datetime | None) -> datetime | None:
    """``text`` as aware UTC when it is a plausible observed time (see :func:`read_time`):
    the one reading of an alert's time, whoever decoded the body.

    None for Go's zero time with ``zero_is_absent``. Raises :class:`ImplausibleTime` for a
    time outside the observed window or the calendar, ValueError for a malformed one.
    """
    parsed = parse_timestamp(text)
    if zero_is_absent and parsed == _ZERO_TIME:
        return None
    problem = observed_problem(parsed, now)
    if problem is not None:
        raise ImplausibleTime(problem)
    return parsed


def _implausible(
    value: str,
    key: str,
    path: str,
    problem: str,
    problems: Problems,
    set_aside: dict[str, JsonValue] | None,
) -> None:
    """A complaint about the time, or, with ``set_aside``, the time kept there as sent."""
    if set_aside is None:
        problems.add(child(path, key), problem)
    else:
        set_aside[key] = value


class TimeOutOfRange(ImplausibleTime):
    """A well-formed time that no aware UTC datetime can hold (year 0, 10000, ...)."""


def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 / ISO 8601 time that carries a zone offset into aware UTC.

    Raises ValueError with a message for a person: a naive time is refused because its zone
    would be a guess. Fractions finer than a microsecond (Go's nanoseconds) are truncated.
    A well-formed time beyond the calendar raises the subclass :class:`TimeOutOfRange`.
    """
    if len(text) > 64:
        raise ValueError("is not an RFC 3339 time (too long)")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        if _OUT_OF_CALENDAR.fullmatch(text):
            raise TimeOutOfRange(f"{text!r} is out of range") from None
        raise ValueError(f"{text!r} is not an RFC 3339 time such as 2026-11-26T22:20:55Z") from None
    if parsed.tzinfo is UTC:  # Z or +00:00, as most senders write: already the answer
        return parsed
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise ValueError(f"{text!r} has no timezone; add Z or an offset such as +00:00")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise TimeOutOfRange(f"{text!r} is out of range") from None


# Year 0 (Go marshals it) or a year of five digits and more, else shaped like RFC 3339
# with a zone: what a sender's broken clock writes, not a malformed body.
_OUT_OF_CALENDAR = re.compile(
    r"(0000|\+?\d{5,})-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})"
)


def read_json(value: object, path: str, problems: Problems) -> JsonValue:
    """``value`` checked to be plain JSON no deeper than :data:`MAX_JSON_DEPTH`; else None."""
    checked, ok = _json(value, path, problems, 0)
    return checked if ok else None


def _json(value: object, path: str, problems: Problems, depth: int) -> tuple[JsonValue, bool]:
    if depth > MAX_JSON_DEPTH:
        problems.add(path, f"is nested more than {MAX_JSON_DEPTH} levels deep")
        return None, False
    if isinstance(value, str):
        problem = text_problem(value, None)
        if problem is not None:
            problems.add(path, problem)
            return None, False
        return value, True
    if value is None or isinstance(value, bool | int | float):
        return value, True
    if isinstance(value, list):
        items: list[JsonValue] = []
        for index, element in enumerate(value):
            checked, ok = _json(element, item(path, index), problems, depth + 1)
            if not ok:
                return None, False
            items.append(checked)
        return items, True
    if isinstance(value, Mapping):
        members: dict[str, JsonValue] = {}
        for name, element in value.items():
            problem = text_problem(name, None) if isinstance(name, str) else "is not a string"
            if problem is not None:
                problems.add(path, f"has a member name that {problem}")
                return None, False
            checked, ok = _json(element, child(path, name), problems, depth + 1)
            if not ok:
                return None, False
            members[name] = checked
        return members, True
    problems.add(path, f"is not JSON ({kind_of(value)})")
    return None, False


_WORDS = ("must not contain NUL characters", "must be valid Unicode (it contains a lone surrogate)")


def text_problem(text: str, max_bytes: int | None) -> str | None:
    """What makes ``text`` unfit to store, worded to follow a field name; None if it is fine.

    The check is ``shared.text.stored_size`` (NUL, lone surrogates), in the words webhook
    senders read, plus the size limit of the field.
    """
    found = stored_size(text, _WORDS)
    if isinstance(found, str):
        return found
    return None if max_bytes is None or found <= max_bytes else f"is too long (more than {max_bytes} bytes)"


def fits(text: str, max_bytes: int) -> bool:
    """Whether ``text`` is at most ``max_bytes`` long in UTF-8."""
    # A character is at most 4 bytes, so short strings skip the encode.
    return len(text) * 4 <= max_bytes or len(text.encode("utf-8", "surrogatepass")) <= max_bytes
