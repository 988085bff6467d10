"""The SQL learning store: postmortems, the follow-up read model, reliability records.

Writes that may race across replicas are upserts keyed by a unique constraint (the
record of an incident, an imported incident's source and id), so two reviews refreshing
the same record, or an import run twice, leave one row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Table,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from warroom.domain.incidents.state import MILESTONES, Followup
from warroom.domain.learning.durations import IncidentRecord, measure
from warroom.domain.learning.history_import import ImportedIncident
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound
from warroom.domain.shared.timefmt import iso
from warroom.services.ports.learning import FollowupFilter, FollowupItem, StoredPostmortem
from warroom.storage.learning_tables import DURATIONS, followups, postmortems, reliability_records
from warroom.storage.queries import SqlReads
from warroom.storage.reads import LearningReads
from warroom.storage.tables import incidents

BATCH = 2000
WARROOM = "warroom"


def _dialect_insert(connection: Connection, table: Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _postmortem(row: Any) -> StoredPostmortem:
    return StoredPostmortem(
        number=row.incident,
        status=row.status,
        document=json.loads(row.document),
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
        published_at=row.published_at,
        published_by=row.published_by,
        override_why=row.override_why,
        findings=row.findings,
    )


def _record_values(record: IncidentRecord) -> dict[str, Any]:
    measured = measure(record)
    return {
        "services": json.dumps(list(record.services)),
        "severity": record.severity,
        "kind": record.kind,
        "anchor_at": record.anchor,
        **{name: getattr(record, name) for name in MILESTONES},
        "month": measured.month,
        **{
            f"{name}_seconds": None if seconds == math.inf else seconds
            for name, seconds in zip(DURATIONS, measured.durations, strict=True)
        },
        "factors": json.dumps(list(record.contributing_factors)),
        "followups_done": json.dumps(
            [None if done is None else iso(done) for done in record.followups_done_at]
        ),
    }


class SqlLearningStore(SqlReads, LearningReads):
    """The reads a review needs (``stale_records``, ``measured``) are
    ``storage.reads.LearningReads``, shared with the sqlite3 reader."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    # --- postmortems -------------------------------------------------------------------

    def postmortem(self, number: int) -> StoredPostmortem | None:
        row = self._db.execute(select(postmortems).where(postmortems.c.incident == number)).first()
        return None if row is None else _postmortem(row)

    def save_postmortem(
        self, number: int, document: dict[str, Any], *, at: datetime, by: str
    ) -> StoredPostmortem:
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        changed = self._db.execute(
            update(postmortems)
            .where(postmortems.c.incident == number)
            .values(document=text, revision=postmortems.c.revision + 1, updated_at=at, updated_by=by)
        )
        if changed.rowcount == 0:
            try:
                self._insert_postmortem(number, text, at=at, by=by)
            except IntegrityError:  # a concurrent first draft won; this transaction is void
                raise ConcurrencyConflict(
                    f"the postmortem of INC-{number} was created meanwhile; retry"
                ) from None
        saved = self.postmortem(number)
        assert saved is not None
        return saved

    def _insert_postmortem(self, number: int, text: str, *, at: datetime, by: str) -> None:
        self._db.execute(
            insert(postmortems).values(
                incident=number,
                status="draft",
                document=text,
                revision=1,
                created_at=at,
                updated_at=at,
                updated_by=by,
                findings=0,
            )
        )

    def mark_published(
        self,
        number: int,
        document: dict[str, Any],
        *,
        at: datetime,
        by: str,
        override_why: str | None,
        findings: int,
    ) -> StoredPostmortem:
        self.save_postmortem(number, document, at=at, by=by)
        self._db.execute(
            update(postmortems)
            .where(postmortems.c.incident == number)
            .values(
                status="published",
                published_at=at,
                published_by=by,
                override_why=override_why,
                findings=findings,
            )
        )
        saved = self.postmortem(number)
        if saved is None:
            raise NotFound(f"INC-{number} has no postmortem")
        return saved

    def reopen_postmortem(self, number: int, *, at: datetime, by: str) -> StoredPostmortem:
        self._db.execute(
            update(postmortems)
            .where(postmortems.c.incident == number)
            .values(status="draft", updated_at=at, updated_by=by, published_at=None, published_by=None)
        )
        saved = self.postmortem(number)
        if saved is None:
            raise NotFound(f"INC-{number} has no postmortem")
        return saved

    # --- follow-ups ---------------------------------------------------------------------

    def put_followups(self, number: int, items: Sequence[Followup]) -> None:
        self._db.execute(delete(followups).where(followups.c.incident == number))
        if items:
            self._db.execute(
                insert(followups),
                [
                    {
                        "incident": number,
                        "ref": item.ref,
                        "title": item.title,
                        "owner": item.owner,
                        "due": item.due,
                        "kind": item.kind,
                        "status": item.status,
                        "created_at": item.created_at,
                        "closed_at": item.closed_at,
                        "why": item.why,
                    }
                    for item in items
                ],
            )

    def followups(self, filters: FollowupFilter) -> list[FollowupItem]:
        query = select(
            followups,
            incidents.c.title.label("incident_title"),
            incidents.c.status.label("incident_status"),
            incidents.c.severity,
        ).join(incidents, incidents.c.number == followups.c.incident)
        if filters.status:
            query = query.where(followups.c.status == filters.status)
        if filters.owner:
            query = query.where(followups.c.owner == filters.owner)
        if filters.owners is not None:
            query = query.where(followups.c.owner.in_(filters.owners))
        if filters.incident is not None:
            query = query.where(followups.c.incident == filters.incident)
        if filters.due_before is not None:
            query = query.where(followups.c.due < filters.due_before)
        # Open before closed, then by due date: the limit never drops an overdue item for a later one.
        query = query.order_by(
            (followups.c.status != "open"), followups.c.due, followups.c.incident, followups.c.ref
        )
        query = query.limit(filters.limit)
        return [
            FollowupItem(
                incident=row.incident,
                incident_title=row.incident_title,
                incident_status=row.incident_status,
                severity=row.severity,
                followup=Followup(
                    ref=row.ref,
                    title=row.title,
                    owner=row.owner,
                    due=row.due,
                    kind=row.kind,
                    status=row.status,
                    created_at=row.created_at,
                    closed_at=row.closed_at,
                    why=row.why,
                ),
            )
            for row in self._db.execute(query)
        ]

    # --- reliability records ---------------------------------------------------------------

    def put_record(self, number: int, version: int, title: str, record: IncidentRecord, at: datetime) -> None:
        values = {
            "source": WARROOM,
            "external_id": f"INC-{number}",
            "incident": number,
            "version": version,
            "title": title[:500],
            "recorded_at": at,
            **_record_values(record),
        }
        statement = _dialect_insert(self._db, reliability_records).values(**values)
        changes = {key: statement.excluded[key] for key in values if key not in ("source", "external_id")}
        self._db.execute(
            statement.on_conflict_do_update(index_elements=["source", "external_id"], set_=changes)
        )

    def forget_record(self, number: int) -> None:
        self._db.execute(delete(reliability_records).where(reliability_records.c.incident == number))

    def add_history(self, items: Sequence[ImportedIncident], at: datetime) -> int:
        before = self.history_count()
        statement: Insert = _dialect_insert(self._db, reliability_records).on_conflict_do_nothing(
            index_elements=["source", "external_id"]
        )
        for start in range(0, len(items), BATCH):
            rows = [
                {
                    "source": item.source,
                    "external_id": item.external_id,
                    "incident": None,
                    "version": None,
                    "title": item.title,
                    "recorded_at": at,
                    **_record_values(item.record),
                }
                for item in items[start : start + BATCH]
            ]
            self._db.execute(statement, rows)
        return self.history_count() - before

    def history_count(self) -> int:
        query = (
            select(func.count())
            .select_from(reliability_records)
            .where(reliability_records.c.source != WARROOM)
        )
        return int(self._db.execute(query).scalar_one())
