"""An incident as the reliability review reads it: its milestones and its five durations.

Durations (``timedelta`` here, seconds in ``to_dict``):

- time to detect      = detected - impact started
- time to declare     = declared - detected
- time to acknowledge = acknowledged - declared
- time to mitigate    = mitigated - impact started (detected when the impact start is
  unknown: the user impact began no later than detection, so this undercounts rather
  than invents)
- time to resolve     = resolved - impact started (or detected, likewise)

A duration with a missing milestone is not measured, and neither is a negative one (the
milestones contradict each other; counting it as zero would flatter the median).

An incident's *anchor* is its declaration time, else its detection, else its impact
start; the month of an incident is the UTC ``YYYY-MM`` of its declaration (incidents
never declared have no month). :class:`IncidentRecord` holds the milestones (aware
times only); :func:`measure` turns it into the :class:`MeasuredIncident` the review uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple

from warroom.domain.incidents.state import MILESTONES
from warroom.domain.shared.errors import ValidationError


@dataclass(frozen=True, slots=True)
class IncidentRecord:
    """What the review needs of one incident. Times are timezone-aware; ``severity`` is
    1 (SEV1) to 4; ``contributing_factors`` are factor types ("detection", "change",
    ...); ``followups_done_at`` has one entry per follow-up, None while it is open."""

    number: int
    services: tuple[str, ...]
    severity: int
    kind: str
    impact_started_at: datetime | None = None
    detected_at: datetime | None = None
    declared_at: datetime | None = None
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    contributing_factors: tuple[str, ...] = ()
    followups_done_at: tuple[datetime | None, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.severity <= 4:
            raise ValidationError("severity", f"{self.severity} is not 1..4")
        # A review reads tens of thousands of records: one cheap pass, and the named
        # check only when some time is naive.
        times = (
            self.impact_started_at,
            self.detected_at,
            self.declared_at,
            self.acknowledged_at,
            self.mitigated_at,
            self.resolved_at,
            self.closed_at,
            *self.followups_done_at,
        )
        if not all(at is None or at.tzinfo is UTC or at.utcoffset() is not None for at in times):
            for name in MILESTONES:
                _require_aware(getattr(self, name), name)
            for index, done_at in enumerate(self.followups_done_at):
                _require_aware(done_at, f"followups_done_at[{index}]")
        # Tuples keep the record hashable and immutable even if lists were passed.
        for name in ("services", "contributing_factors", "followups_done_at"):
            if type(getattr(self, name)) is not tuple:
                object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def anchor(self) -> datetime | None:
        """When the incident counts as having happened: declared, else detected, else
        impact start."""
        return self.declared_at or self.detected_at or self.impact_started_at


def _require_aware(value: datetime | None, name: str) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValidationError(name, "needs a timezone (e.g. 2026-11-26T10:00:00Z)")


# One measured incident: its five durations in seconds (detect, declare, acknowledge,
# mitigate, resolve). Not measured is +inf, not None: then a group's column sorts in C
# with the unmeasured at the end, where one bisection cuts them off.
_Measured = tuple[float, float, float, float, float]
_UNMEASURED = math.inf


def _measure(record: IncidentRecord) -> _Measured:
    impact, detected, declared = record.impact_started_at, record.detected_at, record.declared_at
    start = impact or detected
    acknowledged, mitigated, resolved = record.acknowledged_at, record.mitigated_at, record.resolved_at
    durations = (
        (detected - impact).total_seconds() if impact and detected else _UNMEASURED,
        (declared - detected).total_seconds() if detected and declared else _UNMEASURED,
        (acknowledged - declared).total_seconds() if declared and acknowledged else _UNMEASURED,
        (mitigated - start).total_seconds() if start and mitigated else _UNMEASURED,
        (resolved - start).total_seconds() if start and resolved else _UNMEASURED,
    )
    if min(durations) < 0:  # contradictory milestones: not measured
        detect, declare, acknowledge, mitigate, resolve = (d if d >= 0 else _UNMEASURED for d in durations)
        return (detect, declare, acknowledge, mitigate, resolve)
    return durations


class MeasuredIncident(NamedTuple):
    """An incident as the review uses it: the five durations in seconds (detect,
    declare, acknowledge, mitigate, resolve; ``math.inf`` where not measured) and the
    UTC ``YYYY-MM`` of its declaration. Storage can keep these beside the record, so a
    review of many incidents does not rebuild every milestone time; they are trusted
    as given (build them with :func:`measure`)."""

    services: tuple[str, ...]
    severity: int
    kind: str
    anchor: datetime | None
    month: str | None
    durations: _Measured
    contributing_factors: tuple[str, ...] = ()
    followups_done_at: tuple[datetime | None, ...] = ()


def measure(record: IncidentRecord) -> MeasuredIncident:
    """What the review uses of ``record``."""
    declared = record.declared_at
    if declared is not None and declared.tzinfo is not UTC:
        declared = declared.astimezone(UTC)
    return MeasuredIncident(
        services=record.services,
        severity=record.severity,
        kind=record.kind,
        anchor=record.anchor,
        month=None if declared is None else f"{declared.year:04d}-{declared.month:02d}",
        durations=_measure(record),
        contributing_factors=record.contributing_factors,
        followups_done_at=record.followups_done_at,
    )
