"""Stored alerts as the triage queue shows them, and silences.

:class:`AlertRecord` is one stored alert (one per source and fingerprint) with its
current state, as storage returns it; :class:`Silence` keeps a service's signals out of
the queue, and from declaring, until a time. Plain values; nothing is decided here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from warroom.domain.alerts.declaring import AlertFacts
from warroom.domain.alerts.routing import Route


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """One stored alert (one per source and fingerprint) with its current state."""

    id: int
    source: str
    fingerprint: str
    status: str
    name: str
    summary: str
    severity: str | None
    service: str
    team: str | None
    ownership_unclear: bool
    labels: Mapping[str, str]
    starts_at: datetime | None
    ends_at: datetime | None
    incident: int | None
    first_seen_at: datetime
    changed_at: datetime
    acknowledged_at: datetime | None = None
    group_key: str | None = None

    def facts(self) -> AlertFacts:
        return AlertFacts(
            self.source, self.fingerprint, self.name, self.summary, self.severity, self.labels, self.starts_at
        )

    @property
    def route(self) -> Route:
        return Route(self.service, self.team, None, not self.ownership_unclear)


@dataclass(frozen=True, slots=True)
class Silence:
    """A service's signals kept out of the queue (and from declaring) until ``until``."""

    service: str
    until: datetime
    reason: str
    actor: str
    created_at: datetime
