"""On call in SQL: documents for the directory, rows for overrides, pages and notifications.

The escalation tick's exactly-once rests on :meth:`SqlOncallStore.lock_due`: it locks a
page only while it is due, with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (another worker
holding the row skips it; one that comes after the commit finds it no longer due). SQLite
serializes writers with ``BEGIN IMMEDIATE`` instead (``db.py``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, select, update

from warroom.domain.oncall import documents as docs
from warroom.domain.oncall.heartbeats import Heartbeat
from warroom.domain.oncall.pages import Notify, Page, PageStatus
from warroom.domain.oncall.people import Person
from warroom.domain.oncall.policies import EscalationPolicy, Team
from warroom.domain.oncall.schedules import Override, Schedule
from warroom.services.ports.oncall import PlannedNotification
from warroom.storage.oncall_rows import page_of as _page
from warroom.storage.oncall_rows import planned_of as _planned
from warroom.storage.oncall_tables import (
    heartbeats,
    oncall_overrides,
    oncall_people,
    oncall_policies,
    oncall_schedules,
    oncall_service_policies,
    oncall_teams,
    page_notifications,
    pages,
)
from warroom.storage.outbox_store import insert_ignoring_duplicates
from warroom.storage.outbox_tables import deliveries, outbox
from warroom.storage.queries import SqlReads
from warroom.storage.reads import OncallReads
from warroom.storage.tables import incidents


def _dump(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _page_values(page: Page) -> dict[str, Any]:
    return {
        "title": page.title,
        "status": page.status.value,
        "policy": page.policy,
        "first_policy": page.first_policy,
        "targets": json.dumps([{"kind": t.kind, "name": t.name} for t in page.targets]),
        "reason": page.reason,
        "incident": page.incident,
        "team": page.team,
        "dedup": page.dedup,
        "open_dedup": page.dedup if page.open else None,
        "step": page.step,
        "round": page.round,
        "trigger": page.trigger,
        "fell_back": page.fell_back,
        "due_at": page.due_at,
        "opened_at": page.opened_at,
        "opened_by": page.opened_by,
        "triggered_at": page.triggered_at,
        "acked_at": page.acked_at,
        "acked_by": page.acked_by,
        "ack_step": page.ack_step,
        "resolved_at": page.resolved_at,
        "resolved_by": page.resolved_by,
    }


class SqlOncallStore(SqlReads, OncallReads):
    """Pages of a window, their notifications and the people are read through
    ``storage.reads`` (``OncallReads``), the path ``warroom report`` shares on SQLite."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    # --- documents ------------------------------------------------------------------------

    def _put(self, table: Table, key: str, value: str, document: dict[str, Any], at: datetime) -> bool:
        column = table.c[key]
        found = self._db.execute(select(column).where(column == value).with_for_update()).first()
        if found is None:
            self._db.execute(
                table.insert().values({key: value, "document": _dump(document), "updated_at": at})
            )
            return True
        self._db.execute(update(table).where(column == value).values(document=_dump(document), updated_at=at))
        return False

    def _remove(self, table: Table, key: str, value: str) -> bool:
        return bool(self._db.execute(delete(table).where(table.c[key] == value)).rowcount)

    def _documents(self, table: Table, key: str) -> list[Any]:
        return [json.loads(row.document) for row in self._db.execute(select(table).order_by(table.c[key]))]

    def person(self, handle: str) -> Person | None:
        row = self._db.execute(
            select(oncall_people.c.document).where(oncall_people.c.handle == handle)
        ).first()
        return docs.person_from(json.loads(row.document)) if row else None

    def put_person(self, person: Person, at: datetime) -> bool:
        return self._put(oncall_people, "handle", person.handle, docs.person_doc(person, secrets=True), at)

    def remove_person(self, handle: str) -> bool:
        return self._remove(oncall_people, "handle", handle)

    def teams(self) -> list[Team]:
        return [docs.team_from(d) for d in self._documents(oncall_teams, "name")]

    def put_team(self, team: Team, at: datetime) -> bool:
        return self._put(oncall_teams, "name", team.name, docs.team_doc(team), at)

    def remove_team(self, name: str) -> bool:
        return self._remove(oncall_teams, "name", name)

    def _overrides(self, names: Sequence[str] | None, after: datetime | None) -> dict[str, list[Override]]:
        query = select(oncall_overrides)
        if names is not None:
            query = query.where(oncall_overrides.c.schedule.in_(list(names)))
        if after is not None:
            query = query.where(oncall_overrides.c.end_at > after)
        found: dict[str, list[Override]] = {}
        for row in self._db.execute(query.order_by(oncall_overrides.c.start_at)):
            found.setdefault(row.schedule, []).append(
                Override(row.person, row.start_at, row.end_at, row.replaces, row.note, row.id)
            )
        return found

    def schedules(self, overrides_after: datetime | None = None) -> list[Schedule]:
        overrides = self._overrides(None, overrides_after)
        found = []
        for document in self._documents(oncall_schedules, "name"):
            item = docs.schedule_from_stored(document)
            found.append(Schedule(**{**_fields(item), "overrides": tuple(overrides.get(item.name, ()))}))
        return found

    def schedule(self, name: str) -> Schedule | None:
        row = self._db.execute(
            select(oncall_schedules.c.document).where(oncall_schedules.c.name == name)
        ).first()
        if row is None:
            return None
        item = docs.schedule_from_stored(json.loads(row.document))
        return Schedule(**{**_fields(item), "overrides": tuple(self._overrides([name], None).get(name, ()))})

    def put_schedule(self, schedule: Schedule, at: datetime) -> bool:
        return self._put(oncall_schedules, "name", schedule.name, docs.schedule_doc(schedule), at)

    def remove_schedule(self, name: str) -> bool:
        self._db.execute(delete(oncall_overrides).where(oncall_overrides.c.schedule == name))
        return self._remove(oncall_schedules, "name", name)

    def add_override(self, schedule: str, override: Override, by: str, at: datetime) -> int:
        result = self._db.execute(
            oncall_overrides.insert()
            .values(
                schedule=schedule,
                person=override.person,
                start_at=override.start,
                end_at=override.end,
                replaces=override.replaces,
                note=override.note,
                created_by=by,
                created_at=at,
            )
            .returning(oncall_overrides.c.id)
        )
        return int(result.scalar_one())

    def remove_override(self, schedule: str, override_id: int) -> bool:
        result = self._db.execute(
            delete(oncall_overrides).where(
                oncall_overrides.c.schedule == schedule, oncall_overrides.c.id == override_id
            )
        )
        return bool(result.rowcount)

    def lock_schedule(self, name: str) -> None:
        """Serialize override changes of one schedule (the overlap check reads, then writes)."""
        self._db.execute(
            select(oncall_schedules.c.name).where(oncall_schedules.c.name == name).with_for_update()
        )

    def policies(self) -> list[EscalationPolicy]:
        return [docs.policy_from(d) for d in self._documents(oncall_policies, "name")]

    def put_policy(self, policy: EscalationPolicy, at: datetime) -> bool:
        return self._put(oncall_policies, "name", policy.name, docs.policy_doc(policy), at)

    def remove_policy(self, name: str) -> bool:
        return self._remove(oncall_policies, "name", name)

    def service_policies(self) -> dict[str, str]:
        return {row.service: row.policy for row in self._db.execute(select(oncall_service_policies))}

    def set_service_policy(self, service: str, policy: str | None) -> None:
        self._db.execute(delete(oncall_service_policies).where(oncall_service_policies.c.service == service))
        if policy is not None:
            self._db.execute(oncall_service_policies.insert().values(service=service, policy=policy))

    # --- pages ----------------------------------------------------------------------------

    def add_page(self, page: Page) -> Page | None:
        statement = (
            insert_ignoring_duplicates(self._db, pages).values(_page_values(page)).returning(pages.c.id)
        )
        row = self._db.execute(statement).first()
        if row is None:
            return None
        return Page(**{**_fields(page), "id": int(row.id)})

    def page(self, page_id: int, *, lock: bool = False) -> Page | None:
        query = select(pages).where(pages.c.id == page_id)
        if lock:
            query = query.with_for_update()
        row = self._db.execute(query).first()
        return _page(row) if row else None

    def open_page(self, dedup: str) -> Page | None:
        row = self._db.execute(select(pages).where(pages.c.open_dedup == dedup)).first()
        return _page(row) if row else None

    def due_pages(self, now: datetime, limit: int) -> list[int]:
        query = (
            select(pages.c.id).where(pages.c.due_at <= now).order_by(pages.c.due_at, pages.c.id).limit(limit)
        )
        return [int(i) for i in self._db.execute(query).scalars()]

    def lock_due(self, page_id: int, now: datetime) -> Page | None:
        query = (
            select(pages)
            .where(pages.c.id == page_id, pages.c.due_at <= now, pages.c.status != PageStatus.RESOLVED.value)
            .with_for_update(skip_locked=True)
        )
        row = self._db.execute(query).first()
        return _page(row) if row else None

    def save_page(self, page: Page) -> None:
        self._db.execute(update(pages).where(pages.c.id == page.id).values(_page_values(page)))

    def pages(self, *, open_only: bool, limit: int, incident: int | None = None) -> list[Page]:
        query = select(pages)
        if open_only:
            query = query.where(pages.c.status != PageStatus.RESOLVED.value)
        if incident is not None:
            query = query.where(pages.c.incident == incident)
        return [_page(row) for row in self._db.execute(query.order_by(pages.c.id.desc()).limit(limit))]

    def open_pages_of_closed_incidents(self, limit: int) -> list[int]:
        query = (
            select(pages.c.id)
            .join(incidents, incidents.c.number == pages.c.incident)
            .where(pages.c.status != PageStatus.RESOLVED.value, incidents.c.is_open.is_(False))
            .limit(limit)
        )
        return [int(i) for i in self._db.execute(query).scalars()]

    # --- planned notifications --------------------------------------------------------------

    def plan(self, page_id: int, notes: Sequence[Notify], at: datetime, *, sent: bool) -> list[str]:
        new: list[str] = []
        for note in notes:
            key = note.key(page_id)
            statement = (
                insert_ignoring_duplicates(self._db, page_notifications)
                .values(
                    page_id=page_id,
                    key=key,
                    person=note.person,
                    method=note.method.name,
                    kind=note.method.kind,
                    step=note.step,
                    round=note.round,
                    trigger=note.trigger,
                    policy=note.policy,
                    status="sent" if sent else "pending",
                    due_at=note.due_at,
                    sent_at=at if sent else None,
                )
                .returning(page_notifications.c.id)
            )
            if self._db.execute(statement).first() is not None:
                new.append(key)
        return new

    def has_due_notifications(self, now: datetime) -> bool:
        query = select(page_notifications.c.id).where(
            page_notifications.c.status == "pending", page_notifications.c.due_at <= now
        )
        return self._db.execute(query.limit(1)).first() is not None

    def has_delivery_outcomes(self) -> bool:
        query = (
            select(page_notifications.c.id)
            .join(outbox, outbox.c.key == page_notifications.c.key)
            .join(deliveries, deliveries.c.outbox_id == outbox.c.id)
            .where(page_notifications.c.status == "sent", deliveries.c.status.in_(("delivered", "dead")))
        )
        return self._db.execute(query.limit(1)).first() is not None

    def due_notifications(self, now: datetime, limit: int) -> list[PlannedNotification]:
        query = (
            select(page_notifications)
            .where(page_notifications.c.status == "pending", page_notifications.c.due_at <= now)
            .order_by(page_notifications.c.due_at, page_notifications.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [_planned(row) for row in self._db.execute(query)]

    def mark_notifications(self, ids: Sequence[int], status: str, at: datetime) -> None:
        if ids:
            self._db.execute(
                update(page_notifications)
                .where(page_notifications.c.id.in_(list(ids)))
                .values(status=status, **({"sent_at": at} if status == "sent" else {}))
            )

    def cancel_pending(self, page_id: int, at: datetime) -> int:
        result = self._db.execute(
            update(page_notifications)
            .where(and_(page_notifications.c.page_id == page_id, page_notifications.c.status == "pending"))
            .values(status="cancelled")
        )
        return int(result.rowcount)

    def delivery_outcomes(
        self, limit: int
    ) -> list[tuple[PlannedNotification, str, int, str | None, datetime]]:
        """Sent notifications whose outbox delivery has finished: (notification, delivered or
        dead, attempts, last error, when)."""
        query = (
            select(
                page_notifications,
                deliveries.c.status.label("delivery_status"),
                deliveries.c.attempts.label("delivery_attempts"),
                deliveries.c.last_error.label("delivery_error"),
                deliveries.c.updated_at.label("delivery_at"),
            )
            .join(outbox, outbox.c.key == page_notifications.c.key)
            .join(deliveries, deliveries.c.outbox_id == outbox.c.id)
            .where(page_notifications.c.status == "sent", deliveries.c.status.in_(("delivered", "dead")))
            .order_by(page_notifications.c.id)
            .limit(limit)
            .with_for_update(of=page_notifications, skip_locked=True)
        )
        return [
            (_planned(row), row.delivery_status, row.delivery_attempts, row.delivery_error, row.delivery_at)
            for row in self._db.execute(query)
        ]

    # --- heartbeats -----------------------------------------------------------------------

    def heartbeats(self) -> list[Heartbeat]:
        found = []
        for row in self._db.execute(select(heartbeats).order_by(heartbeats.c.name)):
            beat = docs.heartbeat_from(json.loads(row.document))
            found.append(
                Heartbeat(**{**_fields(beat), "last_seen": row.last_seen, "created_at": row.created_at})
            )
        return found

    def put_heartbeat(self, beat: Heartbeat, at: datetime) -> bool:
        document = _dump(docs.heartbeat_doc(beat))
        found = self._db.execute(select(heartbeats.c.name).where(heartbeats.c.name == beat.name)).first()
        if found is None:
            self._db.execute(heartbeats.insert().values(name=beat.name, document=document, created_at=at))
            return True
        self._db.execute(update(heartbeats).where(heartbeats.c.name == beat.name).values(document=document))
        return False

    def remove_heartbeat(self, name: str) -> bool:
        return self._remove(heartbeats, "name", name)

    def beat(self, names: Sequence[str], at: datetime) -> None:
        if names:
            self._db.execute(
                update(heartbeats)
                .where(heartbeats.c.name.in_(list(names)))
                .where((heartbeats.c.last_seen.is_(None)) | (heartbeats.c.last_seen < at))
                .values(last_seen=at)
            )


def _fields(item: Any) -> dict[str, Any]:
    from dataclasses import fields

    return {f.name: getattr(item, f.name) for f in fields(item) if not f.name.startswith("_")}
