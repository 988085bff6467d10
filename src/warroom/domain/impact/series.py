"""The impact probe's vocabulary: time series and the results of reading them.

Values only; the functions that produce them live in `warroom.domain.impact.analysis`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

Point = tuple[datetime, float]
"""One sample: an aware UTC time and a value. NaN means "no data at this time"."""

TimeSeries = Sequence[Point]
"""Recorded samples of one indicator, in any order, possibly with gaps and NaN points."""

BaselineSource = Literal["healthy_window", "day_before", "none"]
TrendDirection = Literal["growing", "stable", "recovering", "unknown"]
MitigationVerdict = Literal["effective", "ineffective", "worse", "inconclusive"]


@dataclass(frozen=True)
class Baseline:
    """What the indicator looked like before the impact, and where that figure comes from.

    `source` is "healthy_window" when a window met the SLO throughout, "day_before" when
    only the fallback window had data (then `met_slo` says whether it was healthy), and
    "none" when neither had enough data; `value`, `median` and the window are then None.
    """

    source: BaselineSource
    value: float | None
    median: float | None
    window_start: datetime | None
    window_end: datetime | None
    points: int
    met_slo: bool


@dataclass(frozen=True)
class Trend:
    """Where the indicator is heading, judged on its regime since the last change point.

    `direction` is "growing" when it gets worse (whatever "worse" means for the
    indicator), "recovering" when it gets better, "stable" when the regime is flat and no
    better than the level before it, and "unknown" when there are too few points to say.
    `since` is when the current regime began (the last change point, or the first point
    in the lookback), `level` its median, `slope_per_second` its fitted slope, and
    `change` the change the call rests on: the regime's fitted change, the jump into a
    regime too fresh to judge, or its shift against the level before it. `noise` is the
    estimated standard deviation of single points. The numbers are None when the
    direction is "unknown". `reason` explains the call in one line.
    """

    direction: TrendDirection
    slope_per_second: float | None
    change: float | None
    level: float | None
    noise: float | None
    points: int
    reason: str
    since: datetime | None = None


@dataclass(frozen=True)
class DimensionImpact:
    """One dimension value (e.g. "region=eu-west") compared with its baseline."""

    dimension: str
    current: float
    baseline: float
    deviation: float


@dataclass(frozen=True)
class BlastRadius:
    """Which dimension values deviate from their baselines, and which do not.

    `deviating` is ordered worst first; `at_baseline` keeps the input order; `no_data`
    names the dimensions with a baseline but no current value (or a NaN one).
    `sentence` says it for humans: "region=eu-west 37% errors; us-east, ap-south at
    baseline".
    """

    deviating: tuple[DimensionImpact, ...]
    at_baseline: tuple[DimensionImpact, ...]
    no_data: tuple[str, ...]
    sentence: str

    @property
    def localized(self) -> bool:
        """True when some dimension values deviate while others are at baseline."""
        return bool(self.deviating) and bool(self.at_baseline)


@dataclass(frozen=True)
class MitigationOutcome:
    """The verdict on one mitigation, with the numbers it rests on.

    `improvement_share` is the share of the SLO breach that the mitigation closed
    (1.0 = all of it, negative = the breach grew); None when it cannot be computed.
    """

    verdict: MitigationVerdict
    before: float | None
    after: float | None
    slo: float
    improvement_share: float | None
    reason: str
