"""Where an indicator is heading: steps, ramps, spikes, recovery and noise."""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.domain.impact.series import Point
from warroom.domain.impact.trend import trend

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=15)


def recorded(values: list[float]) -> list[Point]:
    """A series sampled every 15 s from T0."""
    return [(T0 + i * STEP, v) for i, v in enumerate(values)]


def at(index: int) -> datetime:
    return T0 + index * STEP


def trend_of(values: list[float], *, higher_is_worse: bool = True, min_change: float = 0.0) -> str:
    """The direction now (the last point), over the whole series, with a 10% noise share."""
    return trend(
        recorded(values),
        now=at(len(values) - 1),
        lookback=STEP * (len(values) - 1),
        noise=0.1,
        higher_is_worse=higher_is_worse,
        min_change=min_change,
    ).direction


def gaussian(seed: int, sd: float, n: int) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(0.0, sd) for _ in range(n)]


# --- the shapes of the issue, one by one -------------------------------------------------


def test_a_step_that_holds_is_stable_four_minutes_into_the_plateau() -> None:
    # 0% jumping to 46% six minutes ago, probed with the defaults (10 minutes, 15 s steps):
    # one line through the lookback read "growing (+0.6553)" here.
    values = [0.0] * 24 + [0.46] * 17

    result = trend(recorded(values), now=at(40), lookback=timedelta(minutes=10), noise=0.1)

    assert result.direction == "stable"
    assert result.since == at(24)
    assert result.level == pytest.approx(0.46)
    assert result.reason.startswith("flat since 12:06:00Z")


def test_a_step_reads_growing_until_its_new_level_has_held_for_min_points() -> None:
    directions = [trend_of([0.0] * 30 + [0.46] * held) for held in range(2, 8)]

    assert directions == ["growing", "growing", "growing", "stable", "stable", "stable"]


def test_a_fresh_jump_says_when_it_happened() -> None:
    result = trend(recorded([0.0] * 30 + [0.46] * 2), now=at(31), lookback=STEP * 31, noise=0.1)

    assert result.direction == "growing"
    assert result.change == pytest.approx(0.46)
    assert result.reason == "jumped +0.46 at 12:07:30Z"


def test_a_step_back_to_where_it_was_is_recovering() -> None:
    # The same step, and then recovery at 0%: "growing" under the old single line.
    values = [0.0] * 10 + [0.46] * 10 + [0.0] * 20

    result = trend(recorded(values), now=at(39), lookback=STEP * 39, noise=0.1)

    assert result.direction == "recovering"
    assert result.since == at(20)
    assert result.change == pytest.approx(-0.46)
    assert result.reason == "-0.46 against the level before 12:05:00Z"


def test_a_step_down_that_has_just_happened_is_recovering() -> None:
    assert trend_of([0.0] * 10 + [0.46] * 20 + [0.0] * 2) == "recovering"


def test_a_partial_recovery_that_holds_is_recovering() -> None:
    # A mitigation cut 46% to 20%: better than the level before, though not yet healthy.
    assert trend_of([0.46] * 15 + [0.2] * 25) == "recovering"


def test_a_level_that_stepped_up_twice_and_holds_is_stable() -> None:
    assert trend_of([0.0] * 10 + [0.2] * 10 + [0.46] * 20) == "stable"


def test_a_recovery_that_relapses_into_a_ramp_is_growing() -> None:
    assert trend_of([0.46] * 10 + [0.05] * 10 + [0.05 + 0.02 * i for i in range(20)]) == "growing"


def test_a_ramp_that_levels_off_is_stable() -> None:
    assert trend_of([0.02 * min(i, 20) for i in range(40)]) == "stable"


def test_a_flat_series_is_stable() -> None:
    assert trend_of([0.1] * 20) == "stable"


def test_a_flat_series_at_zero_is_stable() -> None:
    assert trend_of([0.0] * 20) == "stable"


def test_a_noisy_but_flat_series_is_stable() -> None:
    rng = random.Random(7)
    assert trend_of([0.2 + rng.uniform(-0.05, 0.05) for _ in range(40)]) == "stable"


def test_a_rising_error_ratio_is_growing() -> None:
    rng = random.Random(3)
    assert trend_of([0.05 + 0.01 * i + rng.uniform(-0.01, 0.01) for i in range(30)]) == "growing"


def test_a_falling_error_ratio_is_recovering() -> None:
    assert trend_of([0.4, 0.35, 0.3, 0.22, 0.15, 0.1, 0.06, 0.04, 0.03, 0.02]) == "recovering"


def test_growing_means_getting_worse_when_lower_is_worse() -> None:
    falling_availability = [0.999 - 0.01 * i for i in range(20)]
    assert trend_of(falling_availability, higher_is_worse=False) == "growing"
    assert trend_of([0.999] * 10 + [0.6] * 20, higher_is_worse=False) == "stable"
    assert trend_of([0.6] * 10 + [0.999] * 20, higher_is_worse=False) == "recovering"


def test_a_small_drift_relative_to_the_level_is_stable() -> None:
    # 40% errors creeping to 41%: real, but well under 10% of the level.
    assert trend_of([0.40 + 0.0005 * i for i in range(20)]) == "stable"


def test_a_step_smaller_than_min_change_is_stable() -> None:
    assert trend_of([0.0] * 20 + [0.01] * 2, min_change=0.02) == "stable"
    assert trend_of([0.0] * 20 + [0.03] * 2, min_change=0.02) == "growing"


def test_one_outlier_at_the_end_does_not_make_a_trend() -> None:
    rng = random.Random(11)
    values = [0.1 + rng.uniform(-0.01, 0.01) for _ in range(40)] + [0.5]
    assert trend_of(values) == "stable"


def test_too_few_points_give_an_unknown_trend() -> None:
    values = [0.1, math.nan, math.nan, 0.5, math.nan, math.nan]
    result = trend(recorded(values), now=at(5), lookback=STEP * 5, noise=0.1)

    assert result.direction == "unknown"
    assert result.points == 2
    assert result.slope_per_second is None and result.since is None


def test_points_sharing_one_timestamp_give_an_unknown_trend() -> None:
    series = [(T0, v) for v in (0.1, 0.2, 0.3, 0.4, 0.5)]

    assert trend(series, now=T0, lookback=STEP, noise=0.1).direction == "unknown"


def test_points_outside_the_lookback_are_ignored() -> None:
    old_rise = [0.01 * i for i in range(20)]
    recent_flat = [0.3] * 10
    series = recorded(old_rise + recent_flat)

    result = trend(series, now=at(29), lookback=STEP * 9, noise=0.1)

    assert result.direction == "stable"
    assert result.points == 10


def test_a_naive_now_and_an_empty_lookback_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        trend([], now=datetime(2026, 3, 1), lookback=STEP, noise=0.1)
    with pytest.raises(ValueError, match="lookback must be positive"):
        trend([], now=T0, lookback=timedelta(0), noise=0.1)


def test_six_hours_of_one_second_samples_are_judged_quickly() -> None:
    # Every candidate split costs constant time (prefix sums), not a refit.
    noise = gaussian(1, 0.001, 21_600)
    series = [(T0 + timedelta(seconds=i), (0.3 if i >= 10_800 else 0.0) + e) for i, e in enumerate(noise)]

    started = time.process_time()
    result = trend(series, now=series[-1][0], lookback=timedelta(hours=6), noise=0.1)

    assert result.direction == "stable"
    assert result.since == T0 + timedelta(seconds=10_800)
    assert time.process_time() - started < 2.0


# --- properties ----------------------------------------------------------------------------
#
# Windows of at least 16 points, as the probe reads them (10 minutes at 15 s is 40): with
# fewer, the noise estimate itself is too uncertain to place a change point in noisy data.
# Steps and ramps carry noise of up to 2% of their size; sheer noise is tested on its own.

levels = st.floats(min_value=0.0, max_value=1.0)
steps = st.floats(min_value=0.05, max_value=1.0)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
quiet = st.floats(min_value=0.0, max_value=0.02)


def noisy(shape: list[float], seed: int, sd: float) -> list[float]:
    return [v + e for v, e in zip(shape, gaussian(seed, sd, len(shape)), strict=True)]


@given(
    level=levels,
    rise=steps,
    before=st.integers(min_value=3, max_value=40),
    held=st.integers(min_value=7, max_value=40),
    seed=seeds,
    quiet=quiet,
)
def test_a_step_up_that_then_holds_is_stable(
    level: float, rise: float, before: int, held: int, seed: int, quiet: float
) -> None:
    before = max(before, 16 - held)
    values = noisy([level] * before + [level + rise] * held, seed, quiet * rise)

    assert trend_of(values) == "stable"


@given(
    level=levels,
    rise=steps,
    before=st.integers(min_value=3, max_value=30),
    held=st.integers(min_value=5, max_value=30),
    after=st.integers(min_value=2, max_value=30),
    seed=seeds,
    quiet=quiet,
)
def test_a_step_up_then_back_down_is_recovering(
    level: float, rise: float, before: int, held: int, after: int, seed: int, quiet: float
) -> None:
    level = min(level, 2 * rise)  # the step must clear 10% of the level
    before = max(before, 16 - held - after)
    values = noisy([level] * before + [level + rise] * held + [level] * after, seed, quiet * rise)

    assert trend_of(values) == "recovering"


@given(
    level=levels,
    rise=steps,
    n=st.integers(min_value=16, max_value=80),
    seed=seeds,
    quiet=quiet,
    worse_is_up=st.booleans(),
)
def test_a_ramp_up_is_growing_and_a_ramp_down_recovering(
    level: float, rise: float, n: int, seed: int, quiet: float, worse_is_up: bool
) -> None:
    level = min(level, 2 * rise)  # the rise must clear 10% of the level
    values = noisy([level + rise * i / (n - 1) for i in range(n)], seed, quiet * rise)

    assert trend_of(values, higher_is_worse=worse_is_up) == ("growing" if worse_is_up else "recovering")
    assert trend_of(values[::-1], higher_is_worse=worse_is_up) == ("recovering" if worse_is_up else "growing")


@given(
    level=levels,
    spike=st.floats(min_value=-10.0, max_value=10.0),
    before=st.integers(min_value=3, max_value=40),
    after=st.integers(min_value=1, max_value=40),
    seed=seeds,
    quiet=quiet,
)
def test_a_single_sample_spike_that_has_passed_changes_nothing(
    level: float, spike: float, before: int, after: int, seed: int, quiet: float
) -> None:
    # Noise of up to 2% of the level (or of 0.01 at level 0), the spike up to 10 either way.
    before = max(before, 16 - after - 1)
    values = noisy([level] * before + [level + spike] + [level] * after, seed, quiet * max(level, 0.01))

    assert trend_of(values) == "stable"


@given(
    level=levels,
    min_change=st.floats(min_value=1e-3, max_value=1.0),
    wiggles=st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=5, max_size=60),
)
def test_any_wiggle_smaller_than_a_quarter_of_min_change_is_stable(
    level: float, min_change: float, wiggles: list[float]
) -> None:
    # Whatever its shape, no fitted change within a band exceeds 1.5 times its width.
    values = [level + w * min_change / 4 for w in wiggles]

    assert trend_of(values, min_change=min_change) == "stable"


@settings(derandomize=True, max_examples=200)
@given(
    level=st.floats(min_value=0.05, max_value=1.0),
    sd=st.floats(min_value=0.0, max_value=0.5),
    n=st.integers(min_value=12, max_value=80),
    seed=seeds,
)
def test_random_noise_around_a_flat_level_is_stable(level: float, sd: float, n: int, seed: int) -> None:
    # Noise up to five times the level, far beyond the 10% share: the statistical bound
    # alone keeps it stable. It is a bound (a false trend about once in 10,000 readings),
    # so the examples are fixed rather than drawn anew on every run.
    values = [level + e for e in gaussian(seed, sd * level * 10, n)]

    assert trend_of(values) == "stable"


@given(values=st.lists(st.floats(min_value=-1.0, max_value=1.0), min_size=5, max_size=60))
def test_growing_when_higher_is_worse_is_growing_when_lower_is_worse_upside_down(values: list[float]) -> None:
    assert trend_of(values) == trend_of([-v for v in values], higher_is_worse=False)


@given(
    slope=st.floats(min_value=1e-4, max_value=10.0),
    level=st.floats(min_value=0.0, max_value=100.0),
    n=st.integers(min_value=5, max_value=60),
)
def test_a_clean_line_rising_by_more_than_the_noise_is_growing(slope: float, level: float, n: int) -> None:
    values = [level + slope * i for i in range(n)]
    rise = slope * (n - 1)
    mean = level + rise / 2
    if rise > 0.1 * mean * 1.001:
        assert trend_of(values) == "growing"
        assert trend_of([-v for v in values], higher_is_worse=False) == "growing"


@given(
    values=st.lists(st.floats(min_value=0, max_value=1), min_size=5, max_size=40),
    reverse=st.booleans(),
)
def test_the_order_in_which_points_arrive_does_not_change_the_trend(
    values: list[float], reverse: bool
) -> None:
    series = recorded(values)
    shuffled = list(reversed(series)) if reverse else series[1:] + series[:1]
    now, lookback = at(len(values) - 1), STEP * len(values)

    assert (
        trend(shuffled, now=now, lookback=lookback, noise=0.1).direction
        == trend(series, now=now, lookback=lookback, noise=0.1).direction
    )
