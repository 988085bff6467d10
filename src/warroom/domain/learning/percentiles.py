"""Percentiles of durations: medians and 90th percentiles, never means.

:func:`percentile` interpolates linearly between closest ranks (the default of numpy);
:func:`summarize` gives a :class:`DurationSummary`: how many durations were measured,
their median and their p90 (None for both when there are none). Pure functions of their
arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0 <= q <= 100) of ``values``, in any order; None if empty.

    Linear interpolation between closest ranks (Hyndman and Fan's type 7, the default of
    numpy and of ``statistics.quantiles(method="inclusive")``): over the sorted values
    ``x[0..n-1]`` the rank is ``h = (n - 1) * q / 100`` and the result
    ``x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])``. So the median of an
    even count is the mean of the middle two, and p90 of ten values lies 10% of the way
    from the 9th to the 10th.
    """
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, not {q}")
    return _percentile_of_sorted(sorted(values), q)


def _percentile_of_sorted(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (rank - low) * (ordered[high] - ordered[low])


@dataclass(frozen=True, slots=True)
class DurationSummary:
    """How many durations were measured, their median and their 90th percentile."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "median_seconds": _seconds_or_none(self.median),
            "p90_seconds": _seconds_or_none(self.p90),
        }


def summarize(durations: Iterable[timedelta]) -> DurationSummary:
    """Median and p90 of ``durations`` (see :func:`percentile`); None for both if empty."""
    return _summary_of_seconds(sorted(d.total_seconds() for d in durations))


def _summary_of_seconds(ordered: Sequence[float]) -> DurationSummary:
    median = _percentile_of_sorted(ordered, 50)
    p90 = _percentile_of_sorted(ordered, 90)
    return DurationSummary(
        count=len(ordered),
        median=None if median is None else timedelta(seconds=median),
        p90=None if p90 is None else timedelta(seconds=p90),
    )


def _seconds_or_none(value: timedelta | None) -> float | None:
    return None if value is None else value.total_seconds()
