"""Incident history from other tools, so the reliability review is useful from day one.

Three shapes are read (``docs/learning.md`` documents them for people):

``json``
    A JSON array of incident objects, an object ``{"incidents": [...]}``, or JSON Lines
    (one object per line). Each incident: ``id`` (required, unique in the file),
    ``title``, ``services`` (a list, or text separated by ``;`` or ``,``), ``severity``
    (required: ``SEV1``..``SEV4`` or 1..4), ``kind`` (availability, latency,
    data_integrity, security; default availability), the milestone times
    ``impact_started_at``, ``detected_at``, ``declared_at``, ``acknowledged_at``,
    ``mitigated_at``, ``resolved_at``, ``closed_at`` (ISO 8601 with a zone; at least one
    of declared and detected), ``contributing_factors`` (factor types), and
    ``followups_done_at`` (one entry per follow-up: the time it was done, or null /
    "" / "open" while it is not). Unknown keys are ignored.
``csv``
    The same fields as columns, with a header row; lists are separated by ``;``.
``pagerduty``
    PagerDuty's incident CSV export: ``id`` (or ``incident_number``), ``description``
    (or ``title``), ``service_name``, ``created_on`` (or ``created_at``),
    ``resolved_on``, ``seconds_to_first_ack``, ``seconds_to_resolve``, ``urgency``,
    ``priority``. An incident's creation is both its detection and its declaration;
    acknowledgement and resolution follow from the seconds when the times are absent.
    Severity comes from the priority (P1..P4 are SEV1..SEV4, P5 is SEV4), else from the
    urgency (high is SEV2, low is SEV4). Headers are matched case-insensitively.

Parsing is all or nothing: the first problem raises :class:`MalformedHistory` naming the
line (of the file, counting from 1) and the field, and nothing is returned. Every time,
given or derived from seconds, must be an observed time (``timefmt.observed_time``: 1970
or later, at most a day after the import).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.incidents.severity import IncidentKind
from warroom.domain.incidents.state import MILESTONES
from warroom.domain.learning.durations import IncidentRecord
from warroom.domain.learning.postmortem import FACTOR_TYPES
from warroom.domain.shared.errors import DomainError, ValidationError
from warroom.domain.shared.timefmt import observed_time, parse_time

FORMATS = ("json", "csv", "pagerduty")
NOT_DONE = frozenset({"", "open", "null", "none", "-"})
MAX_ID = 200
MAX_TITLE = 500
_SPLIT = re.compile(r"[;,]")
_PRIORITY = re.compile(r"^\s*p?([1-5])\b", re.IGNORECASE)
_PD_TIME = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%d %H:%M %z", "%Y/%m/%d %H:%M:%S %z")


class MalformedHistory(ValidationError):
    """The file cannot be imported: the first problem, with its line and field."""

    def __init__(self, line: int, field: str, problem: str) -> None:
        DomainError.__init__(self, f"line {line}: {field}: {problem}")
        self.field = field
        self.detail = problem
        self.line = line


@dataclass(frozen=True, slots=True)
class ImportedIncident:
    """One incident of another tool: where it came from, and what the review needs."""

    source: str
    external_id: str
    title: str
    line: int
    record: IncidentRecord


_PAGERDUTY_HEADERS = frozenset(
    {"created_on", "incident_number", "seconds_to_resolve", "escalation_policy_name"}
)


def guess_format(name: str, head: str) -> str:
    """The format of a file from its name and first characters: ``.json`` / ``.jsonl``
    (or text starting with ``[`` or ``{``) is json; a CSV whose header has PagerDuty's
    columns is pagerduty; any other CSV is csv."""
    lowered = name.lower()
    stripped = head.lstrip("\ufeff \t\r\n")
    if lowered.endswith((".json", ".jsonl", ".ndjson")) or stripped.startswith(("[", "{")):
        return "json"
    first = stripped.splitlines()[0] if stripped else ""
    header = {_header(cell) for cell in next(csv.reader([first]), [])}
    return "pagerduty" if header & _PAGERDUTY_HEADERS else "csv"


def parse_history(text: str, fmt: str, *, now: datetime) -> list[ImportedIncident]:
    """Every incident in ``text`` (of format ``fmt``), or :class:`MalformedHistory`;
    ``now`` bounds the times (none may lie more than a day after it)."""
    if fmt not in FORMATS:
        raise ValidationError("format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    text = text.removeprefix("\ufeff")
    if "\x00" in text:
        raise MalformedHistory(
            text.count("\n", 0, text.index("\x00")) + 1, "file", "contains a NUL character"
        )
    rows = _json_rows(text) if fmt == "json" else _csv_rows(text)
    build = _pagerduty if fmt == "pagerduty" else _documented
    seen: dict[str, int] = {}
    found: list[ImportedIncident] = []
    for line, row in rows:
        if not isinstance(row, Mapping):
            raise MalformedHistory(line, "incident", "must be an object with id, severity and times")
        try:
            item = build(row, fmt, line, now)
        except MalformedHistory:
            raise
        except ValidationError as exc:
            raise MalformedHistory(line, exc.field, exc.detail) from None
        if item.external_id in seen:
            raise MalformedHistory(line, "id", f"{item.external_id!r} repeats line {seen[item.external_id]}")
        seen[item.external_id] = line
        found.append(item)
    return found


# --- reading rows ------------------------------------------------------------------------


class _Lines:
    """Line numbers of increasing offsets in one pass over the text."""

    def __init__(self, text: str) -> None:
        self.text, self.offset, self.line = text, 0, 1

    def at(self, offset: int) -> int:
        self.line += self.text.count("\n", self.offset, offset)
        self.offset = offset
        return self.line


_WS = re.compile(r"[ \t\r\n]*")


def _json_rows(text: str) -> Iterator[tuple[int, Any]]:
    decoder, lines = json.JSONDecoder(), _Lines(text)

    def skip(pos: int) -> int:
        match = _WS.match(text, pos)
        return match.end() if match else pos

    def value(pos: int) -> tuple[Any, int]:
        try:
            return decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise MalformedHistory(exc.lineno, "json", exc.msg) from None
        except RecursionError:  # thousands of nested brackets: no incident looks like that
            raise MalformedHistory(lines.at(pos), "json", "nests too deeply to be an incident") from None

    def array(pos: int) -> Generator[tuple[int, Any], None, int]:
        """The items of the array at ``pos``; returns the offset after it."""
        pos = skip(pos + 1)
        if text.startswith("]", pos):
            return skip(pos + 1)
        while True:
            item, end = value(pos)
            yield lines.at(pos), item
            pos = skip(end)
            if text.startswith(",", pos):
                pos = skip(pos + 1)
            elif text.startswith("]", pos):
                return skip(pos + 1)
            else:
                raise MalformedHistory(lines.at(pos), "json", "expected ',' or ']' after an incident")

    start = skip(0)
    if start == len(text):
        raise MalformedHistory(1, "file", "is empty")
    if text[start] == "[":
        end = yield from array(start)
        if skip(end) != len(text):
            raise MalformedHistory(lines.at(end), "json", "unexpected text after the array")
        return
    first, end = value(start)
    if isinstance(first, dict) and isinstance(first.get("incidents"), list) and skip(end) == len(text):
        yield from array(_key_position(text, start, "incidents", decoder, skip))
        return
    pos = start  # JSON Lines: one incident object after another
    while pos < len(text):
        item, end = value(pos)
        yield lines.at(pos), item
        pos = skip(end)


def _key_position(
    text: str, start: int, key: str, decoder: json.JSONDecoder, skip: Callable[[int], int]
) -> int:
    """Where the value of ``key`` starts in the (valid) object at ``start``."""
    pos = skip(start + 1)
    while True:
        name, pos = decoder.raw_decode(text, pos)
        pos = skip(skip(pos) + 1)  # past ':'
        if name == key:
            return pos
        _, pos = decoder.raw_decode(text, pos)
        pos = skip(skip(pos) + 1)  # past ','


def _csv_rows(text: str) -> Iterator[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise MalformedHistory(reader.line_num or 1, "csv", str(exc)) from None
    if not header or not any(cell.strip() for cell in header):
        raise MalformedHistory(1, "header", "the first line must name the columns")
    names = [_header(cell) for cell in header]
    ended = reader.line_num
    while True:
        start = ended + 1
        try:
            cells = next(reader, None)
        except csv.Error as exc:
            raise MalformedHistory(start, "csv", str(exc)) from None
        if cells is None:
            return
        ended = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            raise MalformedHistory(
                start, "csv", f"{len(cells)} cells but the header names {len(names)} columns"
            )
        yield start, {name: cell for name, cell in zip(names, cells, strict=False)}


def _header(cell: str) -> str:
    return re.sub(r"[\s\-]+", "_", cell.strip().lower())


# --- building incidents -------------------------------------------------------------------


def _text(row: Mapping[str, Any], *names: str) -> str:
    for name in names:
        value = row.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ValidationError(name, "must be text")
        text = str(value).strip()
        if text:
            return text
    return ""


def _id(row: Mapping[str, Any], *names: str) -> str:
    found = _text(row, *names)
    if not found:
        raise ValidationError(names[0], "is required (the incident's id in the other tool)")
    if len(found) > MAX_ID:
        raise ValidationError(names[0], f"is longer than {MAX_ID} characters")
    return found


def _list(row: Mapping[str, Any], name: str) -> list[str]:
    value = row.get(name)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part.strip() for part in _SPLIT.split(value) if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise ValidationError(name, "must be a list of texts (or text separated by ';')")


def _time(value: Any, name: str, now: datetime) -> datetime | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValidationError(name, "must be an ISO 8601 time such as 2026-03-01T10:00:00Z")
    return observed_time(parse_time(value, name), name, now)


def _severity(value: Any) -> int:
    text = str(value if value is not None else "").strip().upper().removeprefix("SEV")
    if text in ("1", "2", "3", "4"):
        return int(text)
    raise ValidationError("severity", f"{value!r} is not one of SEV1, SEV2, SEV3, SEV4")


def _kind(value: str) -> str:
    kind = (value or "availability").strip().lower()
    if kind not in {k.value for k in IncidentKind}:
        raise ValidationError("kind", f"{value!r} is not one of {', '.join(k.value for k in IncidentKind)}")
    return kind


def _done_times(row: Mapping[str, Any], now: datetime) -> tuple[datetime | None, ...]:
    value = row.get("followups_done_at")
    if value is None:
        return ()
    items: list[Any] = value.split(";") if isinstance(value, str) else value
    if isinstance(value, str) and not value.strip():
        return ()
    if not isinstance(items, list):
        raise ValidationError("followups_done_at", "must be a list of times (or null while open)")
    done: list[datetime | None] = []
    for index, item in enumerate(items):
        if item is None or (isinstance(item, str) and item.strip().lower() in NOT_DONE):
            done.append(None)
        else:
            done.append(_time(item, f"followups_done_at[{index}]", now))
    return tuple(done)


def _documented(row: Mapping[str, Any], fmt: str, line: int, now: datetime) -> ImportedIncident:
    external = _id(row, "id")
    times = {name: _time(row.get(name), name, now) for name in MILESTONES}
    if times["declared_at"] is None and times["detected_at"] is None:
        raise ValidationError("declared_at", "is required (or detected_at): when did it happen?")
    factors = [factor.lower() for factor in _list(row, "contributing_factors")]
    for factor in factors:
        if factor not in FACTOR_TYPES:
            raise ValidationError(
                "contributing_factors", f"{factor!r} is not one of {', '.join(FACTOR_TYPES)}"
            )
    if "severity" not in row or row["severity"] in (None, ""):
        raise ValidationError("severity", "is required (SEV1..SEV4)")
    record = IncidentRecord(
        number=0,
        services=tuple(dict.fromkeys(_list(row, "services"))),
        severity=_severity(row["severity"]),
        kind=_kind(_text(row, "kind")),
        contributing_factors=tuple(factors),
        followups_done_at=_done_times(row, now),
        **times,
    )
    return ImportedIncident(fmt, external, _text(row, "title")[:MAX_TITLE], line, record)


def _pd_time(value: str, name: str, now: datetime) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    for pattern in _PD_TIME:
        try:
            found = datetime.strptime(text.replace(" UTC", " +0000"), pattern)
        except ValueError:
            continue
        return observed_time(found, name, now)
    return observed_time(parse_time(text, name), name, now)


def _seconds(row: Mapping[str, Any], name: str) -> timedelta | None:
    text = _text(row, name)
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        raise ValidationError(name, f"{text!r} is not a number of seconds") from None
    if not 0 <= seconds < 10**9:
        raise ValidationError(name, f"{text!r} is not a number of seconds >= 0")
    return timedelta(seconds=seconds)


def _pd_severity(row: Mapping[str, Any]) -> int:
    priority = _text(row, "priority", "priority_name")
    found = _PRIORITY.match(priority) if priority else None
    if found:
        return min(int(found.group(1)), 4)
    urgency = _text(row, "urgency").lower()
    if urgency == "high":
        return 2
    if urgency == "low":
        return 4
    if priority or urgency:
        raise ValidationError(
            "priority" if priority else "urgency", f"{priority or urgency!r} is not P1..P5 or high/low"
        )
    raise ValidationError("urgency", "is required (or priority) to derive a severity")


def _pagerduty(row: Mapping[str, Any], fmt: str, line: int, now: datetime) -> ImportedIncident:
    external = _id(row, "id", "incident_id", "incident_number")
    created_name = "created_on" if row.get("created_on") else "created_at"
    created = _pd_time(_text(row, "created_on", "created_at"), created_name, now)
    if created is None:
        raise ValidationError("created_on", "is required (when PagerDuty opened the incident)")
    resolved = _pd_time(_text(row, "resolved_on", "resolved_at"), "resolved_on", now)
    to_resolve = _seconds(row, "seconds_to_resolve")
    if resolved is None and to_resolve is not None:
        resolved = observed_time(created + to_resolve, "seconds_to_resolve", now)
    to_ack = _seconds(row, "seconds_to_first_ack")
    acknowledged = None
    if to_ack is not None:
        acknowledged = observed_time(created + to_ack, "seconds_to_first_ack", now)
    service = _text(row, "service_name", "service")
    record = IncidentRecord(
        number=0,
        services=(service,) if service else (),
        severity=_pd_severity(row),
        kind="availability",
        detected_at=created,
        declared_at=created,
        acknowledged_at=acknowledged,
        resolved_at=resolved,
    )
    title = _text(row, "description", "title", "summary")[:MAX_TITLE]
    return ImportedIncident(fmt, external, title, line, record)
