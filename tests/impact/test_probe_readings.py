"""The probe's readings on recorded series: baseline, blast radius, estimates, verdicts, the resolve gate."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta

import pytest

from tests.impact.fakes import LATENCY, T0
from warroom.domain.impact import probe
from warroom.domain.impact.checks import gate_resolve, judge, off_baseline
from warroom.domain.impact.measurement import ServiceReadings, estimate, measurement
from warroom.domain.impact.probe import IndicatorSeries, ProbePolicy, read_indicator, render_query
from warroom.domain.impact.series import Point
from warroom.domain.incidents.catalog import Indicator, Service
from warroom.domain.incidents.commands import Declaration, declare
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import DataIntegrity, Impact, IncidentKind
from warroom.domain.incidents.state import IncidentState, Mitigation
from warroom.domain.shared.errors import InvalidTransition, ValidationError

STEP = timedelta(seconds=15)
POLICY = ProbePolicy(
    baseline_window=timedelta(minutes=5),
    baseline_search=timedelta(hours=1),
    trend_lookback=timedelta(minutes=5),
    verdict_window=timedelta(minutes=1),
    resolve_window=timedelta(minutes=3),
)
ERRORS = Indicator(
    "error_ratio", "sum by ($by) (e)", 0.05, split_by=("region",), unit="errors", kind="error_ratio"
)
TRAFFIC = Indicator(
    "traffic", "sum by ($by) (r)", 1.0, higher_is_worse=False, split_by=("region",), kind="traffic"
)
NOW = T0
START = T0 - timedelta(minutes=10)  # impact start


def sampled(value: object, *, since: timedelta = timedelta(hours=1), until: datetime = NOW) -> list[Point]:
    """A series every 15 s from ``until - since`` to ``until``; ``value(at)`` or a constant."""
    points: list[Point] = []
    at = until - since
    while at <= until:
        v = value(at) if callable(value) else value
        if v is not None:
            points.append((at, float(v)))
        at += STEP
    return points


def fault_from(start: datetime, bad: float, good: float = 0.002) -> object:
    return lambda at: bad if at >= start else good


def regional(eu_west: object, others: float = 0.002, indicator: Indicator = ERRORS) -> IndicatorSeries:
    east, south = sampled(others), sampled(others)
    west = sampled(eu_west)
    overall = [(a, (w + e + s) / 3) for (a, w), (_, e), (_, s) in zip(west, east, south, strict=True)]
    slices = {"region=us-east": east, "region=eu-west": west, "region=ap-south": south}
    return IndicatorSeries("shop", indicator, overall, {"region": slices})


def read(series: IndicatorSeries, *, start: datetime = START, now: datetime = NOW):  # type: ignore[no-untyped-def]
    return read_indicator(series, impact_start=start, now=now, policy=POLICY)


# --- queries --------------------------------------------------------------------------


def test_by_is_replaced_by_the_split_label_or_by_nothing_for_the_whole_service() -> None:
    query = "sum by ($by) (rate(x[5m])) / sum by ($by) (rate(y[5m]))"

    assert render_query(query, ["region"]) == "sum by (region) (rate(x[5m])) / sum by (region) (rate(y[5m]))"
    assert render_query(query, []) == "sum by () (rate(x[5m])) / sum by () (rate(y[5m]))"


def test_a_dangling_comma_is_dropped_when_the_whole_service_is_read() -> None:
    query = "histogram_quantile(0.95, sum by (le, $by) (rate(b[5m])))"

    assert render_query(query, []) == "histogram_quantile(0.95, sum by (le) (rate(b[5m])))"
    assert render_query(query, ["route"]) == "histogram_quantile(0.95, sum by (le, route) (rate(b[5m])))"


# --- one indicator -----------------------------------------------------------------------


def test_a_fault_in_one_region_is_localized_against_the_last_healthy_baseline() -> None:
    reading = read(regional(fault_from(START, 0.4)))
    record = reading.record

    assert record["status"] == "measured"
    assert record["current"] == pytest.approx((0.4 + 0.004) / 3, abs=1e-4)
    assert record["baseline"]["source"] == "healthy_window"
    assert record["baseline"]["value"] == pytest.approx(0.002)
    assert record["breaching"] and record["deviating"]
    [radius] = record["blast_radius"]
    assert radius["localized"]
    assert [d["slice"] for d in radius["deviating"]] == ["region=eu-west"]
    assert radius["sentence"] == "region=eu-west 40% errors; us-east, ap-south at baseline"
    assert record["line"].startswith("error_ratio 13% (baseline 0.2%, SLO 5%; stable); region=eu-west 40%")
    assert record["trend"]["of"] == "region=eu-west"


def test_a_window_where_one_slice_breached_is_no_baseline_even_if_the_whole_service_met_the_slo() -> None:
    # eu-west broke 20 minutes before the stated impact start, at a level that keeps the
    # whole service under its 5% SLO (9% / 3 = 3%); the baseline must come from before that.
    early = START - timedelta(minutes=20)
    reading = read(regional(fault_from(early, 0.09)))

    base = reading.record["baseline"]
    assert base["source"] == "healthy_window"
    assert datetime.fromisoformat(base["window_end"]) <= early
    assert base["value"] == pytest.approx(0.002)
    assert reading.record["left_slo_at"] is not None


def test_a_growing_fault_reads_growing_and_a_fading_one_recovering() -> None:
    ramp_up = read(
        regional(lambda at: 0.002 if at < START else min(0.6, (at - START) / timedelta(minutes=10) * 0.6))
    )
    ramp_down = read(
        regional(
            lambda at: 0.002 if at < START else max(0.0, 0.6 - (at - START) / timedelta(minutes=10) * 0.6)
        )
    )

    assert ramp_up.record["trend"]["direction"] == "growing"
    assert ramp_down.record["trend"]["direction"] == "recovering"


def test_a_fault_that_stepped_up_and_holds_reads_stable_since_the_step() -> None:
    # Three minutes into a 40% plateau, inside the five-minute lookback: one line through
    # the lookback would call it growing.
    step = NOW - timedelta(minutes=3)

    record = read(regional(fault_from(step, 0.4)), start=step).record

    assert record["trend"]["direction"] == "stable"
    assert record["trend"]["of"] == "region=eu-west"
    assert record["trend"]["since"] == "2026-03-01T11:57:00.000000Z"
    assert record["trend"]["change"] == pytest.approx(0.0)
    assert record["trend"]["reason"].startswith("flat since 11:57:00Z")
    assert record["line"].startswith("error_ratio 13% (baseline 0.2%, SLO 5%; stable)")


def test_a_fault_that_stepped_back_down_reads_recovering() -> None:
    step, cleared = NOW - timedelta(minutes=4), NOW - timedelta(minutes=2)

    record = read(regional(lambda at: 0.4 if step <= at < cleared else 0.002), start=step).record

    # Back at baseline everywhere: the trend is read on the whole service.
    assert record["trend"]["of"] == "all"
    assert record["trend"]["direction"] == "recovering"
    assert record["trend"]["since"] == "2026-03-01T11:58:00.000000Z"
    assert record["trend"]["change"] == pytest.approx(-0.4 / 3, abs=1e-3)


def test_without_a_healthy_window_or_a_day_before_the_slo_is_the_yardstick() -> None:
    reading = read(regional(0.3, others=0.08))

    assert reading.record["baseline"]["source"] == "none"
    assert reading.record["threshold"] == 0
    # Every region breaches the 5% SLO, so every region "deviates" from it.
    assert len(reading.record["blast_radius"][0]["deviating"]) == 3


def test_stale_or_missing_data_reads_as_no_data_with_a_reason() -> None:
    stale = IndicatorSeries("shop", ERRORS, sampled(0.01, until=NOW - timedelta(minutes=30)))
    empty = IndicatorSeries("shop", ERRORS, [])

    assert read(stale).record["status"] == "no_data"
    assert "stale" in read(stale).record["line"]
    assert read(empty).record["line"] == "error_ratio: no data (the query returned nothing)"


def test_nan_points_are_gaps_and_the_record_holds_only_finite_json() -> None:
    series = regional(lambda at: math.nan if at.minute % 7 == 0 else (0.4 if at >= START else 0.002))

    record = read(series).record

    text = json.dumps(record, allow_nan=False)  # raises on NaN or infinity
    assert "NaN" not in text
    assert None in record["chart"]["values"] or all(v is not None for v in record["chart"]["values"])


def test_the_chart_holds_the_last_hour_in_buckets_and_the_worst_slice() -> None:
    chart = read(regional(fault_from(START, 0.4))).record["chart"]

    assert len(chart["values"]) == POLICY.chart_points
    assert chart["focus"]["name"] == "region=eu-west"
    assert chart["values"][-1] == pytest.approx(0.1347, abs=1e-3)
    assert chart["focus"]["values"][0] == pytest.approx(0.002)


# --- estimates and severity ------------------------------------------------------------


def shop(**kwargs: object) -> Service:
    return Service("shop", "storefront", **kwargs)  # type: ignore[arg-type]


def test_customer_impact_is_the_slice_error_ratio_above_baseline_times_its_traffic_share() -> None:
    errors = read(regional(fault_from(START, 0.4)))
    # eu-west carries half the traffic: its 40% errors fail 20% of all requests.
    shares = regional(100.0, others=50.0, indicator=TRAFFIC)
    traffic = read(shares)

    guess = estimate(shop(revenue_per_minute=1000.0, user_share=0.5), [errors, traffic])

    assert guess.customer_share == pytest.approx((0.4 - 0.002) * 0.5 * 0.5, abs=1e-3)
    # Loss: the whole service's error ratio above baseline times revenue per hour.
    assert guess.financial_per_hour == pytest.approx(((0.4 + 0.004) / 3 - 0.002) * 60_000, rel=1e-2)


def test_without_traffic_the_whole_service_ratio_above_baseline_is_the_customer_impact() -> None:
    guess = estimate(shop(), [read(regional(fault_from(START, 0.4)))])

    assert guess.customer_share == pytest.approx((0.404 / 3) - 0.002, abs=1e-3)
    assert guess.financial_per_hour is None


def state_of(impact: Impact = Impact(), kind: IncidentKind = IncidentKind.AVAILABILITY) -> IncidentState:
    declared = declare(
        Declaration("shop failing", kind, ["shop"], impact=impact, impact_started_at=START),
        now=NOW - timedelta(minutes=5),
        policy=ResponsePolicy(),
    )
    event = Event(
        1, 1, declared.kind, declared.payload, "alice", declared.occurred_at, declared.occurred_at, "0", "1"
    )
    return apply(None, event)


def test_the_measurement_runs_through_the_severity_policy_keeping_the_assessed_dimensions() -> None:
    reading = read(regional(fault_from(START, 0.4)))
    measured = [ServiceReadings(shop(revenue_per_minute=100.0), [reading])]

    plain = measurement(state_of(), measured, now=NOW, policy=POLICY, severity=ResponsePolicy().severity)
    at_risk = measurement(
        state_of(Impact(data_integrity=DataIntegrity.CORRUPTED)),
        measured,
        now=NOW,
        policy=POLICY,
        severity=ResponsePolicy().severity,
    )

    assert plain["severity"] == "SEV2"
    assert plain["explanation"].startswith("SEV2: customer impact 13")
    assert at_risk["severity"] == "SEV1"  # corrupted data stays SEV1 whatever the metrics say
    assert plain["status"] == "measured"
    assert "region=eu-west 40% errors" in plain["summary"]
    assert plain["summary"].endswith("measured SEV2")
    json.dumps(plain, allow_nan=False)


def test_a_service_whose_prometheus_is_down_makes_the_measurement_unavailable() -> None:
    down = [ServiceReadings(shop(), (), "Prometheus at http://p:9090 refused the connection (refused)")]

    payload = measurement(state_of(), down, now=NOW, policy=POLICY, severity=ResponsePolicy().severity)

    assert payload["status"] == "unavailable"
    assert payload["severity"] is None
    assert (
        payload["summary"]
        == "impact probe blind: Prometheus at http://p:9090 refused the connection (refused)"
    )


# --- mitigation verdicts ------------------------------------------------------------------

APPLIED = NOW - timedelta(minutes=3)


def applied() -> Mitigation:
    return Mitigation(
        "M1", "flag off", "feature_flag", "low", True, 2.0, "", None, [], None, True, "applied",
        NOW - timedelta(minutes=4), "alice", applied_at=APPLIED,
    )  # fmt: skip


def after_mitigation(eu_west_after: float, *, us_east_after: float = 0.002) -> IndicatorSeries:
    west = lambda at: 0.002 if at < START else (0.4 if at < APPLIED else eu_west_after)  # noqa: E731
    east = lambda at: 0.002 if at < APPLIED else us_east_after  # noqa: E731
    slices = {"region=eu-west": sampled(west), "region=us-east": sampled(east)}
    overall = [
        (a, (w + e) / 2)
        for (a, w), (_, e) in zip(slices["region=eu-west"], slices["region=us-east"], strict=True)
    ]
    return IndicatorSeries("shop", ERRORS, overall, {"region": slices})


@pytest.mark.parametrize(
    ("eu_west_after", "us_east_after", "verdict"),
    [
        (0.002, 0.002, "effective"),  # back within the SLO
        (0.15, 0.002, "effective"),  # closed 71% of the breach
        (0.38, 0.002, "ineffective"),
        (0.6, 0.002, "worse"),
        (0.002, 0.3, "worse"),  # fixed eu-west, broke us-east: a second incident
    ],
)
def test_a_mitigation_is_judged_on_the_worst_breach_before_it(
    eu_west_after: float, us_east_after: float, verdict: str
) -> None:
    reading = read(after_mitigation(eu_west_after, us_east_after=us_east_after))

    check = judge(applied(), [reading], now=NOW, policy=POLICY)

    assert check.verdict == verdict, check.note
    assert check.before == pytest.approx(0.4)
    assert check.details["target"]["slice"] == "region=eu-west"
    assert check.note.startswith("shop error_ratio region=eu-west 40% -> ")


def test_no_breach_before_the_mitigation_leaves_nothing_to_judge() -> None:
    reading = read(regional(0.002))

    check = judge(applied(), [reading], now=NOW, policy=POLICY)

    assert check.verdict == "inconclusive"
    assert check.note == "no indicator breached its SLO before it was applied: nothing to judge"


def test_no_data_after_the_mitigation_is_inconclusive() -> None:
    west = sampled(lambda at: None if at >= APPLIED else (0.4 if at >= START else 0.002))
    series = IndicatorSeries("shop", ERRORS, west, {"region": {"region=eu-west": west}})

    check = judge(applied(), [read(series, now=APPLIED - STEP)], now=NOW, policy=POLICY)

    assert check.verdict == "inconclusive"


# --- the resolve gate -------------------------------------------------------------------


def test_indicators_at_baseline_for_the_whole_window_let_resolve_pass() -> None:
    recovered = regional(lambda at: 0.4 if START <= at < NOW - timedelta(minutes=4) else 0.002)

    assert off_baseline([read(recovered)], now=NOW, window=POLICY.resolve_window) == []


def test_a_slice_still_off_baseline_within_the_window_is_named() -> None:
    lingering = regional(lambda at: 0.4 if START <= at < NOW - timedelta(minutes=2) else 0.002)

    problems = off_baseline([read(lingering)], now=NOW, window=POLICY.resolve_window)

    assert problems[0].startswith("shop error_ratio was 13% at 11:57:")  # the whole service
    [west] = [p for p in problems if "region=" in p]
    assert west.startswith("shop error_ratio region=eu-west was 40% at 11:57:")
    assert west.endswith("(baseline 0.2%)")


def test_the_gate_refuses_unless_forced_and_forcing_needs_a_reason() -> None:
    state = state_of()
    kwargs = {"window": timedelta(minutes=10), "max_text": 100}

    with pytest.raises(
        InvalidTransition, match=r"not been back at baseline for 10m 00s: eu-west .*--force --why"
    ):
        gate_resolve(state, ["eu-west 40%"], force=False, why=None, **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="--force needs --why"):
        gate_resolve(state, ["eu-west 40%"], force=True, why=" ", **kwargs)  # type: ignore[arg-type]
    assert gate_resolve(state, ["eu-west 40%"], force=True, why="fix verified by hand", **kwargs) == (  # type: ignore[arg-type]
        "fix verified by hand"
    )
    assert gate_resolve(state, [], force=False, why=None, **kwargs) is None  # type: ignore[arg-type]


def test_latency_indicators_split_with_by_inside_a_grouping() -> None:
    indicator = Indicator("p95", LATENCY, 0.5, split_by=("region",), kind="latency")
    assert probe.render_query(indicator.query, []) == "histogram_quantile(0.95, sum by (le) (latency))"
