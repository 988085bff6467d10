"""The reliability review, checked against figures computed by hand."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from warroom.domain.learning.durations import IncidentRecord
from warroom.domain.learning.percentiles import DurationSummary, percentile, summarize
from warroom.domain.learning.reliability import review_reliability
from warroom.domain.learning.reliability_report import Count, GroupFigures
from warroom.domain.shared.errors import ValidationError


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def seconds(summary: DurationSummary) -> tuple[int, float | None, float | None]:
    """Count, median and p90 in seconds, to the millisecond (interpolation is float)."""
    return (
        summary.count,
        None if summary.median is None else round(summary.median.total_seconds(), 3),
        None if summary.p90 is None else round(summary.p90.total_seconds(), 3),
    )


# --- percentile and summarize -------------------------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0, 1.0),
        (50, 2.5),  # rank 3 * 0.5 = 1.5: halfway between 2 and 3
        (90, 3.7),  # rank 3 * 0.9 = 2.7: 3 + 0.7 * (4 - 3)
        (100, 4.0),
    ],
)
def test_percentile_interpolates_linearly_between_closest_ranks(q: float, expected: float) -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], q) == pytest.approx(expected)


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 50) is None


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([7.0], 90) == 7.0


@pytest.mark.parametrize("q", [-1, 100.5])
def test_percentile_refuses_q_outside_0_to_100(q: float) -> None:
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], q)


def test_summarize_gives_count_median_and_p90() -> None:
    durations = [timedelta(minutes=m) for m in (10, 1, 5, 3)]

    summary = summarize(durations)

    # sorted 60, 180, 300, 600 s; median (180 + 300) / 2 = 240; p90 300 + 0.7 * 300 = 510
    assert seconds(summary) == (4, 240.0, 510.0)


def test_summarize_of_nothing_has_no_median() -> None:
    assert summarize([]) == DurationSummary(count=0, median=None, p90=None)


# --- the hand-computed fixture ------------------------------------------------------------

PLUS_TWO = timezone(timedelta(hours=2))

FIXTURE = [
    IncidentRecord(
        number=1,
        services=("checkout",),
        severity=2,
        kind="availability",
        impact_started_at=at(1, 5, 9, 50),
        detected_at=at(1, 5, 9, 55),
        declared_at=at(1, 5, 10, 0),
        acknowledged_at=at(1, 5, 10, 2),
        mitigated_at=at(1, 5, 10, 30),
        resolved_at=at(1, 5, 11, 0),
        closed_at=at(1, 8, 12, 0),
        contributing_factors=("detection", "change"),
        followups_done_at=(at(1, 20, 0),),
    ),
    IncidentRecord(
        number=2,
        services=("checkout", "search"),
        severity=1,
        kind="latency",
        impact_started_at=at(1, 15, 7, 40),
        detected_at=at(1, 15, 7, 50),
        declared_at=at(1, 15, 8, 0),
        acknowledged_at=at(1, 15, 8, 1),
        mitigated_at=at(1, 15, 8, 20),
        resolved_at=at(1, 15, 9, 40),
        contributing_factors=("change", "capacity"),
        followups_done_at=(at(1, 25, 0), at(2, 1, 0)),
    ),
    IncidentRecord(  # impact start unknown, never acknowledged, a follow-up still open
        number=3,
        services=("checkout",),
        severity=2,
        kind="availability",
        detected_at=at(2, 10, 11, 58),
        declared_at=at(2, 10, 12, 0),
        mitigated_at=at(2, 10, 12, 10),
        resolved_at=at(2, 10, 12, 30),
        contributing_factors=("detection", "detection"),
        followups_done_at=(None,),
    ),
    IncidentRecord(
        number=4,
        services=("search",),
        severity=3,
        kind="latency",
        impact_started_at=at(2, 20, 14, 0),
        detected_at=at(2, 20, 14, 30),
        declared_at=at(2, 20, 15, 0),
        acknowledged_at=at(2, 20, 15, 10),
        mitigated_at=at(2, 20, 16, 0),
        resolved_at=at(2, 20, 17, 0),
        contributing_factors=("dependency",),
    ),
    IncidentRecord(  # declared 1 March 01:00 at +02:00, which is 28 February in UTC
        number=5,
        services=("checkout",),
        severity=3,
        kind="availability",
        impact_started_at=at(2, 28, 22, 30),
        detected_at=at(2, 28, 22, 40),
        declared_at=datetime(2026, 3, 1, 1, 0, tzinfo=PLUS_TWO),
        acknowledged_at=at(2, 28, 23, 5),
        mitigated_at=at(2, 28, 23, 20),
        resolved_at=at(2, 28, 23, 50),
        contributing_factors=("detection", "change"),
    ),
]
# Durations in seconds, by hand:
#        detect           declare           acknowledge     mitigate               resolve
#   #1   09:55-09:50=300  10:00-09:55=300   10:02-10:00=120  10:30-09:50=2400      11:00-09:50=4200
#   #2   07:50-07:40=600  08:00-07:50=600   08:01-08:00=60   08:20-07:40=2400      09:40-07:40=7200
#   #3   (no impact)      12:00-11:58=120   (none)           12:10-11:58=720 (*)   12:30-11:58=1920 (*)
#   #4   14:30-14:00=1800 15:00-14:30=1800  15:10-15:00=600  16:00-14:00=7200      17:00-14:00=10800
#   #5   22:40-22:30=600  23:00-22:40=1200  23:05-23:00=300  23:20-22:30=3000      23:50-22:30=4800
# (*) measured from detection, the impact start being unknown.
SINCE = at(1, 1, 0)
UNTIL = at(3, 2, 0)  # 60 days after SINCE: 31 in January, 28 in February, 1 in March


def fixture_report() -> dict[str, GroupFigures]:
    report = review_reliability(FIXTURE, since=SINCE, until=UNTIL)
    groups = {"all": report.overall}
    groups.update({group.key: group for group in report.by_severity + report.by_month})
    groups.update({service.service: service.figures for service in report.by_service})
    return groups


def test_overall_figures_match_the_hand_computation() -> None:
    overall = fixture_report()["all"]

    assert overall.incidents == 5
    # detect: 300 600 600 1800; median (600+600)/2; p90 rank 3*0.9=2.7: 600 + 0.7*1200
    assert seconds(overall.time_to_detect) == (4, 600.0, 1440.0)
    # declare: 120 300 600 1200 1800; median 600; p90 rank 3.6: 1200 + 0.6*600
    assert seconds(overall.time_to_declare) == (5, 600.0, 1560.0)
    # acknowledge: 60 120 300 600; median (120+300)/2; p90 rank 2.7: 300 + 0.7*300
    assert seconds(overall.time_to_acknowledge) == (4, 210.0, 510.0)
    # mitigate: 720 2400 2400 3000 7200; median 2400; p90 rank 3.6: 3000 + 0.6*4200
    assert seconds(overall.time_to_mitigate) == (5, 2400.0, 5520.0)
    # resolve: 1920 4200 4800 7200 10800; median 4800; p90 rank 3.6: 7200 + 0.6*3600
    assert seconds(overall.time_to_resolve) == (5, 4800.0, 9360.0)


def test_service_figures_count_an_incident_in_each_of_its_services() -> None:
    groups = fixture_report()

    checkout, search = groups["checkout"], groups["search"]
    assert (checkout.incidents, search.incidents) == (4, 2)
    # checkout (#1 #2 #3 #5) detect: 300 600 600; median 600; p90 rank 1.8: 600 + 0.8*0
    assert seconds(checkout.time_to_detect) == (3, 600.0, 600.0)
    # mitigate: 720 2400 2400 3000; median 2400; p90 rank 2.7: 2400 + 0.7*600
    assert seconds(checkout.time_to_mitigate) == (4, 2400.0, 2820.0)
    # resolve: 1920 4200 4800 7200; median (4200+4800)/2; p90 rank 2.7: 4800 + 0.7*2400
    assert seconds(checkout.time_to_resolve) == (4, 4500.0, 6480.0)
    # search (#2 #4) mitigate: 2400 7200; median 4800; p90 rank 0.9: 2400 + 0.9*4800
    assert seconds(search.time_to_mitigate) == (2, 4800.0, 6720.0)


def test_severity_figures_group_by_severity() -> None:
    groups = fixture_report()

    # SEV1: #2 alone
    assert seconds(groups["SEV1"].time_to_mitigate) == (1, 2400.0, 2400.0)
    # SEV2: #1 #3 mitigate 720 2400; median 1560; p90 720 + 0.9*1680
    assert seconds(groups["SEV2"].time_to_mitigate) == (2, 1560.0, 2232.0)
    # SEV3: #4 #5 mitigate 3000 7200; median 5100; p90 3000 + 0.9*4200
    assert seconds(groups["SEV3"].time_to_mitigate) == (2, 5100.0, 6780.0)


def test_months_follow_the_utc_date_of_declaration() -> None:
    report = review_reliability(FIXTURE, since=SINCE, until=UNTIL)

    assert [(g.key, g.incidents) for g in report.by_month] == [("2026-01", 2), ("2026-02", 3)]
    february = report.by_month[1]
    # #3 #4 #5 resolve: 1920 4800 10800; median 4800; p90 rank 1.8: 4800 + 0.8*6000
    assert seconds(february.time_to_resolve) == (3, 4800.0, 9600.0)


def test_incident_rates_are_per_30_days_of_the_window() -> None:
    report = review_reliability(FIXTURE, since=SINCE, until=UNTIL)

    rates = {s.service: s.incidents_per_30_days for s in report.by_service}
    # checkout 4 incidents in 60 days; search 2
    assert rates == {"checkout": pytest.approx(2.0), "search": pytest.approx(1.0)}


def test_checkout_is_compared_before_and_after_its_follow_ups_were_done() -> None:
    report = review_reliability(FIXTURE, since=SINCE, until=UNTIL)
    fixes = report.by_service[0].fixes

    # #1's follow-up was done 20 Jan, but #2 came on 15 Jan; #2's were done 1 Feb and
    # #3 came after, on 10 Feb (with a follow-up still open, which ends the walk).
    assert fixes.status == "done"
    assert fixes.fixes_done_at == at(2, 1, 0)
    assert fixes.before is not None
    assert fixes.after is not None
    # before: #1 #2 in the 31 days of January; mitigate 2400 2400
    assert fixes.before.incidents == 2
    assert fixes.before.incidents_per_30_days == pytest.approx(2 / (31 / 30))
    assert seconds(fixes.before.time_to_mitigate) == (2, 2400.0, 2400.0)
    # after: #3 #5 in the 29 days from 1 Feb to 2 Mar; mitigate 720 3000;
    # median 1860; p90 720 + 0.9*2280
    assert fixes.after.incidents == 2
    assert fixes.after.incidents_per_30_days == pytest.approx(2 / (29 / 30))
    assert seconds(fixes.after.time_to_mitigate) == (2, 1860.0, 2772.0)


def test_an_incident_without_follow_ups_after_the_fixes_falls_after_them() -> None:
    report = review_reliability(FIXTURE, since=SINCE, until=UNTIL)
    fixes = report.by_service[1].fixes

    # search: #2's follow-ups done 1 Feb; #4 (20 Feb) has none
    assert fixes.fixes_done_at == at(2, 1, 0)
    assert fixes.before is not None
    assert fixes.after is not None
    assert (fixes.before.incidents, fixes.after.incidents) == (1, 1)


def test_a_service_says_when_it_has_no_follow_ups() -> None:
    report = review_reliability(FIXTURE[3:4])

    fixes = report.by_service[0].fixes
    assert (fixes.status, fixes.fixes_done_at, fixes.before, fixes.after) == (
        "none",
        None,
        None,
        None,
    )
    assert "no follow-ups" in fixes.note


def test_a_service_says_when_its_earliest_follow_ups_are_open() -> None:
    report = review_reliability(FIXTURE[2:3])

    fixes = report.by_service[0].fixes
    assert fixes.status == "open"
    assert fixes.before is None
    assert "not all done" in fixes.note


def test_contributing_factors_in_two_or_more_incidents_recur() -> None:
    report = review_reliability(FIXTURE)

    # change: #1 #2 #5; detection: #1 #3 #5 (twice in #3 counts once); capacity and
    # dependency once each
    assert report.recurring_factors == (Count("change", 3), Count("detection", 3))


def test_incidents_are_counted_by_kind() -> None:
    report = review_reliability(FIXTURE)

    assert report.by_kind == (Count("availability", 3), Count("latency", 2))


def test_the_window_defaults_to_the_first_and_last_incident() -> None:
    report = review_reliability(FIXTURE)

    assert report.window_start == at(1, 5, 10, 0)
    assert report.window_end == at(2, 28, 23, 0)


def test_a_window_leaves_out_incidents_outside_it() -> None:
    undated = IncidentRecord(number=9, services=("checkout",), severity=4, kind="latency")

    report = review_reliability([*FIXTURE, undated], since=at(2, 1, 0), until=at(2, 28, 0))

    assert report.incidents == 2  # #3 and #4; #5 was declared at 23:00 on 28 Feb
    assert [g.key for g in report.by_month] == ["2026-02"]


def test_without_a_window_undated_incidents_still_count() -> None:
    undated = IncidentRecord(number=9, services=("checkout",), severity=4, kind="latency")

    report = review_reliability([*FIXTURE, undated])

    assert report.incidents == 6
    assert report.by_severity[-1].key == "SEV4"
    assert report.by_month[-1].incidents == 3  # no month for an undeclared incident


# --- edge cases ---------------------------------------------------------------------------


def test_an_empty_review_has_counts_of_zero_and_no_figures() -> None:
    report = review_reliability([])

    assert report.incidents == 0
    assert report.overall.time_to_mitigate == DurationSummary(0, None, None)
    assert (report.by_service, report.by_severity, report.by_month) == ((), (), ())
    assert report.recurring_factors == ()
    assert (report.window_start, report.window_end) == (None, None)
    assert json.loads(json.dumps(report.to_dict()))["overall"]["time_to_detect"] == {
        "count": 0,
        "median_seconds": None,
        "p90_seconds": None,
    }


def test_one_incident_is_its_own_median_and_p90() -> None:
    report = review_reliability(FIXTURE[:1])

    assert seconds(report.overall.time_to_mitigate) == (1, 2400.0, 2400.0)
    assert report.by_service[0].incidents_per_30_days is None  # a window of no length


def test_missing_milestones_are_not_measured() -> None:
    record = IncidentRecord(
        number=1,
        services=("api",),
        severity=4,
        kind="latency",
        declared_at=at(5, 1, 12),
        resolved_at=at(5, 1, 13),
    )

    overall = review_reliability([record]).overall

    assert overall.incidents == 1
    assert overall.time_to_detect.count == 0
    assert overall.time_to_acknowledge.count == 0
    assert overall.time_to_resolve.count == 0  # neither impact start nor detection known


def test_contradictory_milestones_are_not_measured() -> None:
    record = IncidentRecord(
        number=1,
        services=("api",),
        severity=4,
        kind="latency",
        impact_started_at=at(5, 1, 12, 10),
        detected_at=at(5, 1, 12, 0),  # before the impact began
        declared_at=at(5, 1, 12, 5),
    )

    overall = review_reliability([record]).overall

    assert overall.time_to_detect.count == 0
    assert seconds(overall.time_to_declare) == (1, 300.0, 300.0)


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="detected_at"):
        IncidentRecord(
            number=1,
            services=("api",),
            severity=2,
            kind="latency",
            detected_at=datetime(2026, 5, 1, 12),
        )


def test_a_severity_outside_1_to_4_is_refused() -> None:
    with pytest.raises(ValidationError, match="severity"):
        IncidentRecord(number=1, services=("api",), severity=5, kind="latency")


def test_the_report_is_json_ready_with_durations_in_seconds() -> None:
    data = json.loads(json.dumps(review_reliability(FIXTURE, since=SINCE, until=UNTIL).to_dict()))

    assert data["incidents"] == 5
    assert data["window"] == {"start": "2026-01-01T00:00:00.000000Z", "end": "2026-03-02T00:00:00.000000Z"}
    assert data["overall"]["time_to_mitigate"] == {
        "count": 5,
        "median_seconds": 2400.0,
        "p90_seconds": pytest.approx(5520.0),
    }
    checkout = data["by_service"][0]
    assert checkout["service"] == "checkout"
    assert checkout["incidents_per_30_days"] == pytest.approx(2.0)
    assert checkout["fixes"]["status"] == "done"
    assert checkout["fixes"]["fixes_done_at"] == "2026-02-01T00:00:00.000000Z"
    assert checkout["fixes"]["after"]["time_to_mitigate"]["median_seconds"] == 1860.0
    assert data["recurring_factors"] == [
        {"key": "change", "incidents": 3},
        {"key": "detection", "incidents": 3},
    ]


# --- performance ----------------------------------------------------------------------------


def test_fifty_thousand_incidents_are_reviewed_quickly() -> None:
    start = at(1, 1, 0)
    services = [f"service-{n}" for n in range(40)]
    factors = ["detection", "process", "tooling", "change", "capacity", "dependency"]
    records = []
    for n in range(50_000):
        impact = start + timedelta(minutes=17 * n)
        records.append(
            IncidentRecord(
                number=n,
                services=(services[n % 40], services[(n * 7) % 40]),
                severity=n % 4 + 1,
                kind="latency" if n % 3 else "availability",
                impact_started_at=impact,
                detected_at=impact + timedelta(seconds=60 + n % 600),
                declared_at=impact + timedelta(seconds=300 + n % 900),
                acknowledged_at=impact + timedelta(seconds=400 + n % 900),
                mitigated_at=impact + timedelta(seconds=1800 + n % 3600),
                resolved_at=impact + timedelta(seconds=3600 + n % 7200),
                contributing_factors=(factors[n % 6], factors[n % 5]),
                followups_done_at=(impact + timedelta(days=3),) if n % 10 else (None,),
            )
        )

    # CPU time, not wall time: other work on the machine must not fail this test.
    started = time.process_time()
    report = review_reliability(records)
    report.to_dict()
    elapsed = time.process_time() - started

    assert report.incidents == 50_000
    assert elapsed < 2.0  # budget 1 s (DESIGN.md section 11); room for a busy machine
