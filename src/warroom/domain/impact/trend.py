"""Where an indicator is heading: growing, stable or recovering, judged on its current regime.

One straight line through the whole lookback reads a step as a trend: 0% jumping to 46%
and staying there fits a rising line for as long as the jump is in the window, and so
does the same step after the service recovered. Instead, ``trend`` finds where the
series changed and judges what came after the last change:

1. **Noise.** ``sigma``, the noise of single points, comes from second differences
   (``y[i+1] - 2 y[i] + y[i-1]``): zero on any straight line, so ramps do not count as
   noise; a first scale from the smaller half of them, then the mean square of those
   within three scales, so the few at steps, kinks and spikes do not count either. Every
   test below needs a change to clear Student's t bound (two-sided, 1 in 10,000) for the
   degrees of freedom of that estimate, and the smallest change that matters:
   ``max(noise * |level|, min_change)``.
2. **Change points.** The series, each point replaced by the median of it and its
   neighbours (a single-sample spike vanishes, steps and ramps stay), is split where two
   straight lines fit much better than one (binary segmentation), as long as the split
   clears the noise and moves the fit by more than a quarter of what matters.
3. **The current regime** is the last segment. A regime shorter than ``min_points`` is
   too fresh to have a slope: the jump into it decides (a jump worse is "growing"); a jump
   that does not matter joins it to the segment before.
4. **Its slope**, fitted over the regime, is "growing" or "recovering" when its change
   over the regime clears both bounds. A ramp is one regime, so it reads by its slope.
5. **Against the level before**: a flat regime clearly better than the last level held
   before it (for at least ``min_points`` samples) is "recovering" (a step down, or back
   after a step up); otherwise it is "stable", however high it stepped to get there.

So a step up reads "growing" until it has held for ``min_points`` samples, then
"stable"; a step back down reads "recovering" while the step is in the lookback; a
passed single-sample spike changes nothing. Pure noise reads as a trend about once in
10,000 readings. With fewer than about 16 points the noise estimate is too uncertain to
place a change point in noisy data, and the window is judged as one line. Standard
library only; "now" is an argument.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from warroom.domain.impact.series import Point, TimeSeries, Trend, TrendDirection

__all__ = ["trend"]

# Student's t, two-sided, 1 in 10,000, by degrees of freedom 1..30, then (df, t) to
# interpolate in 1/df. A probe reading every few minutes should rarely see a false trend,
# and with few points the noise estimate is itself uncertain, so the bound widens.
_T_BY_DF = (
    6366.2, 99.99, 28.0, 15.54, 11.18, 9.08, 7.88, 7.12, 6.59, 6.21,
    5.92, 5.69, 5.51, 5.36, 5.24, 5.13, 5.04, 4.97, 4.90, 4.84,
    4.78, 4.74, 4.69, 4.65, 4.62, 4.59, 4.56, 4.53, 4.51, 4.48,
)  # fmt: skip
_T_TAIL = ((30.0, 4.48), (40.0, 4.32), (60.0, 4.17), (120.0, 4.03), (math.inf, 3.89))

# A split is the best of many candidates, so under pure noise its gain exceeds a single
# test's bound far more often: twice the squared bound keeps false splits of Gaussian
# noise near 1 in 10,000 from 24 points on, a few in 10,000 at 16 to 20 (measured); a
# false split still needs a false jump or slope to read as a trend.
_SPLIT_FACTOR = 2.0
_MIN_SEGMENT = 2


def _kept_variance(cut: float) -> float:
    """The mean square of standard normal values within +-cut, as a share of the full one."""
    inside = 2 * statistics.NormalDist().cdf(cut) - 1
    return 1 - 2 * cut * math.exp(-cut * cut / 2) / math.sqrt(2 * math.pi) / inside


# The noise estimate: a first scale from the smaller half of the second differences
# (robust however many steps and spikes a short window holds), then the mean square of
# all within three of those scales (nearly as precise as the mean square of them all).
_HALF = statistics.NormalDist().inv_cdf(0.75)
_CUT = 3.0

# Standard errors, in units of sigma: a median of n points (sqrt(pi/2) / sqrt(n)) and the
# end of a line fitted to n points (about 2 / sqrt(n)). Smoothed values are correlated:
# the slopes, medians and line ends they give scatter up to 25% more (measured).
_MEDIAN_SE = math.sqrt(math.pi / 2)
_LINE_END_SE = 2.0
_SMOOTHED = math.sqrt(1.25)


def _t_bound(df: int) -> float:
    if df <= len(_T_BY_DF):
        return _T_BY_DF[max(df, 1) - 1]
    for (df0, t0), (df1, t1) in itertools.pairwise(_T_TAIL):
        if df <= df1:
            share = (1 / df0 - 1 / df) / (1 / df0 - 1 / df1)
            return t0 + share * (t1 - t0)
    return _T_TAIL[-1][1]


def _median_of_three(ys: list[float]) -> list[float]:
    """Each value replaced by the median of it and its neighbours; at the ends, Tukey's
    rule (the median of the end, its smoothed neighbour and the line through the next two)."""
    if len(ys) < 3:
        return list(ys)
    out = [ys[0], *(sorted(ys[i - 1 : i + 2])[1] for i in range(1, len(ys) - 1)), ys[-1]]
    out[0] = sorted((ys[0], out[1], 3 * out[1] - 2 * out[2]))[1]
    out[-1] = sorted((ys[-1], out[-2], 3 * out[-2] - 2 * out[-3]))[1]
    return out


def _noise(ys: list[float]) -> tuple[float, int]:
    """The standard deviation of single points, and the degrees of freedom of that estimate
    (neighbouring second differences share points: about one per two)."""
    second = sorted(abs(ys[i + 1] - 2 * ys[i] + ys[i - 1]) for i in range(1, len(ys) - 1))
    if not second:
        return 0.0, 1
    half = second[: math.ceil(len(second) / 2)]
    scale = math.sqrt(sum(d * d for d in half) / len(half) / _kept_variance(_HALF))
    kept = [d for d in second if d <= _CUT * scale] or half  # `or`: squares that underflow
    # A second difference of independent noise has variance 1 + 4 + 1 = 6 times a point's.
    variance = sum(d * d for d in kept) / len(kept) / _kept_variance(_CUT) / 6
    return math.sqrt(variance), max(1, (len(kept) - 1) // 2)


@dataclass(frozen=True, slots=True)
class _Line:
    slope: float
    intercept: float
    sse: float
    sxx: float

    def at(self, x: float) -> float:
        return self.intercept + self.slope * x


class _Fits:
    """Least-squares lines over any run of points, each in constant time (prefix sums)."""

    def __init__(self, xs: list[float], ys: list[float]) -> None:
        self._sums = [(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]
        n = sx = sy = sxx = sxy = syy = 0.0
        for x, y in zip(xs, ys, strict=True):
            n, sx, sy, sxx, sxy, syy = n + 1, sx + x, sy + y, sxx + x * x, sxy + x * y, syy + y * y
            self._sums.append((n, sx, sy, sxx, sxy, syy))

    def line(self, i: int, j: int) -> _Line:
        """The line through points i..j-1."""
        n, sx, sy, sxx, sxy, syy = (b - a for a, b in zip(self._sums[i], self._sums[j], strict=True))
        var_x, var_y, cov = sxx - sx * sx / n, syy - sy * sy / n, sxy - sx * sy / n
        if var_x <= 0:
            return _Line(0.0, sy / n, max(var_y, 0.0), 0.0)
        slope = cov / var_x
        return _Line(slope, (sy - slope * sx) / n, max(var_y - slope * cov, 0.0), var_x)


def _segments(
    xs: list[float],
    smooth: list[float],
    fits: _Fits,
    *,
    gain_needed: float,
    matters: Callable[[float], float],
) -> list[tuple[int, int]]:
    """The runs [i, j) between change points, oldest first (binary segmentation, then each
    boundary moved to where the two lines beside it fit best)."""
    bounds: list[int] = []
    pending = [(0, len(xs))]
    while pending:
        i, j = pending.pop()
        if j - i < 2 * _MIN_SEGMENT:
            continue
        whole = fits.line(i, j)
        gain, k = max(
            (whole.sse - fits.line(i, k).sse - fits.line(k, j).sse, k)
            for k in range(i + _MIN_SEGMENT, j - _MIN_SEGMENT + 1)
        )
        if gain <= gain_needed:
            continue
        left, right = fits.line(i, k), fits.line(k, j)
        # A quarter: one line through a step of height d departs from the two flat lines
        # by d/2, and its own change is at most 1.5 d, so a step it keeps whole cannot
        # read as a trend either.
        moved = max(abs((left if q < k else right).at(xs[q]) - whole.at(xs[q])) for q in range(i, j))
        if moved <= matters(max(abs(v) for v in smooth[i:j])) / 4:
            continue
        bounds.append(k)
        pending += [(i, k), (k, j)]
    bounds.sort()
    edges = [0, *bounds, len(xs)]
    for q in range(1, len(edges) - 1):
        lo, hi = edges[q - 1], edges[q + 1]
        edges[q] = min(
            range(lo + _MIN_SEGMENT, hi - _MIN_SEGMENT + 1),
            key=lambda k: (fits.line(lo, k).sse + fits.line(k, hi).sse, abs(k - edges[q])),
        )
    return list(itertools.pairwise(edges))


def _clock(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%H:%M:%SZ")


def trend(
    series: TimeSeries,
    *,
    now: datetime,
    lookback: timedelta,
    noise: float,
    higher_is_worse: bool = True,
    min_change: float = 0.0,
    min_points: int = 5,
) -> Trend:
    """Whether the indicator is growing (getting worse), stable or recovering, now.

    Judged on the finite points in [now - lookback, now], in any order, as the module
    describes: the regime since the last change point, its slope, and its level against
    the level held before it. A change counts only when it clears both the noise (Student's
    t, 1 in 10,000) and ``max(noise * |level|, min_change)``, so a drift of 1% on a level
    of 40% is "stable" with ``noise=0.1``. ``min_points`` is also how many samples a new
    level must hold before it is judged flat. Fewer points than that give "unknown".
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError(f"now must be timezone-aware (UTC), got naive {now.isoformat()}")
    if lookback <= timedelta(0):
        raise ValueError(f"lookback must be positive, got {lookback}")
    start = now - lookback
    points: list[Point] = sorted(
        ((at, v) for at, v in series if start <= at <= now and math.isfinite(v)), key=lambda p: p[0]
    )
    n = len(points)
    settle = max(min_points, 3)
    if n < settle:
        return Trend("unknown", None, None, None, None, n, f"only {n} points in the lookback")
    xs = [(at - points[0][0]).total_seconds() for at, _ in points]
    if xs[-1] == xs[0]:
        return Trend("unknown", None, None, None, None, n, "all points share one timestamp")
    ys = [v for _, v in points]
    smooth = _median_of_three(ys)
    sigma, df = _noise(ys)
    t = _t_bound(df)
    bound = _SMOOTHED * t
    worse = 1.0 if higher_is_worse else -1.0

    def matters(*levels: float) -> float:
        """The smallest change that matters at these levels; the epsilon keeps rounding
        in a flat series from reading as a change."""
        level = max(abs(v) for v in levels)
        return max(noise * level, min_change, 1e-12 * max(1.0, level))

    fits = _Fits(xs, smooth)
    segments = _segments(xs, smooth, fits, gain_needed=_SPLIT_FACTOR * (t * sigma) ** 2, matters=matters)

    def result(direction: TrendDirection, i: int, j: int, change: float, reason: str) -> Trend:
        return Trend(
            direction,
            fits.line(i, j).slope,
            change,
            statistics.median(smooth[i:j]),
            sigma,
            n,
            reason,
            since=points[i][0],
        )

    # A fresh regime has no slope yet: the jump into it decides, or it joins the one before.
    last = len(segments) - 1
    i, j = segments[last]
    while last > 0 and j - i < settle:
        before_i, before_j = segments[last - 1]
        end = fits.line(before_i, before_j).at(xs[before_j - 1])
        jump = statistics.median(smooth[i:j]) - end
        se = sigma * math.hypot(_MEDIAN_SE / math.sqrt(j - i), _LINE_END_SE / math.sqrt(before_j - before_i))
        if abs(jump) > matters(end, end + jump) and abs(jump) > bound * se:
            direction: TrendDirection = "growing" if worse * jump > 0 else "recovering"
            return result(direction, i, j, jump, f"jumped {jump:+.4g} at {_clock(points[i][0])}")
        i, last = before_i, last - 1

    regime = fits.line(i, j)
    change = regime.slope * (xs[j - 1] - xs[i])
    level = statistics.median(smooth[i:j])
    since = _clock(points[i][0])
    slope_se = sigma / math.sqrt(regime.sxx) if regime.sxx > 0 else math.inf
    if abs(change) > matters(level) and abs(regime.slope) > bound * slope_se:
        direction = "growing" if worse * change > 0 else "recovering"
        return result(direction, i, j, change, f"change {change:+.4g} since {since}")

    if last > 0:
        held = [s for s in segments[:last] if s[1] - s[0] >= settle]
        before_i, before_j = held[-1] if held else segments[last - 1]
        shift = level - statistics.median(smooth[before_i:before_j])
        se = _MEDIAN_SE * sigma * math.sqrt(1 / (j - i) + 1 / (before_j - before_i))
        if worse * shift < 0 and abs(shift) > matters(level, level - shift) and abs(shift) > bound * se:
            return result("recovering", i, j, shift, f"{shift:+.4g} against the level before {since}")
    within = "within the noise" if abs(change) > matters(level) else f"within {matters(level):.4g}"
    return result("stable", i, j, change, f"flat since {since}: change {change:+.4g} {within}")
