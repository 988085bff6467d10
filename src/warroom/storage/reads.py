"""The stores' reads that the CLI's cold path shares, written once, without SQLAlchemy.

Each read names a query of :mod:`warroom.storage.queries` (SQLAlchemy Core: the one
source of the SQL) and the shape it needs (which optional clauses), then maps the rows
to domain objects. Two executions answer ``_fetch``:

- the SQLAlchemy stores (``incident_store``, ``change_store``, ``learning_store``,
  ``oncall_store``, ``token_store``) run
  the Core statement, on any database;
- :mod:`warroom.storage.sqlite_read` runs the statement's SQLite text, compiled ahead
  into :mod:`warroom.storage.read_sql` by ``python -m warroom.storage.readgen write``,
  with the standard library's sqlite3, so ``warroom list``, ``show`` and ``report``
  start without importing SQLAlchemy (about 200 ms of a 300 ms budget).

Both hand the mapping the same values (time columns as aware UTC datetimes), so one
mapping serves both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

from warroom.domain.incidents.changes import Change, ChangeKind
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.fold import restore
from warroom.domain.shared.errors import CorruptTimeline
from warroom.services.ports.identity import TokenInfo
from warroom.services.ports.incidents import IncidentSummary
from warroom.storage.times import utc

if TYPE_CHECKING:  # the learning context loads only when a review reads (`warroom report`)
    from warroom.domain.incidents.state import IncidentState
    from warroom.domain.learning.durations import MeasuredIncident
    from warroom.services.ports.incidents import IncidentFilter
    from warroom.services.ports.learning import RecordFilter

if TYPE_CHECKING:  # the on-call context loads only when its reads run
    from warroom.domain.oncall.pages import Page
    from warroom.domain.oncall.people import Person
    from warroom.services.ports.oncall import PlannedNotification

SNAPSHOT_FORMAT = 1

Rows = Iterable[Sequence[Any]]


class Statement(NamedTuple):
    """One read query as SQLite text, for sqlite3 (see ``storage.readgen``)."""

    sql: str  # named parameters (``:number``); an IN list is ``__[POSTCOMPILE_name]``
    constants: dict[str, Any]  # parameters whose value the statement carries, as stored
    times: tuple[str, ...] = ()  # parameters that are times (stored as SQLite text)
    lists: tuple[str, ...] = ()  # parameters that are IN lists
    time_columns: tuple[int, ...] = ()  # result columns that are times


def with_utc_times(rows: Iterable[Sequence[Any]], columns: Sequence[int]) -> list[Sequence[Any]]:
    """``rows`` with their time ``columns`` read as aware UTC, as ``UTCDateTime`` reads them:
    for a shared read run by a driver itself (sqlite3, or psycopg in a pipeline)."""
    if not columns:
        return list(rows)
    typed: list[Sequence[Any]] = []
    for row in rows:
        values = list(row)
        for index in columns:
            values[index] = utc(values[index])
        typed.append(values)
    return typed


def key(name: str, shape: Mapping[str, bool]) -> str:
    """The name of one shape of a query: ``events[before,limit]``."""
    flags = sorted(flag for flag, on in shape.items() if on)
    return f"{name}[{','.join(flags)}]" if flags else name


class Reads:
    def _fetch(self, name: str, params: Mapping[str, Any], **shape: bool) -> Rows:
        """The rows of query ``name`` of ``storage.queries`` in ``shape`` with ``params``."""
        raise NotImplementedError


# --- incidents -----------------------------------------------------------------------------


def read_payload(incident: int, seq: int, kind: str, text: str) -> dict[str, Any]:
    """An event's stored payload; :class:`CorruptTimeline` when it is not a JSON object."""
    try:
        payload = json.loads(text)
    except (TypeError, ValueError):
        payload = None
    if not isinstance(payload, dict):
        raise CorruptTimeline(incident, seq, kind, "its payload is not a JSON object")
    return payload


def event_from_row(row: Sequence[Any]) -> Event:
    """A row of ``queries.events`` (the columns of ``queries.EVENT_COLUMNS``)."""
    incident, seq, kind, payload, actor, occurred, recorded, prev_hash, digest = row
    return Event(
        incident,
        seq,
        kind,
        read_payload(incident, seq, kind, payload),
        actor,
        occurred,
        recorded,
        prev_hash,
        digest,
    )


def summary_from_row(row: Sequence[Any]) -> IncidentSummary:
    number, title, status, severity, kind, services, commander, declared, detected, updated, version = row
    return IncidentSummary(
        number=number,
        title=title,
        status=status,
        severity=f"SEV{severity}",
        kind=kind,
        services=json.loads(services),
        commander=commander,
        declared_at=declared,
        detected_at=detected,
        updated_at=updated,
        version=version,
    )


class IncidentReads(Reads):
    """The reads of the incident store (``storage.incident_store``)."""

    def version(self, number: int) -> int | None:
        for (version,) in self._fetch("incident_version", {"number": number}):
            return int(version)
        return None

    def load(self, number: int) -> IncidentState:
        snap = next(iter(self._fetch("snapshot", {"number": number})), None)
        usable = snap is not None and snap[1] == SNAPSHOT_FORMAT
        return restore(
            (snap[0], snap[2]) if usable and snap is not None else None,
            lambda after: self.events(number, after=after),
            number,
        )

    def events(
        self,
        number: int,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int | None = None,
        newest_first: bool = False,
    ) -> list[Event]:
        params: dict[str, Any] = {"number": number, "after": after}
        if before is not None:
            params["before"] = before
        if limit is not None:
            params["limit"] = limit
        rows = self._fetch(
            "events", params, before=before is not None, limit=limit is not None, newest_first=newest_first
        )
        return [event_from_row(row) for row in rows]

    def summaries(self, filters: IncidentFilter) -> list[IncidentSummary]:
        params: dict[str, Any] = {"limit": filters.limit}
        for name in ("status", "severity", "service"):
            if getattr(filters, name):
                params[name] = getattr(filters, name)
        rows = self._fetch(
            "summaries",
            params,
            status=bool(filters.status),
            severity=bool(filters.severity),
            service=bool(filters.service),
            open_only=filters.open_only,
        )
        return [summary_from_row(row) for row in rows]

    def numbers(self) -> list[int]:
        return [number for (number,) in self._fetch("numbers", {})]


# --- changes -------------------------------------------------------------------------------


def change_from_row(row: Sequence[Any]) -> Change:
    """A row of ``queries.CHANGE_COLUMNS``."""
    id_, service, kind, at, summary, actor, source, dedup, details = row
    return Change(
        id=id_,
        service=service,
        kind=ChangeKind(kind),
        at=at,
        summary=summary,
        actor=actor,
        source=source,
        dedup=dedup,
        details=json.loads(details),
    )


class ChangeReads(Reads):
    """The reads of the change log (``storage.change_store``)."""

    def between(self, services: Sequence[str], start: datetime, end: datetime) -> list[Change]:
        if not services:
            return []
        rows = self._fetch("changes_between", {"services": list(services), "start": start, "end": end})
        return [change_from_row(row) for row in rows]


# --- learning ------------------------------------------------------------------------------


def measured_rows(rows: Rows) -> list[MeasuredIncident]:
    """Rows of ``queries.measured`` to review records. Tuned for a review over 50,000
    incidents: the anchor comes as stored (SQLite's text, read without a type adapter)
    and the JSON lists, which repeat (a few services, a few factor types), are decoded
    once per distinct text."""
    from warroom.domain.learning.durations import MeasuredIncident

    lists: dict[str, tuple[str, ...]] = {}
    done_lists: dict[str, tuple[datetime | None, ...]] = {"[]": ()}
    parse, inf = datetime.fromisoformat, math.inf

    def strings(text: str) -> tuple[str, ...]:
        found = lists.get(text)
        if found is None:
            found = lists[text] = tuple(json.loads(text))
        return found

    def done(text: str) -> tuple[datetime | None, ...]:
        found = done_lists.get(text)
        if found is None:
            found = done_lists[text] = tuple(None if d is None else parse(d) for d in json.loads(text))
        return found

    return [
        MeasuredIncident(
            strings(services),
            severity,
            kind,
            utc(anchor),
            month,
            (
                inf if detect is None else detect,
                inf if declare is None else declare,
                inf if acknowledge is None else acknowledge,
                inf if mitigate is None else mitigate,
                inf if resolve is None else resolve,
            ),
            strings(factors),
            done(followups),
        )
        for (
            services,
            severity,
            kind,
            anchor,
            month,
            detect,
            declare,
            acknowledge,
            mitigate,
            resolve,
            factors,
            followups,
        ) in rows
    ]


class LearningReads(Reads):
    """The reads of the learning store (``storage.learning_store``) that a review needs."""

    def stale_records(self) -> list[int]:
        """The warroom incidents whose reliability record is missing or behind."""
        return [number for (number,) in self._fetch("stale_records", {})]

    def measured(self, filters: RecordFilter) -> list[MeasuredIncident]:
        """The incidents in ``filters``, as measured when written."""
        params: dict[str, Any] = {}
        for name in ("since", "until", "severity"):
            if getattr(filters, name) is not None:
                params[name] = getattr(filters, name)
        shape = {name: name in params for name in ("since", "until", "severity")}
        return measured_rows(self._fetch("measured", params, **shape))


# --- on call (the reads of ``warroom report``) ------------------------------------------------

# The columns the on-call queries select, in order (``storage.queries`` selects them by name).
PAGE_FIELDS = (
    "id", "title", "status", "policy", "first_policy", "targets", "reason", "incident", "team",
    "dedup", "step", "round", "trigger", "fell_back", "due_at", "opened_at", "opened_by",
    "triggered_at", "acked_at", "acked_by", "ack_step", "resolved_at", "resolved_by",
)  # fmt: skip
NOTIFICATION_FIELDS = (
    "id", "page_id", "key", "person", "method", "kind", "step", "round", "trigger", "policy",
    "status", "due_at", "sent_at",
)  # fmt: skip
_IN_LIST = 500  # page ids per query: well under SQLite's limit of bound parameters


class OncallReads(Reads):
    """The pages of a window, the notifications they planned, the people (their zones)."""

    def pages_between(self, start: datetime, end: datetime) -> list[Page]:
        from warroom.storage.oncall_rows import page_of

        rows = self._fetch("oncall_pages_between", {"start": start, "end": end})
        return [page_of(SimpleNamespace(**dict(zip(PAGE_FIELDS, row, strict=True)))) for row in rows]

    def notifications(self, page_ids: Sequence[int]) -> list[PlannedNotification]:
        from warroom.storage.oncall_rows import planned_of

        ids = list(page_ids)
        found: list[PlannedNotification] = []
        for i in range(0, len(ids), _IN_LIST):
            rows = self._fetch("oncall_notifications", {"pages": ids[i : i + _IN_LIST]})
            found += [
                planned_of(SimpleNamespace(**dict(zip(NOTIFICATION_FIELDS, row, strict=True))))
                for row in rows
            ]
        return found

    def people(self) -> list[Person]:
        from warroom.domain.oncall.documents import person_from

        return [person_from(json.loads(text)) for (text,) in self._fetch("oncall_people", {})]


# --- tokens --------------------------------------------------------------------------------

TOKEN_FIELDS = (
    "id", "name", "role", "created_at", "revoked_at", "last_used_at", "source", "owner", "kind",
)  # fmt: skip


class TokenReads(Reads):
    """The tokens (never a secret or hash): ``warroom show`` names the services that acted."""

    def all(self) -> list[TokenInfo]:
        found = []
        for row in self._fetch("tokens", {}):
            fields = dict(zip(TOKEN_FIELDS, row, strict=True))
            found.append(TokenInfo(**(fields | {"kind": fields["kind"] or "service"})))
        return found
