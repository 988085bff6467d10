"""The outbox and its deliveries in SQL; per-incident stakeholders.

Concurrency lives here. Claims use ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL, so
workers never wait on each other's rows and never take the same one; SQLite ignores the
clause, and its ``BEGIN IMMEDIATE`` (see ``db.py``) serializes the claiming transactions
instead. Every result is written under the claim's lease token: a worker whose lease
expired (and whose row someone else took) changes nothing.

A channel's health (``outbox_channels``) is shared the same way: the one probe of an
open circuit is taken by a conditional ``UPDATE`` that only one worker can win.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from warroom.domain.comms.notifications import Notification
from warroom.domain.comms.stakeholders import StakeholderChange
from warroom.domain.shared.serial import from_data, to_data
from warroom.services.ports.comms import ChannelState, Delivery, OutboxMessage
from warroom.storage.outbox_tables import deliveries, incident_stakeholders, outbox, outbox_channels


def insert_ignoring_duplicates(connection: Connection, table: Any) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the connection's dialect."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _dump(message: OutboxMessage) -> str:
    document = {"notification": to_data(message.notification), "targets": list(message.targets)}
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def _load(text: str) -> OutboxMessage:
    document = json.loads(text)
    return OutboxMessage(from_data(Notification, document["notification"]), tuple(document["targets"]))


def _delivery(row: Any) -> Delivery:
    return Delivery(
        id=row.id,
        notification=_load(row.message).notification,
        channel=row.channel,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        lease_token=row.lease_token,
    )


_DELIVERY_COLUMNS = (*deliveries.c, outbox.c.message)


def _due(now: datetime) -> Any:
    return and_(
        deliveries.c.status == "pending",
        deliveries.c.next_attempt_at <= now,
        or_(deliveries.c.leased_until.is_(None), deliveries.c.leased_until <= now),
    )


class SqlOutboxStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(self, message: OutboxMessage, at: datetime) -> bool:
        n = message.notification
        number = int(n.incident.removeprefix("INC-")) if n.incident else None
        statement = (
            insert_ignoring_duplicates(self._db, outbox)
            .values(key=n.key, kind=n.kind, incident=number, message=_dump(message), created_at=at)
            .returning(outbox.c.id)
        )
        return self._db.execute(statement).first() is not None

    def unrouted(self, limit: int) -> list[tuple[int, OutboxMessage]]:
        query = (
            select(outbox.c.id, outbox.c.message)
            .where(outbox.c.routed_at.is_(None))
            .order_by(outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [(row.id, _load(row.message)) for row in self._db.execute(query)]

    def route(self, message_id: int, channels: Sequence[str], at: datetime) -> None:
        if channels:
            rows = [
                {
                    "outbox_id": message_id,
                    "channel": channel,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": at,
                    "created_at": at,
                    "updated_at": at,
                }
                for channel in channels
            ]
            self._db.execute(insert_ignoring_duplicates(self._db, deliveries), rows)
        self._db.execute(update(outbox).where(outbox.c.id == message_id).values(routed_at=at))

    def claim(
        self, now: datetime, lease_until: datetime, token: str, channel: str | None = None
    ) -> Delivery | None:
        due = (
            select(deliveries.c.id)
            .where(_due(now))
            .order_by(deliveries.c.next_attempt_at, deliveries.c.id)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        if channel is not None:
            due = due.where(deliveries.c.channel == channel)
        found = self._db.execute(due).scalar()
        if found is None:
            return None
        self._db.execute(
            update(deliveries)
            .where(deliveries.c.id == found)
            .values(
                lease_token=token,
                leased_until=lease_until,
                attempts=deliveries.c.attempts + 1,
                updated_at=now,
            )
        )
        row = self._db.execute(
            select(*_DELIVERY_COLUMNS)
            .join(outbox, outbox.c.id == deliveries.c.outbox_id)
            .where(deliveries.c.id == found)
        ).one()
        return _delivery(row)

    def finish(
        self,
        delivery_id: int,
        token: str,
        *,
        at: datetime,
        status: str,
        error: str | None = None,
        next_attempt_at: datetime | None = None,
    ) -> bool:
        values: dict[str, Any] = {
            "status": status,
            "lease_token": None,
            "leased_until": None,
            "updated_at": at,
            "last_error": error,
        }
        if status == "delivered":
            values["delivered_at"] = at
        if next_attempt_at is not None:
            values["next_attempt_at"] = next_attempt_at
        result = self._db.execute(
            update(deliveries)
            .where(and_(deliveries.c.id == delivery_id, deliveries.c.lease_token == token))
            .values(**values)
        )
        return result.rowcount == 1

    def deliveries(self, status: str | None, limit: int) -> list[Delivery]:
        query = select(*_DELIVERY_COLUMNS).join(outbox, outbox.c.id == deliveries.c.outbox_id)
        if status is not None:
            query = query.where(deliveries.c.status == status)
        query = query.order_by(deliveries.c.id.desc()).limit(limit)
        return [_delivery(row) for row in self._db.execute(query)]

    def retry(self, ids: Sequence[int], all_dead: bool, at: datetime) -> list[int]:
        condition = deliveries.c.status == "dead" if all_dead else deliveries.c.id.in_(list(ids))
        condition = and_(condition, deliveries.c.status != "delivered")
        found = list(self._db.execute(select(deliveries.c.id).where(condition)).scalars())
        if found:
            self._db.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(found))
                .values(
                    status="pending",
                    attempts=0,
                    next_attempt_at=at,
                    lease_token=None,
                    leased_until=None,
                    updated_at=at,
                )
            )
        return sorted(found)

    def due_channels(self, now: datetime) -> dict[str, int]:
        query = select(deliveries.c.channel, func.count()).where(_due(now)).group_by(deliveries.c.channel)
        return {channel: int(count) for channel, count in self._db.execute(query)}

    def open_circuits(self) -> dict[str, datetime]:
        query = select(outbox_channels.c.name, outbox_channels.c.open_until).where(
            outbox_channels.c.open_until.is_not(None)
        )
        return {name: until for name, until in self._db.execute(query)}

    def admit(self, channel: str, now: datetime, probe_until: datetime) -> str | None:
        open_until = self._db.execute(
            select(outbox_channels.c.open_until).where(outbox_channels.c.name == channel)
        ).scalar()
        if open_until is None:
            return "closed"
        if open_until > now:
            return None
        # The cool-down is over: one probe. Whoever moves open_until first has it (on
        # PostgreSQL a second worker's UPDATE waits for the row, then finds it moved).
        taken = self._db.execute(
            update(outbox_channels)
            .where(outbox_channels.c.name == channel, outbox_channels.c.open_until <= now)
            .values(open_until=probe_until, updated_at=now)
        )
        return "probe" if taken.rowcount == 1 else None

    def record(
        self,
        channel: str,
        ok: bool,
        *,
        at: datetime,
        error: str | None = None,
        open_after: int,
        open_until: datetime,
    ) -> None:
        self._db.execute(
            insert_ignoring_duplicates(self._db, outbox_channels).values(
                name=channel, failures=0, updated_at=at
            )
        )
        row = outbox_channels.c
        if ok:
            values: dict[str, Any] = {"failures": 0, "open_until": None, "last_success_at": at}
        else:
            values = {
                "failures": row.failures + 1,
                "last_error": error,
                "last_failure_at": at,
                # The open_after-th consecutive failure opens the circuit; a failed probe
                # keeps it open for another cool-down.
                "open_until": case((row.failures + 1 >= open_after, open_until), else_=row.open_until),
            }
        self._db.execute(update(outbox_channels).where(row.name == channel).values(updated_at=at, **values))

    def channels(self, incident: int | None = None, *, delivered: bool = True) -> list[ChannelState]:
        wanted = ["pending", "dead", *(["delivered"] if delivered else [])]
        counts = (
            select(deliveries.c.channel, deliveries.c.status, func.count())
            .where(deliveries.c.status.in_(wanted))
            .group_by(deliveries.c.channel, deliveries.c.status)
        )
        newest_dead = select(func.max(deliveries.c.id)).where(deliveries.c.status == "dead")
        if incident is not None:
            of_incident = deliveries.c.outbox_id.in_(select(outbox.c.id).where(outbox.c.incident == incident))
            counts = counts.where(of_incident)
            newest_dead = newest_dead.where(of_incident)
        found: dict[str, dict[str, Any]] = {}
        for channel, status, count in self._db.execute(counts):
            found.setdefault(channel, {})[status] = int(count)
        dead_errors = select(deliveries.c.channel, deliveries.c.last_error).where(
            deliveries.c.id.in_(newest_dead.group_by(deliveries.c.channel))
        )
        for channel, error in self._db.execute(dead_errors):
            found.setdefault(channel, {})["dead_error"] = error
        health = select(outbox_channels)
        if incident is not None:
            health = health.where(outbox_channels.c.name.in_(list(found)))
        for row in self._db.execute(health):
            found.setdefault(row.name, {}).update(
                failures=row.failures,
                open_until=row.open_until,
                last_error=row.last_error,
                last_failure_at=row.last_failure_at,
                last_success_at=row.last_success_at,
            )
        return [ChannelState(name, **found[name]) for name in sorted(found)]

    def counts(self) -> dict[str, int]:
        rows = self._db.execute(select(deliveries.c.status, func.count()).group_by(deliveries.c.status))
        found = {status: int(count) for status, count in rows}
        unrouted = self._db.execute(
            select(func.count()).select_from(outbox).where(outbox.c.routed_at.is_(None))
        ).scalar_one()
        return {"pending": 0, "delivered": 0, "dead": 0, **found, "unrouted": int(unrouted)}


class SqlStakeholderStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def changes(self, number: int) -> list[StakeholderChange]:
        query = (
            select(incident_stakeholders)
            .where(incident_stakeholders.c.incident == number)
            .order_by(incident_stakeholders.c.changed_at, incident_stakeholders.c.target)
        )
        return [StakeholderChange(row.target, row.audience, row.excluded) for row in self._db.execute(query)]

    def put(self, number: int, change: StakeholderChange, by: str, at: datetime) -> None:
        self.drop(number, change.target)
        self._db.execute(
            incident_stakeholders.insert().values(
                incident=number,
                target=change.target,
                audience=change.audience,
                excluded=change.excluded,
                changed_by=by,
                changed_at=at,
            )
        )

    def drop(self, number: int, target: str) -> None:
        self._db.execute(
            delete(incident_stakeholders).where(
                incident_stakeholders.c.incident == number, incident_stakeholders.c.target == target
            )
        )
