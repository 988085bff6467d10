"""The impact probe's arithmetic: baselines, blast radius, estimates, verdicts.

Pure functions over series that the caller already recorded (see `impact_types`).
Points may come in any order; NaN marks a missing sample (Prometheus answers NaN for
0/0) and is ignored everywhere. Nothing here reads the clock: "now" is an argument.
All datetimes must be timezone-aware. Where an indicator is heading is in `trend`.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Mapping
from datetime import datetime, timedelta

from warroom.domain.impact.series import (
    Baseline,
    BaselineSource,
    BlastRadius,
    DimensionImpact,
    MitigationOutcome,
    MitigationVerdict,
    Point,
    TimeSeries,
)

__all__ = [
    "blast_radius",
    "estimate_customer_impact",
    "estimate_financial_loss_per_hour",
    "find_baseline",
    "judge_mitigation",
    "mean_over",
]


def _require_aware(name: str, at: datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {at.isoformat()}")


def _observed(series: TimeSeries) -> list[Point]:
    """The non-NaN points, oldest first."""
    return sorted((p for p in series if not math.isnan(p[1])), key=lambda p: p[0])


def _meets(value: float, slo: float, higher_is_worse: bool) -> bool:
    return value <= slo if higher_is_worse else value >= slo


def mean_over(series: TimeSeries, start: datetime, end: datetime) -> float | None:
    """The mean of the observed points with start <= at < end, or None if there are none.

    Use it to summarise the before and after windows of a mitigation.
    """
    values = [v for at, v in _observed(series) if start <= at < end]
    return statistics.fmean(values) if values else None


def find_baseline(
    series: TimeSeries,
    impact_start: datetime,
    slo: float,
    window: timedelta,
    *,
    higher_is_worse: bool = True,
    fallback_offset: timedelta = timedelta(days=1),
    search_back: timedelta | None = None,
    min_points: int = 3,
) -> Baseline:
    """The last healthy baseline before `impact_start`.

    A window of length `window` is healthy when it holds at least `min_points` observed
    points and *every* one of them meets the SLO (<= slo, or >= slo when lower is
    worse). Every point rather than the mean: a window whose mean passes while it holds
    a spike is where the trouble may already have begun, and is no baseline. The search
    runs back from `impact_start` (excluded) over `search_back` (default:
    `fallback_offset`) and returns the most recent healthy window.

    Fallback: the same window shifted back by `fallback_offset` ("same time yesterday"),
    used whether or not it met the SLO (`met_slo` tells), if it has `min_points` points.
    Otherwise the source is "none". `value` is the mean of the window, `median` its
    median; the window holds the points from `window_start` to `window_end`, both
    included, except that points at or after `impact_start` never count.
    """
    _require_aware("impact_start", impact_start)
    if window <= timedelta(0):
        raise ValueError(f"window must be positive, got {window}")
    if min_points < 1:
        raise ValueError(f"min_points must be at least 1, got {min_points}")
    horizon = impact_start - (fallback_offset if search_back is None else search_back)
    points = [p for p in _observed(series) if horizon <= p[0] < impact_start]
    times = [at for at, _ in points]

    # Candidate windows end at impact_start, then at each point's time, newest first
    # (a window ending at a point includes it). A violation at time t rules out every
    # window that contains t, so the search jumps to the point just before it.
    end = impact_start
    while end - window >= horizon:
        inclusive = end != impact_start
        hi = bisect.bisect_right(times, end) if inclusive else len(times)
        lo = bisect.bisect_left(times, end - window)
        in_window = points[lo:hi]
        bad = [i for i, (_, v) in enumerate(in_window, lo) if not _meets(v, slo, higher_is_worse)]
        if not bad and len(in_window) >= min_points:
            return _baseline("healthy_window", in_window, end - window, end, met_slo=True)
        # Next candidate: the point before the latest violation, or, when the window was
        # merely too sparse, the next earlier end, so that the window reaches further back.
        nxt = bad[-1] - 1 if bad else hi - (2 if inclusive else 1)
        if nxt < 0:
            break
        end = times[nxt]

    day_end = impact_start - fallback_offset
    day_start = day_end - window
    earlier = [p for p in _observed(series) if day_start <= p[0] < day_end]
    if len(earlier) >= min_points:
        met = all(_meets(v, slo, higher_is_worse) for _, v in earlier)
        return _baseline("day_before", earlier, day_start, day_end, met_slo=met)
    return Baseline("none", None, None, None, None, len(earlier), met_slo=False)


def _baseline(
    source: BaselineSource, points: list[Point], start: datetime, end: datetime, *, met_slo: bool
) -> Baseline:
    values = [v for _, v in points]
    return Baseline(
        source=source,
        value=statistics.fmean(values),
        median=statistics.median(values),
        window_start=start,
        window_end=end,
        points=len(values),
        met_slo=met_slo,
    )


def blast_radius(
    current_by_dim: Mapping[str, float],
    baseline_by_dim: Mapping[str, float],
    *,
    threshold: float,
    higher_is_worse: bool = True,
    unit: str = "errors",
    percent: bool = True,
) -> BlastRadius:
    """Split dimension values into those that deviate from their baseline and the rest.

    A dimension deviates when it is worse than its baseline by more than `threshold`, in
    the indicator's own units (for an error ratio, 0.05 means five percentage points).
    A dimension missing from `baseline_by_dim` is compared with 0: Prometheus returns
    no series for a ratio whose numerator never had samples, so "absent" means "none".
    Dimensions with a baseline but no finite current value are listed in `no_data`.
    Values print as percentages with `unit` ("37% errors") unless `percent` is False.
    """
    deviating: list[DimensionImpact] = []
    at_baseline: list[DimensionImpact] = []
    for dim, current in current_by_dim.items():
        if math.isnan(current):
            continue
        base = baseline_by_dim.get(dim, 0.0)
        base = 0.0 if math.isnan(base) else base
        worse_by = current - base if higher_is_worse else base - current
        impact = DimensionImpact(dim, current, base, worse_by)
        (deviating if worse_by > threshold else at_baseline).append(impact)
    deviating.sort(key=lambda d: d.deviation, reverse=True)
    known = dict.fromkeys([*current_by_dim, *baseline_by_dim])
    no_data = tuple(dim for dim in known if math.isnan(current_by_dim.get(dim, math.nan)))
    sentence = _blast_sentence(deviating, at_baseline, no_data, unit=unit, percent=percent)
    return BlastRadius(tuple(deviating), tuple(at_baseline), no_data, sentence)


def _blast_sentence(
    deviating: list[DimensionImpact],
    at_baseline: list[DimensionImpact],
    no_data: tuple[str, ...],
    *,
    unit: str,
    percent: bool,
) -> str:
    names = [d.dimension for d in deviating] + [d.dimension for d in at_baseline] + list(no_data)
    if not names:
        return "no data"
    # "region=eu-west ...; us-east, ap-south at baseline": once the key is said, the
    # values alone read better — but only when every dimension has that same one key.
    keys = {n.split("=", 1)[0] if "=" in n and "," not in n else None for n in names}
    common = keys.pop() if len(keys) == 1 else None
    said = False

    def name(dim: str) -> str:
        nonlocal said
        if common is None or not said:
            said = True
            return dim
        return dim.split("=", 1)[1]

    parts: list[str] = []
    if deviating:
        parts.append(
            ", ".join(f"{name(d.dimension)} {_fmt(d.current, percent)} {unit}".rstrip() for d in deviating)
        )
    else:
        parts.append("no deviation")
    if at_baseline:
        parts.append(", ".join(name(d.dimension) for d in at_baseline) + " at baseline")
    elif deviating:
        parts.append("none at baseline")
    if no_data:
        parts.append("no data from " + ", ".join(name(d) for d in no_data))
    return "; ".join(parts)


def _fmt(value: float, percent: bool) -> str:
    if not percent:
        return f"{value:.3g}"
    share = value * 100
    # Two significant digits below 10%, whole percents above: 37%, 4.2%, 0.15%.
    return f"{share:.0f}%" if abs(share) >= 10 else f"{share:.2g}%"


def _require_share(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise ValueError(f"{name} must be between 0 and 1, got {value}")


def estimate_customer_impact(
    error_ratio: float, traffic_share: float, *, baseline_error_ratio: float = 0.0
) -> float:
    """The share of all requests that the incident fails, between 0 and 1.

    Formula: max(0, error_ratio - baseline_error_ratio) * traffic_share, where
    `error_ratio` is the failure ratio inside the affected slice (e.g. eu-west
    checkouts), `traffic_share` is that slice's share of all traffic, and the baseline
    removes the failures that happen anyway. Requests stand in for users: one user
    retrying counts several times, so read it as "share of requests".
    """
    _require_share("error_ratio", error_ratio)
    _require_share("traffic_share", traffic_share)
    _require_share("baseline_error_ratio", baseline_error_ratio)
    return max(0.0, error_ratio - baseline_error_ratio) * traffic_share


def estimate_financial_loss_per_hour(
    error_ratio: float, revenue_per_minute: float, *, baseline_error_ratio: float = 0.0
) -> float:
    """The revenue lost per hour, in the currency of `revenue_per_minute`.

    Formula: max(0, error_ratio - baseline_error_ratio) * revenue_per_minute * 60, where
    `revenue_per_minute` is what normally flows through the failing path. It assumes a
    failed request loses its revenue and nobody comes back later, so it is an upper
    bound for paths users retry.
    """
    _require_share("error_ratio", error_ratio)
    _require_share("baseline_error_ratio", baseline_error_ratio)
    if not revenue_per_minute >= 0.0:
        raise ValueError(f"revenue_per_minute must be >= 0, got {revenue_per_minute}")
    return max(0.0, error_ratio - baseline_error_ratio) * revenue_per_minute * 60.0


def judge_mitigation(
    before: float | None,
    after: float | None,
    *,
    slo: float,
    min_improvement_share: float,
    higher_is_worse: bool = True,
) -> MitigationOutcome:
    """The verdict on a mitigation, from the indicator before it and after its effect.

    - "inconclusive": either number is missing (None or NaN).
    - "effective": `after` meets the SLO, or the mitigation closed at least
      `min_improvement_share` of the breach, i.e. (before - after) / (before - slo)
      >= the share (signs flipped when lower is worse). Measuring against the breach
      rather than the raw value makes 40% -> 20% errors with a 5% SLO a 57% improvement.
    - "worse": the breach grew by at least that same share of itself (the same
      tolerance both ways, so noise reads as "ineffective" rather than "worse"), or
      `before` met the SLO and `after` does not.
    - "ineffective": anything in between.
    """
    if not 0.0 < min_improvement_share <= 1.0:
        raise ValueError(f"min_improvement_share must be in (0, 1], got {min_improvement_share}")

    def outcome(verdict: MitigationVerdict, share: float | None, reason: str) -> MitigationOutcome:
        return MitigationOutcome(verdict, before, after, slo, share, reason)

    if before is None or after is None or math.isnan(before) or math.isnan(after):
        return outcome("inconclusive", None, "no data before or after the mitigation")
    sign = 1.0 if higher_is_worse else -1.0
    breach_before = sign * (before - slo)
    breach_after = sign * (after - slo)
    if breach_before <= 0:
        if breach_after <= 0:
            return outcome("effective", None, "within the SLO before and after")
        return outcome("worse", None, "was within the SLO before, breaches it after")
    share = (breach_before - breach_after) / breach_before
    if breach_after <= 0:
        return outcome("effective", share, "back within the SLO")
    if share >= min_improvement_share:
        return outcome("effective", share, f"closed {share:.0%} of the breach")
    if -share >= min_improvement_share:
        return outcome("worse", share, f"breach grew by {-share:.0%}")
    return outcome("ineffective", share, f"closed only {share:.0%} of the breach")
