"""Rows of the on-call tables as domain objects, without SQLAlchemy: shared by the SQL
store and the sqlite3 read path of ``warroom report`` (``storage.reads.OncallReads``)."""

from __future__ import annotations

import json
from typing import Any

from warroom.domain.oncall.pages import Page, PageStatus
from warroom.domain.oncall.policies import Target
from warroom.services.ports.oncall import PlannedNotification


def page_of(row: Any) -> Page:
    return Page(
        id=row.id,
        title=row.title,
        status=PageStatus(row.status),
        opened_at=row.opened_at,
        opened_by=row.opened_by,
        triggered_at=row.triggered_at,
        due_at=row.due_at,
        policy=row.policy,
        first_policy=row.first_policy,
        targets=tuple(Target(t["kind"], t["name"]) for t in json.loads(row.targets)),
        reason=row.reason,
        incident=row.incident,
        team=row.team,
        dedup=row.dedup,
        step=row.step,
        round=row.round,
        trigger=row.trigger,
        fell_back=bool(row.fell_back),
        acked_at=row.acked_at,
        acked_by=row.acked_by,
        ack_step=row.ack_step,
        resolved_at=row.resolved_at,
        resolved_by=row.resolved_by,
    )


def planned_of(row: Any) -> PlannedNotification:
    return PlannedNotification(
        id=row.id,
        page_id=row.page_id,
        key=row.key,
        person=row.person,
        method=row.method,
        kind=row.kind,
        step=row.step,
        round=row.round,
        trigger=row.trigger,
        policy=row.policy,
        status=row.status,
        due_at=row.due_at,
        sent_at=row.sent_at,
    )
