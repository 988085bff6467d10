"""What the reliability review needs of one of warroom's own incidents.

Follow-ups that will not be done (``wontdo``) are left out: the review asks whether the
fixes that were made changed reliability, and a declined fix was not made. Open
follow-ups count as not done yet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from warroom.domain.incidents.state import IncidentState
from warroom.domain.learning.durations import IncidentRecord
from warroom.domain.learning.postmortem import FACTOR_TYPES


def incident_record(state: IncidentState, factors: Sequence[str] = ()) -> IncidentRecord:
    """``state`` as a review record, with the contributing-factor types of its postmortem."""
    return IncidentRecord(
        number=state.number,
        services=tuple(state.services),
        severity=int(state.severity),
        kind=state.kind.value,
        impact_started_at=state.at("impact_started_at"),
        detected_at=state.at("detected_at"),
        declared_at=state.at("declared_at"),
        acknowledged_at=state.at("acknowledged_at"),
        mitigated_at=state.at("mitigated_at"),
        resolved_at=state.at("resolved_at"),
        closed_at=state.at("closed_at"),
        contributing_factors=tuple(factors),
        followups_done_at=tuple(
            item.closed_at if item.status == "done" else None
            for item in state.followups
            if item.status != "wontdo"
        ),
    )


def factor_types_of(document: Mapping[str, Any]) -> list[str]:
    """The distinct factor types of a stored postmortem document, without rebuilding it
    (a long timeline makes ``Postmortem.from_dict`` the slow part of a refresh)."""
    found: list[str] = []
    for factor in document.get("contributing_factors") or []:
        kind = factor.get("type") if isinstance(factor, Mapping) else None
        if kind in FACTOR_TYPES and kind not in found:
            found.append(kind)
    return found
