"""Load on people: how fast pages are acknowledged, how often each person is paged, and
how often out of hours, for the reliability review (``warroom report``).

Out of hours is judged in the paged person's own time zone: before ``day_start``, after
``day_end``, or on a weekend.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from warroom.domain.oncall.pages import Page
from warroom.domain.oncall.zones import require_zone

DAY_START = time(8, 0)
DAY_END = time(18, 0)


@dataclass(frozen=True)
class Paged:
    """One person told about one page, when (the first notification of that page)."""

    page: int
    person: str
    at: datetime


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile (``share`` 0.5 is the median); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def out_of_hours(at: datetime, zone_name: str) -> bool:
    local = at.astimezone(require_zone(zone_name))
    return local.weekday() >= 5 or not DAY_START <= local.time() < DAY_END


def _ack_figures(seconds: Sequence[float]) -> dict[str, Any]:
    return {
        "pages": len(seconds),
        "median_seconds": percentile(seconds, 0.5),
        "p90_seconds": percentile(seconds, 0.9),
    }


def load(
    pages: Sequence[Page], paged: Sequence[Paged], zones: Mapping[str, str], start: datetime, end: datetime
) -> dict[str, Any]:
    """The on-call figures of pages opened in ``[start, end)``."""
    by_team: dict[str, list[float]] = defaultdict(list)
    by_person: dict[str, list[float]] = defaultdict(list)
    for page in pages:
        if page.acked_at is None or page.acked_by is None:
            continue
        seconds = (page.acked_at - page.triggered_at).total_seconds()
        by_team[page.team or "(no team)"].append(seconds)
        by_person[page.acked_by].append(seconds)
    weeks = max((end - start) / timedelta(weeks=1), 1 / 7)
    per_person: dict[str, list[Paged]] = defaultdict(list)
    for item in paged:
        per_person[item.person].append(item)
    people = []
    for person, items in sorted(per_person.items()):
        weekly: dict[tuple[int, int], int] = defaultdict(int)
        for item in items:
            weekly[item.at.isocalendar()[:2]] += 1
        zone = zones.get(person, "UTC")
        people.append(
            {
                "person": person,
                "pages": len(items),
                "per_week": round(len(items) / weeks, 2),
                "busiest_week": max(weekly.values()),
                "out_of_hours": sum(out_of_hours(item.at, zone) for item in items),
                "time_zone": zone,
            }
        )
    acked = [s for values in by_team.values() for s in values]
    return {
        "pages": len(pages),
        "acknowledged": len(acked),
        "time_to_acknowledge": _ack_figures(acked),
        "by_team": [{"team": team} | _ack_figures(values) for team, values in sorted(by_team.items())],
        "by_person": [{"person": who} | _ack_figures(values) for who, values in sorted(by_person.items())],
        "people": people,
        "out_of_hours": sum(p["out_of_hours"] for p in people),
        "hours": f"{DAY_START:%H:%M}-{DAY_END:%H:%M} Mon-Fri in each person's zone",
    }
