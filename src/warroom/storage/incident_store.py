"""The incident event store: append with the expected version, fold from a snapshot.

Appending updates the read model (``incidents``) in the same transaction, guarded by
``version = expected``: of two concurrent writers one wins and the other gets a clear
``ConcurrencyConflict``; the unique ``(incident, seq)`` constraint is the backstop.
A snapshot of the folded state every ``SNAPSHOT_EVERY`` events keeps loading cheap on
long incidents (more events apart on one holding many alerts: :func:`snapshot_interval`);
it is a cache, rebuilt from the events when its format changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import cast

import psycopg
from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from warroom.domain.incidents.chain import GENESIS, canonical_json
from warroom.domain.incidents.commands import ensure_chain_intact
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound
from warroom.domain.shared.serial import to_data
from warroom.storage.alert_store import ATTACH_POSTGRES, ATTACH_SQLITE
from warroom.storage.change_feed import CHANNEL
from warroom.storage.pg_arrays import binary_array
from warroom.storage.queries import SqlReads
from warroom.storage.reads import SNAPSHOT_FORMAT, IncidentReads
from warroom.storage.tables import events, incident_services, incidents, snapshots
from warroom.storage.times import stored_utc

SNAPSHOT_EVERY = 100


def snapshot_interval(state: IncidentState) -> int:
    """Events between two snapshots of ``state``: :data:`SNAPSHOT_EVERY`, doubled until it
    is at least half the alerts the incident holds. Writing a snapshot costs time in
    proportion to what it holds, mostly the attached alerts; an alert storm attaching
    thousands to one incident would otherwise write one every hundred events at a cost
    growing with every alert (8 ms at 1,200 alerts, 9% of the ingest's CPU), quadratic over
    the storm. Spaced by its size, it costs a constant per event, and a load folds at most
    about as many events after it as it holds alerts."""
    interval = SNAPSHOT_EVERY
    while interval < len(state.alerts) // 2:
        interval *= 2
    return interval


# placeholder times of a number reserved but not yet declared (rolled back with it on failure)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The append's statements, built once: SQLAlchemy then reuses their compiled form, where
# building them per append cost more CPU than PostgreSQL spent running them (an alert
# storm appends to one incident body after body).
# The read model's columns an append sets (from the folded state).
_READ_MODEL = (
    "title",
    "status",
    "is_open",
    "severity",
    "kind",
    "services",
    "commander",
    "declared_at",
    "detected_at",
    "updated_at",
    "version",
    "last_hash",
)
_ADVANCE = (
    update(incidents)
    .where(and_(incidents.c.number == bindparam("b_number"), incidents.c.version == bindparam("b_expected")))
    .values({name: bindparam(f"b_{name}") for name in _READ_MODEL})
)
_INSERT_EVENTS = insert(events)


_EVENT_COLUMNS = (
    "incident",
    "seq",
    "kind",
    "payload",
    "actor",
    "occurred_at",
    "recorded_at",
    "prev_hash",
    "hash",
)
# As sent: binary arrays (storage.pg_arrays), the two integers as bigint, which the insert
# assigns to the integer columns.
_EVENT_TYPES = ("bigint", "bigint", "text", "text", "text", "timestamptz", "timestamptz", "text", "text")
# PostgreSQL: the read model advances and the events go in, in one statement; no event is
# inserted unless the incident was at the expected version.
_APPEND_POSTGRES = (
    "WITH advanced AS (UPDATE incidents SET "
    + ", ".join(f"{name} = %(b_{name})s" for name in _READ_MODEL)
    + " WHERE number = %(b_number)s AND version = %(b_expected)s RETURNING number)"
    + f" INSERT INTO events ({', '.join(_EVENT_COLUMNS)}) SELECT * FROM unnest("
    + ", ".join(f"%({name})b::{kind}[]" for name, kind in zip(_EVENT_COLUMNS, _EVENT_TYPES, strict=True))
    + ") WHERE EXISTS (SELECT 1 FROM advanced)"
)


def _event_row(event: Event) -> dict[str, object]:
    return {
        "incident": event.incident,
        "seq": event.seq,
        "kind": event.kind,
        "payload": canonical_json(event.payload),
        "actor": event.actor,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


class SqlIncidentStore(SqlReads, IncidentReads):
    """The writes; the reads (``load``, ``events``, ``summaries``, ``version``,
    ``numbers``) are ``storage.reads.IncidentReads``, shared with the sqlite3 reader."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def allocate_number(self) -> int:
        result = self._db.execute(
            insert(incidents)
            .values(
                title="",
                status="declaring",
                is_open=False,
                severity=4,
                kind="",
                services="[]",
                declared_at=EPOCH,
                detected_at=EPOCH,
                updated_at=EPOCH,
                version=0,
                last_hash=GENESIS,
            )
            .returning(incidents.c.number)
        )
        return int(result.scalar_one())

    def append(self, new: Sequence[Event], state: IncidentState, *, attach: Sequence[int] = ()) -> None:
        if not new:
            return
        ensure_chain_intact(state)  # every writer's last line: no append to a broken chain
        number = new[0].incident
        expected = new[0].seq - 1
        commander = state.roles.get(Role.COMMANDER.value)
        declared = state.at("declared_at")
        detected = state.at("detected_at")
        assert declared is not None and detected is not None and state.updated_at is not None
        advance = {
            "b_number": number,
            "b_expected": expected,
            "b_title": state.title,
            "b_status": state.status.value,
            "b_is_open": state.status.is_open,
            "b_severity": int(state.severity),
            "b_kind": state.kind.value,
            "b_services": json.dumps(state.services),
            "b_commander": commander.person if commander else None,
            "b_declared_at": declared,
            "b_detected_at": detected,
            "b_updated_at": state.updated_at,
            "b_version": state.version,
            "b_last_hash": state.last_hash,
        }
        if self._db.dialect.name == "postgresql":
            appended = self._append_postgres(new, advance, attach)
        else:
            appended = self._append(new, advance)
            if appended and attach:
                self._db.connection.driver_connection.executemany(  # type: ignore[union-attr]
                    ATTACH_SQLITE, [(number, alert_id) for alert_id in attach]
                )
        if not appended:
            current = self._db.execute(
                select(incidents.c.version).where(incidents.c.number == number)
            ).scalar()
            if current is None:
                raise NotFound(f"no incident INC-{number}")
            raise ConcurrencyConflict(
                f"INC-{number} changed while you were working on it (now at event #{current}, "
                f"you had #{expected}); look again and retry"
            )
        if expected == 0 and state.services:
            rows = [{"number": number, "service": service} for service in state.services]
            self._db.execute(insert(incident_services), rows)
        interval = snapshot_interval(state)
        if expected == 0 or expected // interval != state.version // interval:
            self._snapshot(state)

    def _append(self, new: Sequence[Event], advance: dict[str, object]) -> bool:
        """Advance the read model, then insert the events: False when the incident was not
        at the expected version (nothing written)."""
        if self._db.execute(_ADVANCE, advance).rowcount != 1:
            return False
        try:
            self._db.execute(_INSERT_EVENTS, [_event_row(e) for e in new])
        except IntegrityError:
            raise ConcurrencyConflict(
                f"INC-{new[0].incident} changed while you were working on it; retry"
            ) from None
        return True

    def _append_postgres(
        self, new: Sequence[Event], advance: dict[str, object], attach: Sequence[int]
    ) -> bool:
        """:meth:`_append` in one statement (the events are inserted only if the read model
        advanced), the alerts linked (``attach``) and the change feed's NOTIFY, all in one
        round trip: an alert storm appends to its incident inside the ingest's service
        locks, where every round trip is time the locks are held. (Should the append find
        another version, the link is rolled back with the transaction the conflict ends.)"""
        # Times as UTCDateTime binds them for the other statements: aware, in UTC.
        for name in ("b_declared_at", "b_detected_at", "b_updated_at"):
            advance[name] = stored_utc(cast(datetime, advance[name]))
        rows = [_event_row(e) for e in new]
        params = dict(advance) | {
            name: binary_array(kind, [row[name] for row in rows])
            for name, kind in zip(_EVENT_COLUMNS, _EVENT_TYPES, strict=True)
        }
        driver = self._db.connection.driver_connection
        assert driver is not None
        append, link, notify = driver.cursor(), driver.cursor(), driver.cursor()
        try:
            with driver.pipeline():
                append.execute(_APPEND_POSTGRES, params)
                if attach:
                    link.execute(ATTACH_POSTGRES, (advance["b_number"], list(attach)))
                # Delivered on commit, to every replica's change feed (storage.change_feed).
                notify.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(new[0].incident)))
            return bool(append.rowcount == len(new))
        except psycopg.IntegrityError:
            raise ConcurrencyConflict(
                f"INC-{new[0].incident} changed while you were working on it; retry"
            ) from None
        finally:
            append.close()
            link.close()
            notify.close()

    def _snapshot(self, state: IncidentState) -> None:
        self._db.execute(delete(snapshots).where(snapshots.c.number == state.number))
        self._db.execute(
            insert(snapshots).values(
                number=state.number,
                version=state.version,
                format=SNAPSHOT_FORMAT,
                state=json.dumps(to_data(state), separators=(",", ":")),
            )
        )
