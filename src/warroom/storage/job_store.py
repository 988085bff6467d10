"""Leased scheduled jobs, and the incidents the reminder jobs look at.

A job row is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite
ignores the clause and serializes the claim with ``BEGIN IMMEDIATE``): of several
workers asking at once, one gets the lease, the others go on without waiting.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, or_, select, update

from warroom.storage.outbox_store import insert_ignoring_duplicates
from warroom.storage.outbox_tables import jobs
from warroom.storage.tables import events, incidents


class SqlJobStore:
    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def claim(self, name: str, now: datetime, lease_until: datetime, token: str) -> bool:
        self._db.execute(insert_ignoring_duplicates(self._db, jobs).values(name=name, next_run_at=now))
        due = (
            select(jobs.c.name)
            .where(
                jobs.c.name == name,
                jobs.c.next_run_at <= now,
                or_(jobs.c.leased_until.is_(None), jobs.c.leased_until <= now),
            )
            .with_for_update(skip_locked=True)
        )
        if self._db.execute(due).scalar() is None:
            return False
        self._db.execute(
            update(jobs)
            .where(jobs.c.name == name)
            .values(lease_token=token, leased_until=lease_until, last_started_at=now)
        )
        return True

    def finish(
        self, name: str, token: str, *, at: datetime, next_run_at: datetime, error: str | None
    ) -> None:
        self._db.execute(
            update(jobs)
            .where(and_(jobs.c.name == name, jobs.c.lease_token == token))
            .values(
                lease_token=None,
                leased_until=None,
                next_run_at=next_run_at,
                last_finished_at=at,
                last_error=error,
            )
        )

    def open_incidents(self) -> list[int]:
        query = select(incidents.c.number).where(incidents.c.is_open.is_(True)).order_by(incidents.c.number)
        return list(self._db.execute(query).scalars())

    def incidents_with_followups(self) -> list[int]:
        query = (
            select(events.c.incident)
            .where(events.c.kind == "followup_added")
            .distinct()
            .order_by(events.c.incident)
        )
        return list(self._db.execute(query).scalars())
