"""The reliability review's figures, as
:func:`~warroom.domain.learning.reliability.review_reliability` returns them.

Plain frozen values, each with ``to_dict`` (JSON-ready: times as ISO 8601 UTC text,
durations in seconds): :class:`GroupFigures` per group (all, a service, a severity, a
month), :class:`ServiceFigures` with a service's rate and :class:`FixesEffect` (its
incidents before and after its follow-ups were done, as :class:`PeriodFigures`),
:class:`Count` per kind or factor, and the whole :class:`ReliabilityReport`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from warroom.domain.learning.percentiles import DurationSummary
from warroom.domain.shared.timefmt import iso


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """Incident count and time-to-X summaries for one group: ``key`` is "all", a service,
    "SEV1".."SEV4" or a "YYYY-MM" month."""

    key: str
    incidents: int
    time_to_detect: DurationSummary
    time_to_declare: DurationSummary
    time_to_acknowledge: DurationSummary
    time_to_mitigate: DurationSummary
    time_to_resolve: DurationSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "incidents": self.incidents,
            "time_to_detect": self.time_to_detect.to_dict(),
            "time_to_declare": self.time_to_declare.to_dict(),
            "time_to_acknowledge": self.time_to_acknowledge.to_dict(),
            "time_to_mitigate": self.time_to_mitigate.to_dict(),
            "time_to_resolve": self.time_to_resolve.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class PeriodFigures:
    """A service's incidents in one period, their rate and their time to mitigate."""

    start: datetime
    end: datetime
    incidents: int
    incidents_per_30_days: float | None
    time_to_mitigate: DurationSummary

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": iso(self.start),
            "end": iso(self.end),
            "incidents": self.incidents,
            "incidents_per_30_days": self.incidents_per_30_days,
            "time_to_mitigate": self.time_to_mitigate.to_dict(),
        }


FixesStatus = Literal["done", "open", "none"]


@dataclass(frozen=True, slots=True)
class FixesEffect:
    """Did the fixes change reliability?

    ``fixes_done_at``: walk the service's incidents in time order for as long as every
    follow-up so far is done; each time, the latest completion so far qualifies unless
    the next incident was declared before it. The last qualifying time is taken, so by
    then every follow-up of every earlier incident was done. Incidents before it form
    the "before" period, incidents from it on the "after" period (up to the review
    window's end).

    ``status`` is "done" (there is such a time), "open" (follow-ups exist, but those of
    the earliest incidents are not all done) or "none" (no follow-ups were recorded);
    ``note`` says so in words; ``before`` and ``after`` are set only when "done".
    """

    status: FixesStatus
    note: str
    fixes_done_at: datetime | None = None
    before: PeriodFigures | None = None
    after: PeriodFigures | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "note": self.note,
            "fixes_done_at": None if self.fixes_done_at is None else iso(self.fixes_done_at),
            "before": None if self.before is None else self.before.to_dict(),
            "after": None if self.after is None else self.after.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class ServiceFigures:
    """One service: its time-to-X figures, its incident rate and the fixes view."""

    service: str
    figures: GroupFigures
    incidents_per_30_days: float | None
    fixes: FixesEffect

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.figures.to_dict(),
            "service": self.service,
            "incidents_per_30_days": self.incidents_per_30_days,
            "fixes": self.fixes.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Count:
    """How many incidents have ``key`` (a kind, or a contributing-factor type)."""

    key: str
    incidents: int

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "incidents": self.incidents}


@dataclass(frozen=True, slots=True)
class ReliabilityReport:
    """The review. ``by_service`` is ordered by name, ``by_severity`` from SEV1,
    ``by_month`` by month; ``recurring_factors`` holds the factor types found in two or
    more incidents, most frequent first."""

    window_start: datetime | None
    window_end: datetime | None
    incidents: int
    by_kind: tuple[Count, ...]
    overall: GroupFigures
    by_service: tuple[ServiceFigures, ...]
    by_severity: tuple[GroupFigures, ...]
    by_month: tuple[GroupFigures, ...]
    recurring_factors: tuple[Count, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: times as ISO 8601 UTC text, durations in seconds."""
        return {
            "window": {
                "start": None if self.window_start is None else iso(self.window_start),
                "end": None if self.window_end is None else iso(self.window_end),
            },
            "incidents": self.incidents,
            "by_kind": [count.to_dict() for count in self.by_kind],
            "overall": self.overall.to_dict(),
            "by_service": [service.to_dict() for service in self.by_service],
            "by_severity": [group.to_dict() for group in self.by_severity],
            "by_month": [group.to_dict() for group in self.by_month],
            "recurring_factors": [count.to_dict() for count in self.recurring_factors],
        }
