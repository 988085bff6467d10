"""The alert store: bulk, idempotent writes for webhook ingest, and the triage queue.

Ingest reads every known fingerprint of a body with one ``SELECT ... IN``, inserts the new
ones with one ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (so a row another process
inserted first is simply not returned) and writes updates and transitions with
executemany. On PostgreSQL :meth:`SqlAlertStore.lock_services` takes a transaction-scoped
advisory lock per service, in sorted order so two bodies can never deadlock, around the
check-then-declare; on SQLite ``BEGIN IMMEDIATE`` already serialises writers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from warroom.domain.alert_policy import AlertRecord, Known, Outcome, Route, Silence, alert_name
from warroom.domain.alerts import AlertSignal
from warroom.domain.changes import Change
from warroom.storage.alert_tables import alert_silences, alert_transitions, alerts
from warroom.storage.tables import changes, incident_services, incidents

CHUNK = 500  # bound the bind parameters of one IN list (SQLite allows 32766, PG 65535)

_KNOWN = select(
    alerts.c.id,
    alerts.c.fingerprint,
    alerts.c.status,
    alerts.c.service,
    alerts.c.starts_at,
    alerts.c.ends_at,
    alerts.c.incident,
    alerts.c.acknowledged_at,
).where(alerts.c.source == bindparam("source"), alerts.c.fingerprint.in_(bindparam("fps", expanding=True)))

_RESOLVE = (
    update(alerts)
    .where(alerts.c.id == bindparam("b_id"))
    .values(status="resolved", ends_at=bindparam("b_ends_at"), changed_at=bindparam("b_now"))
)
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
_LOCK = text("SELECT pg_advisory_xact_lock(:key)")

TRANSIENT = (OperationalError, PoolTimeout)


def is_transient_fault(error: BaseException) -> bool:
    """Whether ``error`` is a database fault a retry may cure: busy or locked, unreachable,
    a lock or statement timeout, a deadlock or serialization failure, a lost connection."""
    if isinstance(error, TRANSIENT):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def lock_key(service: str) -> int:
    """A stable signed 64-bit advisory lock key per service (Python's hash() is salted)."""
    digest = hashlib.blake2b(f"warroom.alerts:{service}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _signal_columns(signal: AlertSignal, route: Route) -> dict[str, Any]:
    extra = dict(signal.extra)
    if signal.generator_url:
        extra["generator_url"] = signal.generator_url
    return {
        "name": alert_name(signal.labels, signal.summary),
        "summary": signal.summary,
        "severity": signal.severity,
        "service": route.service,
        "team": route.team,
        "ownership_unclear": route.ownership_unclear,
        "labels": _dumps(signal.labels),
        "annotations": _dumps(signal.annotations),
        "extra": _dumps(extra),
        "group_key": signal.group_key,
        "starts_at": signal.starts_at,
    }


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


class SqlAlertStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection
        self._postgres = connection.dialect.name == "postgresql"
        self._dialect_insert = postgresql.insert if self._postgres else sqlite.insert

    # --- ingest ------------------------------------------------------------------------

    def lock_services(self, services: Iterable[str]) -> bool:
        """Serialise check-then-declare per service; True when locks were taken (PostgreSQL),
        so the caller must re-read what it decided on before waiting."""
        if not self._postgres:
            return False
        for key in sorted({lock_key(name) for name in services}):
            self._db.execute(_LOCK, {"key": key})
        return True

    def known(self, source: str, fingerprints: Sequence[str]) -> dict[str, Known]:
        found: dict[str, Known] = {}
        for start in range(0, len(fingerprints), CHUNK):
            chunk = list(fingerprints[start : start + CHUNK])
            for row in self._db.execute(_KNOWN, {"source": source, "fps": chunk}):
                found[row.fingerprint] = Known(
                    id=row.id,
                    status=row.status,
                    service=row.service,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    incident=row.incident,
                    acknowledged=row.acknowledged_at is not None,
                )
        return found

    def insert(self, rows: Sequence[tuple[AlertSignal, Route]], now: datetime) -> dict[str, int]:
        """Insert new alerts; returns fingerprint -> id of those this call inserted (a row
        that exists already, e.g. inserted by a concurrent delivery, is skipped)."""
        if not rows:
            return {}
        values = [
            _signal_columns(signal, route)
            | {
                "source": signal.source,
                "fingerprint": signal.fingerprint,
                "status": signal.status,
                "ends_at": signal.ends_at if signal.status == "resolved" else None,
                "acknowledged_at": None,
                "first_seen_at": now,
                "changed_at": now,
                "incident": None,
            }
            for signal, route in sorted(rows, key=lambda pair: pair[0].fingerprint)
        ]
        statement = (
            self._dialect_insert(alerts)
            .on_conflict_do_nothing(index_elements=["source", "fingerprint"])
            .returning(alerts.c.id, alerts.c.fingerprint)
        )
        return {row.fingerprint: row.id for row in self._db.execute(statement, values)}

    def update(self, rows: Sequence[tuple[int, AlertSignal, Outcome, Route | None]], now: datetime) -> None:
        resolved, acknowledged, refired = [], [], []
        for alert_id, signal, outcome, route in rows:
            if outcome is Outcome.RESOLVED:
                resolved.append({"b_id": alert_id, "b_ends_at": signal.ends_at or now, "b_now": now})
            elif outcome is Outcome.ACKNOWLEDGED:
                acknowledged.append({"b_id": alert_id, "b_now": now})
            elif outcome is Outcome.REFIRED:
                assert route is not None
                columns = _signal_columns(signal, route)
                refired.append({f"b_{key}": value for key, value in columns.items()} | {"b_id": alert_id})
                refired[-1]["b_unclear"] = refired[-1].pop("b_ownership_unclear")
                refired[-1]["b_now"] = now
        for statement, params in ((_RESOLVE, resolved), (_ACKNOWLEDGE, acknowledged), (_REFIRE, refired)):
            if params:
                self._db.execute(statement, params)

    def add_transitions(self, rows: Sequence[tuple[int, str, datetime]], now: datetime) -> None:
        if rows:
            self._db.execute(
                insert(alert_transitions),
                [
                    {"alert": alert_id, "status": status, "at": at, "recorded_at": now}
                    for alert_id, status, at in rows
                ],
            )

    def attach(self, alert_ids: Sequence[int], number: int) -> None:
        if alert_ids:
            statement = update(alerts).where(alerts.c.id == bindparam("b_id")).values(incident=number)
            self._db.execute(statement, [{"b_id": alert_id} for alert_id in alert_ids])

    def open_incidents(self, services: Iterable[str]) -> dict[str, int]:
        """The newest open incident of each of ``services`` that has one."""
        names = sorted(set(services))
        if not names:
            return {}
        query = (
            select(incident_services.c.service, func.max(incidents.c.number).label("number"))
            .join(incidents, incidents.c.number == incident_services.c.number)
            .where(incident_services.c.service.in_(names), incidents.c.is_open.is_(True))
            .group_by(incident_services.c.service)
        )
        return {row.service: int(row.number) for row in self._db.execute(query)}

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
