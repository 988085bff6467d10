"""The alert store: bulk, idempotent writes for webhook ingest, and the triage queue.

Ingest inserts the new alerts of each body with an ``INSERT ... ON CONFLICT DO NOTHING
RETURNING`` (so a row another process inserted first is simply not returned), reads the
stored state of the rest in one statement and writes updates and transitions in bulk. On
PostgreSQL :meth:`SqlAlertStore.lock_services` takes a transaction-scoped advisory lock per
service, in sorted order, around the check-then-declare; on SQLite ``BEGIN IMMEDIATE``
already serialises writers. A deadlock between two ingests (the same new alerts inserted
in crossed order) is answered :class:`ConcurrencyConflict`, which the ingest retries.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
from sqlalchemy import Connection, Select, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from warroom.domain.alerts.declaring import alert_name
from warroom.domain.alerts.records import AlertRecord, Silence
from warroom.domain.alerts.routing import Route
from warroom.domain.alerts.signals import AlertSignal
from warroom.domain.alerts.transitions import Known, Outcome
from warroom.domain.incidents.changes import Change
from warroom.domain.shared.errors import ConcurrencyConflict
from warroom.services.ports.alerts import AlertDetail, IngestBatch, IngestView
from warroom.storage.alert_tables import alert_silences, alert_transitions, alerts
from warroom.storage.pg_arrays import Encoded, binary_array
from warroom.storage.read_sql import STATEMENTS
from warroom.storage.reads import event_from_row, with_utc_times
from warroom.storage.tables import changes
from warroom.storage.times import from_sqlite_text, remembered, sqlite_text

CHUNK = 500  # bound the bind parameters of one IN list (SQLite allows 32766, PG 65535)

# The hot writes go to the driver directly: SQLAlchemy's per-row parameter processing cost
# more than the database work for 100-row bodies. Column order of the two inserts:
_ALERT_COLUMNS = (
    "source",
    "fingerprint",
    "status",
    "name",
    "summary",
    "severity",
    "service",
    "team",
    "ownership_unclear",
    "labels",
    "annotations",
    "extra",
    "group_key",
    "starts_at",
    "ends_at",
    "first_seen_at",
    "changed_at",
)
_TRANSITION_COLUMNS = ("alert", "status", "at", "recorded_at")
# PostgreSQL gets one array per column (INSERT ... SELECT FROM unnest): a short statement
# that psycopg and the server parse once, however many rows a body has. The arrays go in
# binary (%b): text arrays would be escaped element by element.
_ALERT_TYPES = ("text",) * 8 + ("boolean",) + ("text",) * 4 + ("timestamptz",) * 4
_TRANSITION_TYPES = ("bigint", "text", "timestamptz", "timestamptz")
# _INSERT_WITH_MOVES's arrays: the alerts', then their transitions' (fingerprint, status, at,
# recorded_at)
_INSERT_TYPES = (*_ALERT_TYPES, "text", "text", "timestamptz", "timestamptz")

_INSERT_SUFFIX = " ON CONFLICT (source, fingerprint) DO NOTHING RETURNING id, fingerprint"
# Rows already stored (a redelivery, the other Alertmanager's copy) are left out before the
# insert: one index probe each, where ON CONFLICT would draw an id and try the insert (2-4x the
# database time per duplicate). ON CONFLICT still settles a concurrent insert. OFFSET 0 keeps
# the probe a probe: as an anti-join the planner may hash the whole alerts table instead (it
# did at 8,000 alerts: 3.4 ms of a 360-alert insert's 7.8, and growing with the table).
_INSERT_WITH_MOVES = (
    f"WITH ins AS (INSERT INTO alerts ({', '.join(_ALERT_COLUMNS)})"
    f" SELECT * FROM unnest({', '.join(f'%b::{kind}[]' for kind in _ALERT_TYPES)})"
    f" AS u({', '.join(_ALERT_COLUMNS)}) WHERE NOT EXISTS (SELECT 1 FROM alerts AS a"
    f" WHERE a.source = u.source AND a.fingerprint = u.fingerprint OFFSET 0){_INSERT_SUFFIX}),"
    " moves AS (INSERT INTO alert_transitions (alert, status, at, recorded_at)"
    " SELECT ins.id, m.status, m.at, m.recorded_at FROM unnest("
    + ", ".join(f"%b::{kind}[]" for kind in _INSERT_TYPES[len(_ALERT_TYPES) :])
    + ") WITH ORDINALITY AS m(fingerprint, status, at, recorded_at, n)"
    " JOIN ins USING (fingerprint) ORDER BY m.n)"
    " SELECT id, fingerprint FROM ins"
)


def _with_rows(inserts: Iterable[object]) -> Iterator[_PreparedInsert]:
    """The prepared inserts that have a row, as they come."""
    return (each for each in inserts if isinstance(each, _PreparedInsert) and each.values)


def _merged(inserts: Iterable[object]) -> _PreparedInsert | None:
    """The prepared inserts as one (the rows of each in turn); None if none has a row."""
    parts = list(_with_rows(inserts))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    values = [row for part in parts for row in part.values]
    return _PreparedInsert(values, [move for part in parts for move in part.moves], parts[0].now)


def _insert_statement(prepared: _PreparedInsert) -> tuple[str, Sequence[Any]]:
    """PostgreSQL's statement for ``prepared``: with its transitions, or the alerts alone."""
    if prepared.statement is not None:
        return prepared.statement
    return _unnest_insert("alerts", _ALERT_COLUMNS, _ALERT_TYPES, prepared.values, _INSERT_SUFFIX)


@dataclass(frozen=True)
class _PreparedInsert:
    """New alerts' rows (in ``_ALERT_COLUMNS`` order) and their transitions (fingerprint,
    status, at), with the one PostgreSQL statement that writes both when there is one."""

    values: list[tuple[Any, ...]]
    moves: list[tuple[str, str, Any]]
    now: datetime
    statement: tuple[str, list[Any]] | None = None


_ACKNOWLEDGE = (
    update(alerts)
    .where(alerts.c.id == bindparam("b_id"))
    .values(acknowledged_at=bindparam("b_now"), changed_at=bindparam("b_now"))
)
_REFIRE = (
    update(alerts)
    .where(alerts.c.id == bindparam("b_id"))
    .values(
        status="firing",
        name=bindparam("b_name"),
        summary=bindparam("b_summary"),
        severity=bindparam("b_severity"),
        service=bindparam("b_service"),
        team=bindparam("b_team"),
        ownership_unclear=bindparam("b_unclear"),
        labels=bindparam("b_labels"),
        annotations=bindparam("b_annotations"),
        extra=bindparam("b_extra"),
        group_key=bindparam("b_group_key"),
        starts_at=bindparam("b_starts_at"),
        ends_at=None,
        acknowledged_at=None,
        incident=None,
        changed_at=bindparam("b_now"),
    )
)

# The driver's own errors, raised by the statements run on its cursor, are transient too.
TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    PoolTimeout,
    sqlite3.OperationalError,
    psycopg.OperationalError,
)


# The shared read of an incident's events after a version (storage.queries' ``events``,
# compiled once for every engine in storage.read_sql), in psycopg's parameter style: the
# ingest reads a kept incident's newer events with its locks, in the same round trip.
_EVENTS_AFTER = STATEMENTS["events"]
_EVENTS_AFTER_SQL = re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", _EVENTS_AFTER.sql)

# Per service, its newest open incident and whether a silence is in force; with the
# incident's version: a kept state still at it needs no read of its own.
_SERVICES_SQL = (
    "SELECT n.service, o.number, o.version,"
    " EXISTS (SELECT 1 FROM alert_silences a WHERE a.service = n.service AND a.until > %s"
    " AND (a.starts_at IS NULL OR a.starts_at <= %s))"
    " FROM unnest(%s::text[]) AS n(service) LEFT JOIN LATERAL (SELECT i.number, i.version"
    " FROM incident_services s JOIN incidents i ON i.number = s.number"
    " WHERE i.is_open AND s.service = n.service ORDER BY i.number DESC LIMIT 1) AS o ON true"
)

# Links alerts to an incident: the attach, and the incident append that records them
# (on PostgreSQL in its pipeline; on SQLite one row per id, executemany).
ATTACH_POSTGRES = "UPDATE alerts SET incident = %s WHERE id = ANY(%s)"
ATTACH_SQLITE = "UPDATE alerts SET incident = ? WHERE id = ?"


def is_transient_fault(error: BaseException) -> bool:
    """Whether ``error`` is a database fault a retry may cure: busy or locked, unreachable,
    a lock or statement timeout, a deadlock or serialization failure, a lost connection."""
    if isinstance(error, TRANSIENT):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def _conflict() -> ConcurrencyConflict:
    """A deadlock PostgreSQL broke by aborting this transaction: two ingests inserted the
    same new alerts in crossed order, or one waited on the other's row while holding the
    locks the other waits for. Retried as a conflict, not answered as a storage fault."""
    return ConcurrencyConflict("a concurrent ingest deadlocked with this one; retry")


def lock_key(service: str) -> int:
    """A stable signed 64-bit advisory lock key per service (Python's hash() is salted)."""
    digest = hashlib.blake2b(f"warroom.alerts:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


_stdlib_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _dumps(value: Mapping[str, Any]) -> str:
    """Compact JSON, exactly as ``json.dumps(separators=(",", ":"), ensure_ascii=False)``
    writes it. A map of strings to strings (labels, annotations, most ``extra``) goes
    through orjson, three alerts' worth in the time the standard library takes for one;
    anything else (numbers: orjson writes NaN as null) and a string orjson refuses (a lone
    surrogate) through the standard library."""
    if all(type(item) is str for item in value.values()):
        return _dumps_strings(value)
    return _stdlib_dumps(value)


def _dumps_strings(value: Mapping[str, str]) -> str:
    """:func:`_dumps` of a map its type says holds strings only (labels, annotations)."""
    try:
        return orjson.dumps(value).decode()
    except (orjson.JSONEncodeError, TypeError):
        return _stdlib_dumps(value)


def _extra_json(signal: AlertSignal, links: dict[str | None, str] | None = None) -> str:
    """The ``extra`` column: the signal's extra fields and its link (``generator_url``).
    ``links`` remembers the column of alerts with no extra fields by their link: a group's
    alerts mostly share their rule's, and it is written once."""
    if signal.extra or links is None:
        extra = dict(signal.extra)
        if signal.generator_url:
            extra["generator_url"] = signal.generator_url
        return _dumps(extra)
    link = signal.generator_url or None
    found = links.get(link)
    if found is None:
        found = links[link] = _extra_json(signal)
    return found


def _signal_columns(signal: AlertSignal, route: Route) -> dict[str, Any]:
    return {
        "name": alert_name(signal.labels, signal.summary),
        "summary": signal.summary,
        "severity": signal.severity,
        "service": route.service,
        "team": route.team,
        "ownership_unclear": route.ownership_unclear,
        "labels": _dumps(signal.labels),
        "annotations": _dumps(signal.annotations),
        "extra": _extra_json(signal),
        "group_key": signal.group_key,
        "starts_at": signal.starts_at,
    }


def _flat(rows: Sequence[tuple[Any, ...]]) -> tuple[Any, ...]:
    return tuple(value for row in rows for value in row)


def _record(row: Any) -> AlertRecord:
    return AlertRecord(
        id=row.id,
        source=row.source,
        fingerprint=row.fingerprint,
        status=row.status,
        name=row.name,
        summary=row.summary,
        severity=row.severity,
        service=row.service,
        team=row.team,
        ownership_unclear=bool(row.ownership_unclear),
        labels=json.loads(row.labels),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        incident=row.incident,
        first_seen_at=row.first_seen_at,
        changed_at=row.changed_at,
        acknowledged_at=row.acknowledged_at,
        group_key=row.group_key,
    )


def _unnest_insert(
    table: str, columns: Sequence[str], types: Sequence[str], values: list[tuple[Any, ...]], suffix: str
) -> tuple[str, list[Any]]:
    """PostgreSQL's insert of ``values`` (tuples in ``columns`` order): one array per column."""
    arrays = ", ".join(f"%b::{kind}[]" for kind in types)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM unnest({arrays}){suffix}"
    return sql, _arrays(types, zip(*values, strict=True))


def _arrays(types: Sequence[str], columns: Iterable[Sequence[Any]]) -> list[Encoded]:
    """Each of ``columns`` as an array of its type, already in PostgreSQL's binary form."""
    return [binary_array(kind, column) for kind, column in zip(types, columns, strict=True)]


class SqlAlertStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._dialect_insert = postgresql.insert if self._postgres else sqlite.insert
        self._mark = "%s" if self._postgres else "?"
        self._driver: Any = connection.connection.driver_connection

    # --- ingest ------------------------------------------------------------------------

    def lock_services(self, services: Iterable[str]) -> None:
        """Serialise check-then-declare per service (PostgreSQL; on SQLite ``BEGIN
        IMMEDIATE`` already serialises writers)."""
        if self._postgres:
            self._rows(*self._lock_statement(sorted(set(services))))

    def begin_ingest(self, batch: IngestBatch, now: datetime) -> IngestView:
        """Run the batch's inserts (:meth:`prepare_insert`: the alerts that may be new),
        lock its services, then read the stored alerts of its fingerprints, the services'
        open incidents and silences; ``view.known`` leaves out what the inserts stored. On
        PostgreSQL also the events of the ``catch_up`` incidents after the versions given
        (``view.newer``): the incident a storm attaches to is appended to by every process
        in turn, and reading what the others appended was a round trip under the locks.

        On PostgreSQL the statements go in one pipeline, and the inserts go first, before
        the locks, each sent as soon as the batch makes it: they are most of the database
        work of a body, so the database inserts one body while this process builds the
        next (or parses it), and the locks serialise every writer of the same services (on
        replicas, every process), so they are held for the reads and the decisions only.
        Every read still runs after the locks were granted. A transaction waits on another's
        uncommitted row (the same alert from the other Alertmanager) only in its inserts,
        while it holds no lock: two transactions can deadlock there only by inserting the
        same new alerts in crossed order (each sorts its rows within an insert), which
        PostgreSQL detects; the loser gets :class:`ConcurrencyConflict` and its ingest
        retries. On SQLite (one writer at a time) the statements run one by one, the read
        first."""
        if not self._postgres:
            prepared = _merged(batch.inserts())
            names = sorted(set(batch.services()))
            view = IngestView(
                self.known(batch.source, batch.fingerprints()),
                self.open_incidents(names),
                frozenset(self.silenced(names, now)),
            )
            if prepared is None:
                return view
            # Statement by statement, the read is known before the insert: leave out what is stored.
            fresh = [row for row in prepared.values if row[1] not in view.known]
            moves = [move for move in prepared.moves if move[0] not in view.known]
            return replace(view, inserted=self._run_insert(replace(prepared, values=fresh, moves=moves)))
        tried: set[str] = set()  # the fingerprints the inserts try
        inserts = 0
        fingerprints: list[str] = []  # what the batch holds once its inserts are made
        caught: list[tuple[int, int]] = []

        def statements() -> Iterator[tuple[str, Sequence[Any] | Mapping[str, Any]]]:
            nonlocal inserts, fingerprints, caught
            for each in _with_rows(batch.inserts()):
                tried.update(row[1] for row in each.values)
                inserts += 1
                yield _insert_statement(each)
            names = sorted(set(batch.services()))
            fingerprints = list(batch.fingerprints())
            caught = sorted(batch.catch_up().items())
            yield self._lock_statement(names)
            yield _SERVICES_SQL, (now, now, names)
            for number, after in caught:
                yield _EVENTS_AFTER_SQL, _EVENTS_AFTER.constants | {"number": number, "after": after}
            # The alerts the inserts try are read only if they did not store them (another
            # transaction had, and its row is read under the locks): a storm's new alerts
            # are not looked up a second time.
            if untried := [fp for fp in fingerprints if fp not in tried]:
                yield self._known_statement(batch.source, untried)

        results = self._pipelined(statements())
        ids = {fingerprint: alert_id for rows in results[:inserts] for alert_id, fingerprint in rows}
        _, per_service, *rest = results[inserts:]
        caught_rows, known = rest[: len(caught)], [row for rows in rest[len(caught) :] for row in rows]
        newer = {
            number: [event_from_row(row) for row in with_utc_times(rows, _EVENTS_AFTER.time_columns)]
            for (number, _), rows in zip(caught, caught_rows, strict=True)
        }
        if missed := [fp for fp in fingerprints if fp in tried and fp not in ids]:
            known += self._rows(*self._known_statement(batch.source, missed))
        return IngestView(
            self._known_rows(known),
            {service: int(number) for service, number, _, _ in per_service if number is not None},
            frozenset(service for service, _, _, silenced in per_service if silenced),
            ids if inserts else None,
            {int(number): int(version) for _, number, version, _ in per_service if number is not None},
            newer,
        )

    def _lock_statement(self, services: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        keys = sorted({lock_key(name) for name in services})
        # unnest yields the sorted array in order, so locks are taken in key order (a
        # deadlock would still be detected by PostgreSQL, and retried as a conflict).
        return "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", (keys,)

    def known(self, source: str, fingerprints: Sequence[str]) -> dict[str, Known]:
        if self._postgres:
            return self._known_rows(self._rows(*self._known_statement(source, list(fingerprints))))
        found: dict[str, Known] = {}
        for start in range(0, len(fingerprints), CHUNK):
            found |= self._known_rows(
                self._rows(*self._known_statement(source, fingerprints[start : start + CHUNK]))
            )
        return found

    def _known_statement(self, source: str, fingerprints: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
        """The stored state of ``fingerprints``."""
        columns = "id, fingerprint, status, service, starts_at, incident, acknowledged_at IS NOT NULL"
        if self._postgres:
            # One unique-index lookup per fingerprint, whatever the (possibly stale)
            # statistics say: the planner would otherwise scan every alert of the source.
            sql = (
                f"SELECT a.* FROM unnest(%b::text[]) AS f(fp), LATERAL (SELECT {columns} FROM alerts"
                f" WHERE source = %s AND fingerprint = f.fp LIMIT 1) AS a"
            )
            return sql, (list(fingerprints), source)
        marks = ", ".join("?" * len(fingerprints))
        return f"SELECT {columns} FROM alerts WHERE source = ? AND fingerprint IN ({marks})", (
            source,
            *fingerprints,
        )

    def _known_rows(self, rows: Iterable[Any]) -> dict[str, Known]:
        read_time = self._read_time
        return {
            fingerprint: Known(
                id=alert_id,
                status=status,
                service=service,
                starts_at=read_time(starts_at),
                incident=incident,
                acknowledged=bool(acknowledged),
            )
            for alert_id, fingerprint, status, service, starts_at, incident, acknowledged in rows
        }

    def insert(
        self,
        rows: Sequence[tuple[AlertSignal, Route]],
        now: datetime,
        transitions: Mapping[str, Sequence[tuple[str, datetime]]] | None = None,
    ) -> dict[str, int]:
        """Insert new alerts and the ``transitions`` of each (by fingerprint, in order);
        returns fingerprint -> id of those this call inserted (a row that exists already,
        e.g. inserted by a concurrent delivery, is skipped, and so are its transitions).
        On PostgreSQL both go in one statement."""
        if not rows:
            return {}
        return self._run_insert(self.prepare_insert(rows, now, transitions or {}))

    def prepare_insert(
        self,
        rows: Sequence[tuple[AlertSignal, Route]],
        now: datetime,
        transitions: Mapping[str, Sequence[tuple[str, datetime]]],
    ) -> _PreparedInsert:
        """The insert's rows and statement, built without touching the database: ingest
        builds them before it takes its locks, so the time they hold is database work."""
        at = remembered(self._time)  # a group's alerts share times
        stamp = at(now)
        values = []
        # Sorted, so two transactions inserting the same body lock its index entries in
        # the same order (across bodies inserted one by one they can cross: see
        # begin_ingest).
        links: dict[str | None, str] = {}
        for signal, route in sorted(rows, key=lambda pair: pair[0].fingerprint):
            values.append(
                (
                    signal.source,
                    signal.fingerprint,
                    signal.status,
                    alert_name(signal.labels, signal.summary),
                    signal.summary,
                    signal.severity,
                    route.service,
                    route.team,
                    route.ownership_unclear,
                    _dumps_strings(signal.labels),
                    _dumps_strings(signal.annotations),
                    _extra_json(signal, links),
                    signal.group_key,
                    None if signal.starts_at is None else at(signal.starts_at),
                    at(signal.ends_at) if signal.status == "resolved" and signal.ends_at else None,
                    stamp,
                    stamp,
                )
            )
        moves = [
            (fingerprint, status, when)
            for fingerprint, steps in transitions.items()
            for status, when in steps
        ]
        if not (self._postgres and values and moves):
            return _PreparedInsert(values, moves, now)
        # The inserted rows' transitions in the same statement: a data-modifying CTE joins
        # them to the ids it returned (serial ids follow ORDER BY, so a resolved alert's
        # firing comes first).
        columns = [*zip(*values, strict=True), *zip(*moves, strict=True), [stamp] * len(moves)]
        return _PreparedInsert(values, moves, now, (_INSERT_WITH_MOVES, _arrays(_INSERT_TYPES, columns)))

    def _run_insert(self, prepared: _PreparedInsert) -> dict[str, int]:
        if not prepared.values:
            return {}
        if prepared.statement is not None:
            return {fingerprint: alert_id for alert_id, fingerprint in self._rows(*prepared.statement)}
        inserted = {
            fingerprint: alert_id
            for alert_id, fingerprint in self._insert(
                "alerts", _ALERT_COLUMNS, _ALERT_TYPES, prepared.values, _INSERT_SUFFIX
            )
        }
        self.add_transitions(
            [(inserted[fp], status, when) for fp, status, when in prepared.moves if fp in inserted],
            prepared.now,
        )
        return inserted

    def update(
        self,
        rows: Sequence[tuple[int, AlertSignal, Outcome, Route | None]],
        now: datetime,
        transitions: Sequence[tuple[int, str, datetime]] = (),
    ) -> None:
        """Write what changed of stored alerts and record their ``transitions`` (alert id,
        firing|resolved, when); on PostgreSQL resolutions and transitions in one round trip."""
        resolved: list[tuple[Any, ...]] = []
        acknowledged: list[dict[str, Any]] = []
        refired: list[dict[str, Any]] = []
        for alert_id, signal, outcome, route in rows:
            if outcome is Outcome.RESOLVED:
                resolved.append((self._time(signal.ends_at or now), self._time(now), alert_id))
            elif outcome is Outcome.ACKNOWLEDGED:
                acknowledged.append({"b_id": alert_id, "b_now": now})
            elif outcome is Outcome.REFIRED:
                assert route is not None
                columns = _signal_columns(signal, route)
                refired.append({f"b_{key}": value for key, value in columns.items()} | {"b_id": alert_id})
                refired[-1]["b_unclear"] = refired[-1].pop("b_ownership_unclear")
                refired[-1]["b_now"] = now
        for statement, params in ((_ACKNOWLEDGE, acknowledged), (_REFIRE, refired)):
            if params:
                self._db.execute(statement, params)
        if not self._postgres:
            if resolved:
                self._many(
                    "UPDATE alerts SET status = 'resolved', ends_at = ?, changed_at = ? WHERE id = ?",
                    resolved,
                )
            self.add_transitions(transitions, now)
            return
        statements: list[tuple[str, Sequence[Any]]] = []
        if resolved:
            sql = (
                "UPDATE alerts AS a SET status = 'resolved', ends_at = v.ends_at, changed_at = v.changed_at"
                " FROM unnest(%b::timestamptz[], %b::timestamptz[], %b::bigint[]) AS v(ends_at, changed_at, id)"
                " WHERE a.id = v.id"
            )
            arrays = _arrays(("timestamptz", "timestamptz", "bigint"), zip(*resolved, strict=True))
            statements.append((sql, arrays))
        if transitions:
            values = self._transitions(transitions, now)
            statements.append(
                _unnest_insert("alert_transitions", _TRANSITION_COLUMNS, _TRANSITION_TYPES, values, "")
            )
        if len(statements) > 1:
            self._pipelined(statements)
        elif statements:
            self._rows(*statements[0])

    def add_transitions(self, rows: Sequence[tuple[int, str, datetime]], now: datetime) -> None:
        self._insert(
            "alert_transitions", _TRANSITION_COLUMNS, _TRANSITION_TYPES, self._transitions(rows, now), ""
        )

    def _transitions(self, rows: Sequence[tuple[int, str, datetime]], now: datetime) -> list[tuple[Any, ...]]:
        at = self._time
        stamp = at(now)
        return [(alert_id, status, at(when), stamp) for alert_id, status, when in rows]

    def _insert(
        self,
        table: str,
        columns: Sequence[str],
        types: Sequence[str],
        values: list[tuple[Any, ...]],
        suffix: str,
    ) -> list[Any]:
        """Insert ``values`` (tuples in ``columns`` order); the rows ``suffix`` returns."""
        if not values:
            return []
        names = ", ".join(columns)
        if self._postgres:
            return self._rows(*_unnest_insert(table, columns, types, values, suffix))
        found: list[Any] = []
        size = max(1, 30_000 // len(columns))  # SQLite's bind-parameter limit is 32,766
        row = "(" + ", ".join(["?"] * len(columns)) + ")"
        for start in range(0, len(values), size):
            chunk = values[start : start + size]
            sql = f"INSERT INTO {table} ({names}) VALUES " + ", ".join([row] * len(chunk)) + suffix
            found += self._rows(sql, _flat(chunk))
        return found

    def _in(self, column: str, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """``column IN (...)`` as SQL and its parameters; ``= ANY(array)`` on PostgreSQL."""
        if self._postgres:
            return f"{column} = ANY(%s)", (list(values),)
        return f"{column} IN ({', '.join(['?'] * len(values))})", tuple(values)

    def _time(self, value: datetime) -> Any:
        """A time as the column stores it: aware on PostgreSQL; on SQLite the naive UTC text
        that :class:`~warroom.storage.types.UTCDateTime` writes, so reads and order agree."""
        if self._postgres:
            return value
        return sqlite_text(value)  # four-digit years: strftime wrote "1-01-01 ..." for year 1

    def _rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        """Run ``sql`` on the driver's own cursor, inside this transaction; its rows, if any.

        The hot statements skip SQLAlchemy's execution machinery, which costs more per
        statement than SQLite takes to run it; errors are the driver's own (see
        :func:`is_transient_fault`), but a deadlock is :class:`ConcurrencyConflict`."""
        cursor = self._driver.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchall() if cursor.description else []
        except psycopg.errors.DeadlockDetected as error:
            raise _conflict() from error
        finally:
            cursor.close()

    def _pipelined(
        self, statements: Iterable[tuple[str, Sequence[Any] | Mapping[str, Any]]]
    ) -> list[list[Any]]:
        """Run ``statements`` in order in one PostgreSQL pipeline (one network round trip
        after the last is sent; each is sent as it comes, so the database runs it while the
        next is made); the rows of each. An error in any fails the transaction, as one by
        one would; a deadlock is :class:`ConcurrencyConflict`."""
        cursors: list[Any] = []
        try:
            with self._driver.pipeline():
                for sql, params in statements:
                    cursors.append(self._driver.cursor())
                    cursors[-1].execute(sql, params)
            return [cursor.fetchall() if cursor.description else [] for cursor in cursors]
        except psycopg.errors.DeadlockDetected as error:
            raise _conflict() from error
        finally:
            for cursor in cursors:
                cursor.close()

    def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        cursor = self._driver.cursor()
        try:
            cursor.executemany(sql, rows)
        finally:
            cursor.close()

    def _read_time(self, value: Any) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, datetime):
            return value.astimezone(UTC)
        return from_sqlite_text(value)

    def attach(self, alert_ids: Sequence[int], number: int) -> None:
        if alert_ids:
            if self._postgres:
                self._rows(ATTACH_POSTGRES, (number, list(alert_ids)))
            else:
                self._many(ATTACH_SQLITE, [(number, i) for i in alert_ids])

    def open_incidents(self, services: Iterable[str]) -> dict[str, int]:
        """The newest open incident of each of ``services`` that has one."""
        names = sorted(set(services))
        if not names:
            return {}
        where, params = self._in("s.service", names)
        sql = (
            "SELECT s.service, MAX(i.number) FROM incident_services s JOIN incidents i ON i.number = s.number"
            f" WHERE i.is_open AND {where} GROUP BY s.service"
        )
        return {service: int(number) for service, number in self._rows(sql, params)}

    def silenced(self, services: Iterable[str], now: datetime) -> set[str]:
        """Which of ``services`` have a silence in force at ``now``."""
        names = sorted(set(services))
        if not names:
            return set()
        where, params = self._in("service", names)
        sql = (
            f"SELECT DISTINCT service FROM alert_silences WHERE until > {self._mark}"
            f" AND (starts_at IS NULL OR starts_at <= {self._mark}) AND {where}"
        )
        return {service for (service,) in self._rows(sql, (self._time(now), self._time(now), *params))}

    # --- the triage queue ----------------------------------------------------------------

    def queued(self, service: str | None = None, *, limit: int | None = None) -> list[AlertRecord]:
        """Firing alerts attached to no incident, by service then start."""
        query: Select[Any] = select(alerts).where(alerts.c.status == "firing", alerts.c.incident.is_(None))
        if service is not None:
            query = query.where(alerts.c.service == service)
        query = query.order_by(alerts.c.service, alerts.c.starts_at, alerts.c.id)
        if limit is not None:
            query = query.limit(limit)
        return [_record(row) for row in self._db.execute(query)]

    def queue_counts(self) -> dict[str, int]:
        query = (
            select(alerts.c.service, func.count().label("n"))
            .where(alerts.c.status == "firing", alerts.c.incident.is_(None))
            .group_by(alerts.c.service)
        )
        return {row.service: int(row.n) for row in self._db.execute(query)}

    def for_incident(self, number: int) -> list[AlertRecord]:
        query = select(alerts).where(alerts.c.incident == number).order_by(alerts.c.starts_at, alerts.c.id)
        return [_record(row) for row in self._db.execute(query)]

    def details_for_incident(self, number: int) -> list[AlertDetail]:
        query = select(alerts).where(alerts.c.incident == number).order_by(alerts.c.starts_at, alerts.c.id)
        found = []
        for row in self._db.execute(query):
            extra = json.loads(row.extra or "{}")
            link = extra.get("generator_url") if isinstance(extra, dict) else None
            found.append(
                AlertDetail(
                    _record(row), json.loads(row.annotations or "{}"), link if isinstance(link, str) else None
                )
            )
        return found

    def get(self, source: str, fingerprint: str) -> AlertRecord | None:
        row = self._db.execute(
            select(alerts).where(alerts.c.source == source, alerts.c.fingerprint == fingerprint)
        ).first()
        return None if row is None else _record(row)

    def history(self, alert_id: int) -> list[tuple[str, datetime]]:
        query = (
            select(alert_transitions.c.status, alert_transitions.c.at)
            .where(alert_transitions.c.alert == alert_id)
            .order_by(alert_transitions.c.id)
        )
        return [(row.status, row.at) for row in self._db.execute(query)]

    def add_silence(self, silence: Silence) -> None:
        self._db.execute(
            insert(alert_silences).values(
                service=silence.service,
                until=silence.until,
                reason=silence.reason,
                actor=silence.actor,
                created_at=silence.created_at,
            )
        )

    def silences(self, now: datetime) -> dict[str, Silence]:
        """The silence that lasts longest, per service, among those still in force at ``now``."""
        query = (
            select(alert_silences)
            .where(alert_silences.c.until > now)
            .where(or_(alert_silences.c.starts_at.is_(None), alert_silences.c.starts_at <= now))
            .order_by(alert_silences.c.service, alert_silences.c.until)
        )
        found: dict[str, Silence] = {}
        for row in self._db.execute(query):
            found[row.service] = Silence(row.service, row.until, row.reason, row.actor, row.created_at)
        return found

    # --- change events ---------------------------------------------------------------------

    def add_changes(self, items: Sequence[Change]) -> list[tuple[Change, bool]]:
        """Store changes deduplicated on ``dedup``; returns each with its id and whether it is new."""
        if not items:
            return []
        statement = (
            self._dialect_insert(changes)
            .on_conflict_do_nothing(index_elements=["dedup"])
            .returning(changes.c.id, changes.c.dedup)
        )
        values = [
            {
                "service": c.service,
                "kind": c.kind.value,
                "at": c.at,
                "summary": c.summary,
                "actor": c.actor,
                "source": c.source,
                "dedup": c.dedup,
                "details": _dumps(c.details),
            }
            for c in items
        ]
        created: Mapping[str | None, int] = {row.dedup: row.id for row in self._db.execute(statement, values)}
        existing: dict[str, int] = {}
        missing = [c.dedup for c in items if c.dedup is not None and c.dedup not in created]
        if missing:
            rows = self._db.execute(select(changes.c.id, changes.c.dedup).where(changes.c.dedup.in_(missing)))
            existing = {row.dedup: row.id for row in rows}
        out: list[tuple[Change, bool]] = []
        for change in items:
            if change.dedup in created:
                out.append((replace(change, id=created[change.dedup]), True))
            else:
                out.append((replace(change, id=existing.get(change.dedup or "")), False))
        return out
