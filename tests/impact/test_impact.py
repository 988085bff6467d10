"""The impact probe's arithmetic, on recorded series."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warroom.domain.impact.analysis import (
    blast_radius,
    estimate_customer_impact,
    estimate_financial_loss_per_hour,
    find_baseline,
    judge_mitigation,
    mean_over,
)
from warroom.domain.impact.series import Point

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=15)


def recorded(values: list[float], *, start: datetime = T0, step: timedelta = STEP) -> list[Point]:
    """A series sampled every `step` from `start`."""
    return [(start + i * step, v) for i, v in enumerate(values)]


def at(index: int) -> datetime:
    return T0 + index * STEP


# --- find_baseline -------------------------------------------------------------------


def test_the_baseline_is_the_window_right_before_impact_when_it_was_healthy() -> None:
    series = recorded([0.01] * 40 + [0.4] * 10)

    baseline = find_baseline(series, at(40), slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "healthy_window"
    assert baseline.value == pytest.approx(0.01)
    assert baseline.window_end == at(40)
    assert baseline.window_start == at(40) - timedelta(minutes=5)
    assert baseline.points == 20
    assert baseline.met_slo


def test_the_baseline_skips_back_past_a_spike_before_impact() -> None:
    # Healthy 0..29, a spike at 30, healthy 31..39, impact from 40: the 5-minute
    # window (20 points) cannot fit between spike and impact, so it ends before the spike.
    values = [0.01] * 30 + [0.2] + [0.01] * 9 + [0.4] * 5
    series = recorded(values)

    baseline = find_baseline(series, at(40), slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "healthy_window"
    assert baseline.window_end == at(29)
    assert baseline.window_end is not None and baseline.window_end < at(30)
    assert baseline.value == pytest.approx(0.01)


def test_missing_points_are_ignored_when_looking_for_a_baseline() -> None:
    values = [0.02 if i % 3 else math.nan for i in range(40)]

    baseline = find_baseline(recorded(values), at(40), slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "healthy_window"
    assert baseline.value == pytest.approx(0.02)
    assert baseline.points == 13


def test_the_baseline_falls_back_to_the_same_window_a_day_earlier() -> None:
    impact = at(0)
    yesterday = recorded([0.03] * 20, start=impact - timedelta(days=1, minutes=5))
    unhealthy_today = recorded([0.3] * 200, start=impact - timedelta(minutes=50))

    baseline = find_baseline(yesterday + unhealthy_today, impact, slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "day_before"
    assert baseline.window_end == impact - timedelta(days=1)
    assert baseline.value == pytest.approx(0.03)
    assert baseline.met_slo


def test_a_day_before_window_that_was_also_unhealthy_says_so() -> None:
    impact = at(0)
    yesterday = recorded([0.2] * 20, start=impact - timedelta(days=1, minutes=5))

    baseline = find_baseline(yesterday, impact, slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "day_before"
    assert not baseline.met_slo


def test_without_enough_data_there_is_no_baseline() -> None:
    baseline = find_baseline(recorded([0.01, 0.01]), at(5), slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "none"
    assert baseline.value is None
    assert baseline.window_start is None


def test_a_baseline_for_an_indicator_where_lower_is_worse() -> None:
    availability = recorded([0.999] * 30 + [0.9] * 5)

    baseline = find_baseline(
        availability, at(30), slo=0.995, window=timedelta(minutes=5), higher_is_worse=False
    )

    assert baseline.source == "healthy_window"
    assert baseline.value == pytest.approx(0.999)


@given(
    values=st.lists(st.one_of(st.floats(0, 0.1), st.just(math.nan)), min_size=0, max_size=80),
    window_points=st.integers(1, 30),
)
def test_a_healthy_baseline_holds_only_healthy_points_from_before_the_impact(
    values: list[float], window_points: int
) -> None:
    series = recorded(values)
    impact = at(len(values))
    window = STEP * window_points

    baseline = find_baseline(series, impact, slo=0.05, window=window)

    if baseline.source == "healthy_window":
        assert baseline.window_start is not None and baseline.window_end is not None
        assert baseline.window_end <= impact
        assert baseline.window_end - baseline.window_start == window
        inside = [
            v
            for t, v in series
            if baseline.window_start <= t <= baseline.window_end and t < impact and not math.isnan(v)
        ]
        assert len(inside) == baseline.points >= 3
        assert all(v <= 0.05 for v in inside)
    else:
        # The series has nothing a day earlier, so the only other answer is "none".
        assert baseline.source == "none"


def test_a_sparse_stretch_makes_the_baseline_reach_further_back() -> None:
    # Two samples right before impact are too few; the 20 from before the gap are not.
    values = [0.01] * 20 + [math.nan] * 30 + [0.01, 0.01]

    baseline = find_baseline(recorded(values), at(52), slo=0.05, window=timedelta(minutes=5))

    assert baseline.source == "healthy_window"
    assert baseline.window_end == at(19)
    assert baseline.points == 20


def test_a_naive_impact_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        find_baseline([], datetime(2026, 3, 1), slo=0.05, window=timedelta(minutes=5))


# --- blast_radius --------------------------------------------------------------------


def test_a_fault_in_one_region_is_localised_to_that_region() -> None:
    current = {"region=eu-west": 0.37, "region=us-east": 0.001, "region=ap-south": 0.002}
    baseline = {"region=eu-west": 0.001, "region=us-east": 0.001, "region=ap-south": 0.001}

    radius = blast_radius(current, baseline, threshold=0.02)

    assert [d.dimension for d in radius.deviating] == ["region=eu-west"]
    assert [d.dimension for d in radius.at_baseline] == ["region=us-east", "region=ap-south"]
    assert radius.localized
    assert radius.sentence == "region=eu-west 37% errors; us-east, ap-south at baseline"


def test_deviating_dimensions_are_listed_worst_first() -> None:
    current = {"route=/a": 0.1, "route=/b": 0.5, "route=/c": 0.0}

    radius = blast_radius(current, {}, threshold=0.05)

    assert [d.dimension for d in radius.deviating] == ["route=/b", "route=/a"]
    assert radius.sentence == "route=/b 50% errors, /a 10% errors; /c at baseline"


def test_a_fault_everywhere_is_not_localised() -> None:
    radius = blast_radius({"region=a": 0.3, "region=b": 0.3}, {}, threshold=0.05)

    assert not radius.localized
    assert radius.sentence.endswith("none at baseline")


def test_a_dimension_that_went_silent_is_reported_as_no_data() -> None:
    current = {"region=us-east": 0.001, "region=eu-west": math.nan}
    baseline = {"region=us-east": 0.001, "region=eu-west": 0.001, "region=ap-south": 0.001}

    radius = blast_radius(current, baseline, threshold=0.02)

    assert radius.no_data == ("region=eu-west", "region=ap-south")
    assert radius.sentence == "no deviation; region=us-east at baseline; no data from eu-west, ap-south"


def test_mixed_dimension_keys_are_always_named_in_full() -> None:
    current = {"region=eu-west,route=/api/checkout": 0.4, "region=us-east,route=/api/cart": 0.0}

    radius = blast_radius(current, {}, threshold=0.05)

    assert radius.sentence == (
        "region=eu-west,route=/api/checkout 40% errors; region=us-east,route=/api/cart at baseline"
    )


def test_latency_can_be_reported_in_its_own_units() -> None:
    radius = blast_radius(
        {"region=eu-west": 1.2, "region=us-east": 0.2},
        {"region=eu-west": 0.2, "region=us-east": 0.2},
        threshold=0.1,
        unit="s p99",
        percent=False,
    )

    assert radius.sentence == "region=eu-west 1.2 s p99; us-east at baseline"


@given(
    current=st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), st.floats(0, 1), max_size=4),
    baseline=st.dictionaries(st.sampled_from(["a", "b", "c", "e"]), st.floats(0, 1), max_size=4),
    threshold=st.floats(0, 0.5),
)
def test_every_dimension_lands_in_exactly_one_bucket(
    current: dict[str, float], baseline: dict[str, float], threshold: float
) -> None:
    radius = blast_radius(current, baseline, threshold=threshold)

    named = [d.dimension for d in radius.deviating + radius.at_baseline] + list(radius.no_data)
    assert sorted(named) == sorted(set(current) | set(baseline))
    assert all(d.deviation > threshold for d in radius.deviating)


# --- estimates -----------------------------------------------------------------------


def test_customer_impact_is_the_excess_error_ratio_times_the_traffic_share() -> None:
    assert estimate_customer_impact(0.4, 0.25) == pytest.approx(0.1)
    assert estimate_customer_impact(0.4, 0.25, baseline_error_ratio=0.02) == pytest.approx(0.095)
    assert estimate_customer_impact(0.01, 1.0, baseline_error_ratio=0.02) == 0.0


def test_financial_loss_is_the_failed_share_of_revenue_over_an_hour() -> None:
    assert estimate_financial_loss_per_hour(0.4, 1_000.0) == pytest.approx(24_000.0)
    assert estimate_financial_loss_per_hour(0.0, 1_000.0) == 0.0


@pytest.mark.parametrize(("ratio", "share"), [(1.5, 0.5), (0.5, -0.1), (math.nan, 0.5)])
def test_estimates_refuse_ratios_outside_zero_to_one(ratio: float, share: float) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        estimate_customer_impact(ratio, share)


@given(ratio=st.floats(0, 1), share=st.floats(0, 1), base=st.floats(0, 1))
def test_customer_impact_is_a_share_no_larger_than_the_slice(ratio: float, share: float, base: float) -> None:
    impact = estimate_customer_impact(ratio, share, baseline_error_ratio=base)
    assert 0.0 <= impact <= share


# --- judge_mitigation ----------------------------------------------------------------


def test_a_mitigation_that_brings_errors_back_within_the_slo_is_effective() -> None:
    outcome = judge_mitigation(0.4, 0.01, slo=0.05, min_improvement_share=0.5)

    assert outcome.verdict == "effective"
    assert (outcome.before, outcome.after) == (0.4, 0.01)
    assert outcome.reason == "back within the SLO"


def test_a_mitigation_that_closes_most_of_the_breach_is_effective() -> None:
    outcome = judge_mitigation(0.4, 0.15, slo=0.05, min_improvement_share=0.5)

    assert outcome.verdict == "effective"
    assert outcome.improvement_share == pytest.approx(0.25 / 0.35)


def test_a_mitigation_that_barely_helps_is_ineffective() -> None:
    outcome = judge_mitigation(0.4, 0.38, slo=0.05, min_improvement_share=0.5)

    assert outcome.verdict == "ineffective"


def test_a_mitigation_that_makes_things_worse_says_so() -> None:
    assert judge_mitigation(0.2, 0.5, slo=0.05, min_improvement_share=0.5).verdict == "worse"


def test_breaking_a_healthy_indicator_is_worse() -> None:
    assert judge_mitigation(0.01, 0.1, slo=0.05, min_improvement_share=0.5).verdict == "worse"


@pytest.mark.parametrize(("before", "after"), [(None, 0.1), (0.4, None), (math.nan, 0.1)])
def test_a_mitigation_without_data_is_inconclusive(before: float | None, after: float | None) -> None:
    outcome = judge_mitigation(before, after, slo=0.05, min_improvement_share=0.5)

    assert outcome.verdict == "inconclusive"
    assert outcome.improvement_share is None


def test_a_mitigation_is_judged_the_right_way_round_when_lower_is_worse() -> None:
    outcome = judge_mitigation(0.6, 0.999, slo=0.99, min_improvement_share=0.5, higher_is_worse=False)
    assert outcome.verdict == "effective"
    worse = judge_mitigation(0.9, 0.5, slo=0.99, min_improvement_share=0.5, higher_is_worse=False)
    assert worse.verdict == "worse"


_RANK = {"effective": 0, "ineffective": 1, "worse": 2}


@given(
    before=st.floats(0, 1),
    after=st.floats(0, 1),
    better_after=st.floats(0, 1),
    share=st.floats(0.01, 1),
)
def test_a_lower_error_ratio_after_never_gets_a_harsher_verdict(
    before: float, after: float, better_after: float, share: float
) -> None:
    better_after = min(after, better_after)

    plain = judge_mitigation(before, after, slo=0.05, min_improvement_share=share)
    better = judge_mitigation(before, better_after, slo=0.05, min_improvement_share=share)

    assert _RANK[better.verdict] <= _RANK[plain.verdict]


def test_mean_over_summarises_a_window_and_skips_missing_points() -> None:
    series = recorded([0.1, math.nan, 0.3, 0.9])

    assert mean_over(series, at(0), at(3)) == pytest.approx(0.2)
    assert mean_over(series, at(10), at(20)) is None
