"""The learning store's port: postmortems, the follow-up read model, reliability records.

``warroom.services.ports.uow.UnitOfWork.learning`` is a :class:`LearningStore`; the SQL
adapter is ``warroom.storage.learning_store``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from warroom.domain.incidents.state import Followup
from warroom.domain.learning.durations import IncidentRecord, MeasuredIncident
from warroom.domain.learning.history_import import ImportedIncident


@dataclass(frozen=True)
class StoredPostmortem:
    """A postmortem as stored: the document (``Postmortem.to_dict()``) and its status."""

    number: int
    status: str  # draft | published
    document: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime
    updated_by: str
    published_at: datetime | None = None
    published_by: str | None = None
    override_why: str | None = None
    findings: int = 0


@dataclass(frozen=True)
class FollowupFilter:
    """``status`` open, done, wontdo or None (all); ``due_before`` keeps those due earlier."""

    status: str | None = "open"
    owner: str | None = None
    owners: tuple[str, ...] | None = None  # any of these (a team and its members)
    incident: int | None = None
    due_before: datetime | None = None
    limit: int = 500


@dataclass(frozen=True)
class FollowupItem:
    """A follow-up with the incident it came from, for lists across incidents."""

    incident: int
    incident_title: str
    incident_status: str
    severity: int
    followup: Followup


@dataclass(frozen=True)
class RecordFilter:
    """Incidents anchored in ``[since, until)``, of one severity (1..4)."""

    since: datetime | None = None
    until: datetime | None = None
    severity: int | None = None


class LearningStore(Protocol):
    def postmortem(self, number: int) -> StoredPostmortem | None: ...

    def save_postmortem(
        self, number: int, document: dict[str, Any], *, at: datetime, by: str
    ) -> StoredPostmortem:
        """Insert or replace the draft of incident ``number``; the revision counts saves."""
        ...

    def mark_published(
        self,
        number: int,
        document: dict[str, Any],
        *,
        at: datetime,
        by: str,
        override_why: str | None,
        findings: int,
    ) -> StoredPostmortem: ...

    def reopen_postmortem(self, number: int, *, at: datetime, by: str) -> StoredPostmortem:
        """A published postmortem back to draft, for amendment (its revision goes on)."""
        ...

    def put_followups(self, number: int, items: Sequence[Followup]) -> None:
        """Make the read model of incident ``number`` hold exactly ``items``."""
        ...

    def followups(self, filters: FollowupFilter) -> list[FollowupItem]: ...

    def stale_records(self) -> list[int]:
        """Incidents whose reliability record is missing or older than their timeline."""
        ...

    def put_record(
        self, number: int, version: int, title: str, record: IncidentRecord, at: datetime
    ) -> None: ...

    def forget_record(self, number: int) -> None:
        """Drop the record of incident ``number`` so the next review rebuilds it."""
        ...

    def add_history(self, items: Sequence[ImportedIncident], at: datetime) -> int:
        """Store imported incidents, skipping those already imported (same source and
        id); returns how many were new."""
        ...

    def measured(self, filters: RecordFilter) -> list[MeasuredIncident]:
        """The stored incidents in ``filters``, measured for the review."""
        ...

    def history_count(self) -> int:
        """How many imported incidents are stored."""
        ...
