"""The incident event store: append with the expected version, fold from a snapshot.

Appending updates the read model (``incidents``) in the same transaction, guarded by
``version = expected``: of two concurrent writers one wins and the other gets a clear
``ConcurrencyConflict``; the unique ``(incident, seq)`` constraint is the backstop.
A snapshot of the folded state every ``SNAPSHOT_EVERY`` events keeps loading cheap on
long incidents; it is a cache, rebuilt from the events when its format changes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from warroom.domain.incidents.chain import GENESIS, canonical_json
from warroom.domain.incidents.commands import ensure_chain_intact
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound
from warroom.domain.shared.serial import to_data
from warroom.storage.change_feed import CHANNEL
from warroom.storage.queries import SqlReads
from warroom.storage.reads import SNAPSHOT_FORMAT, IncidentReads
from warroom.storage.tables import events, incident_services, incidents, snapshots

SNAPSHOT_EVERY = 100

# placeholder times of a number reserved but not yet declared (rolled back with it on failure)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# The append's statements, built once: SQLAlchemy then reuses their compiled form, where
# building them per append cost more CPU than PostgreSQL spent running them (an alert
# storm appends to one incident body after body).
_ADVANCE = (
    update(incidents)
    .where(and_(incidents.c.number == bindparam("b_number"), incidents.c.version == bindparam("b_expected")))
    .values(
        {
            name: bindparam(f"b_{name}")
            for name in (
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
        }
    )
)
_INSERT_EVENTS = insert(events)
_NOTIFY = text("SELECT pg_notify(:channel, :number)")


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

    def append(self, new: Sequence[Event], state: IncidentState) -> None:
        if not new:
            return
        ensure_chain_intact(state)  # every writer's last line: no append to a broken chain
        number = new[0].incident
        expected = new[0].seq - 1
        commander = state.roles.get(Role.COMMANDER.value)
        declared = state.at("declared_at")
        detected = state.at("detected_at")
        assert declared is not None and detected is not None and state.updated_at is not None
        result = self._db.execute(
            _ADVANCE,
            {
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
            },
        )
        if result.rowcount != 1:
            current = self._db.execute(
                select(incidents.c.version).where(incidents.c.number == number)
            ).scalar()
            if current is None:
                raise NotFound(f"no incident INC-{number}")
            raise ConcurrencyConflict(
                f"INC-{number} changed while you were working on it (now at event #{current}, "
                f"you had #{expected}); look again and retry"
            )
        try:
            self._db.execute(
                _INSERT_EVENTS,
                [
                    {
                        "incident": e.incident,
                        "seq": e.seq,
                        "kind": e.kind,
                        "payload": canonical_json(e.payload),
                        "actor": e.actor,
                        "occurred_at": e.occurred_at,
                        "recorded_at": e.recorded_at,
                        "prev_hash": e.prev_hash,
                        "hash": e.hash,
                    }
                    for e in new
                ],
            )
        except IntegrityError:
            raise ConcurrencyConflict(f"INC-{number} changed while you were working on it; retry") from None
        if self._db.dialect.name == "postgresql":
            # Delivered on commit, to every replica's change feed (storage.change_feed).
            self._db.execute(_NOTIFY, {"channel": CHANNEL, "number": str(number)})
        if expected == 0 and state.services:
            rows = [{"number": number, "service": service} for service in state.services]
            self._db.execute(insert(incident_services), rows)
        if expected == 0 or expected // SNAPSHOT_EVERY != state.version // SNAPSHOT_EVERY:
            self._snapshot(state)

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
