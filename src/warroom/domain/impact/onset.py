"""When an indicator first left its SLO, at the resolution of the data.

The probe reads indicators with range queries every ``step`` (15 s by default), so the
first bad evaluation can be up to a step after the first bad sample; were the steps
anchored on detection, the first bad evaluation would be detection itself whenever
detection came within a step of the fault. The service layer therefore aligns its range
queries on multiples of the step (the data's grid, not the incident's), then looks again
at the one step before the first bad evaluation with a fine step (``resolution``, 1 s) and
keeps the first bad point found there. These functions decide; they never fetch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from warroom.domain.impact.series import Point

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def meets(value: float, slo: float, higher_is_worse: bool) -> bool:
    return value <= slo if higher_is_worse else value >= slo


def first_breach(
    points: Sequence[Point], since: datetime, until: datetime, *, slo: float, higher_is_worse: bool
) -> datetime | None:
    """The time of the first finite point in ``[since, until]`` that does not meet the SLO."""
    return next(
        (
            at
            for at, value in sorted(points, key=lambda p: p[0])
            if since <= at <= until and math.isfinite(value) and not meets(value, slo, higher_is_worse)
        ),
        None,
    )


def whole_step(step: timedelta) -> timedelta:
    """``step`` rounded up to whole seconds (at least one): a grid the data's timestamps share."""
    return timedelta(seconds=max(1, math.ceil(step.total_seconds())))


def aligned(at: datetime, step: timedelta) -> datetime:
    """The latest multiple of ``step`` since the Unix epoch at or before ``at``."""
    steps = (at - EPOCH) // step
    return EPOCH + steps * step


def closer_look(left: datetime | None, step: timedelta) -> tuple[datetime, datetime] | None:
    """Where the first bad sample lies when ``left`` is the first bad evaluation on a grid
    of ``step``: after the evaluation before it, up to it.

    That evaluation met the SLO (or had no data): every evaluation between the healthy
    baseline and ``left`` did, and one inside the baseline window did too. The baseline's
    end may still fall after it (a window can end at the impact start), which only shows
    that the baseline was judged at the coarser step."""
    if left is None:
        return None
    return left - step, left


def fine_step(window: tuple[datetime, datetime], resolution: timedelta, max_points: int) -> timedelta:
    """The step of the closer look: ``resolution``, coarser only to stay under ``max_points``."""
    start, end = window
    return whole_step(max(resolution, (end - start) / max_points))
