"""The reliability report on SQLite, checked against figures computed by hand from
``fixtures/history.json`` (the arithmetic is in the comments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.incidents.fakes import FakeClock
from tests.learning.conftest import GOOD_SECTIONS, scripted_incident
from warroom.services.learning import operations as lops

FIXTURES = Path(__file__).parent / "fixtures"
H, M = 3600.0, 60.0


@pytest.fixture
def imported(app: Any) -> Any:
    result = lops.import_history(
        app.context, "ops", {"format": "json", "content": (FIXTURES / "history.json").read_text()}
    )
    assert result == {"format": "json", "read": 4, "imported": 4, "skipped": 0}
    return app


def _pair(summary: dict[str, Any]) -> tuple[float | None, float | None]:
    return summary["median_seconds"], summary["p90_seconds"]


def test_overall_medians_and_p90s(imported: Any) -> None:
    report = lops.report(imported.context, {})
    assert report["incidents"] == 4
    overall = report["overall"]
    # detect: C1 5m, C2 30m, C3 1m (S1 has no impact start) -> [60, 300, 1800]:
    # median 300; p90 rank 1.8 -> 300 + 0.8 * 1500 = 1500
    assert _pair(overall["time_to_detect"]) == (300.0, 1500.0)
    assert overall["time_to_detect"]["count"] == 3
    # declare: [60, 300, 600, 1800]: median (300 + 600) / 2; p90 rank 2.7 -> 600 + 0.7 * 1200
    assert _pair(overall["time_to_declare"]) == pytest.approx((450.0, 1440.0))
    # acknowledge: [120, 300, 600, 1200]: 450; 600 + 0.7 * 600
    assert _pair(overall["time_to_acknowledge"]) == pytest.approx((450.0, 1020.0))
    # mitigate from impact start (S1 from detection): [12m, 40m, 70m, 120m] = [720, 2400, 4200, 7200]
    assert _pair(overall["time_to_mitigate"]) == pytest.approx((3300.0, 6300.0))
    # resolve: [1920, 4200, 10800]: 4200; 4200 + 0.8 * 6600
    assert _pair(overall["time_to_resolve"]) == pytest.approx((4200.0, 9480.0))
    assert overall["time_to_resolve"]["count"] == 3


def test_per_service_severity_and_month(imported: Any) -> None:
    report = lops.report(imported.context, {})
    services = {s["service"]: s for s in report["by_service"]}
    assert sorted(services) == ["checkout", "search"]
    checkout = services["checkout"]
    assert checkout["incidents"] == 3
    # mitigate: [720, 2400, 7200]: 2400; 2400 + 0.8 * 4800
    assert _pair(checkout["time_to_mitigate"]) == pytest.approx((2400.0, 6240.0))
    # window: 2026-01-05 10:00 to 2026-02-20 08:00 = 45 d 22 h -> 3 / (45.9167 / 30)
    assert checkout["incidents_per_30_days"] == pytest.approx(3 / (45 + 22 / 24) * 30)
    severities = {g["key"]: g for g in report["by_severity"]}
    assert {key: g["incidents"] for key, g in severities.items()} == {"SEV1": 1, "SEV2": 2, "SEV3": 1}
    # SEV2: C1 2400, C3 720 -> median 1560; p90 720 + 0.9 * 1680
    assert _pair(severities["SEV2"]["time_to_mitigate"]) == pytest.approx((1560.0, 2232.0))
    assert [(g["key"], g["incidents"]) for g in report["by_month"]] == [("2026-01", 2), ("2026-02", 2)]
    assert {k["key"]: k["incidents"] for k in report["by_kind"]} == {
        "availability": 2,
        "data_integrity": 1,
        "latency": 1,
    }


def test_fixes_before_and_after_and_recurring_factors(imported: Any) -> None:
    report = lops.report(imported.context, {})
    fixes = {s["service"]: s["fixes"] for s in report["by_service"]}
    # C1's follow-up done 01-20 (before C2 on 01-25), C2's done 02-01 (before C3 on 02-20),
    # C3 has none: every earlier follow-up was done by 2026-02-01.
    checkout = fixes["checkout"]
    assert checkout["status"] == "done"
    assert checkout["fixes_done_at"] == "2026-02-01T00:00:00.000000Z"
    before, after = checkout["before"], checkout["after"]
    assert (before["incidents"], after["incidents"]) == (2, 1)
    # before: 01-05 10:00 .. 02-01 00:00 = 26 d 14 h; after: 02-01 .. 02-20 08:00 = 19 d 8 h
    assert before["incidents_per_30_days"] == pytest.approx(2 / (26 + 14 / 24) * 30)
    assert after["incidents_per_30_days"] == pytest.approx(1 / (19 + 8 / 24) * 30)
    assert before["time_to_mitigate"]["median_seconds"] == pytest.approx((2400 + 7200) / 2)
    assert after["time_to_mitigate"]["median_seconds"] == 720.0
    assert fixes["search"]["status"] == "open"  # S1's follow-up is not done
    # change: C1, C2, S1; detection and capacity once each: only change recurs
    assert report["recurring_factors"] == [{"key": "change", "incidents": 3}]


def test_filters_narrow_the_review(imported: Any) -> None:
    ctx = imported.context
    february = lops.report(ctx, {"since": "2026-02", "until": "2026-03-01"})
    assert february["incidents"] == 2
    assert february["window"] == {
        "start": "2026-02-01T00:00:00.000000Z",
        "end": "2026-03-01T00:00:00.000000Z",
    }
    checkout = lops.report(ctx, {"service": "checkout"})
    assert checkout["incidents"] == 3 and [s["service"] for s in checkout["by_service"]] == ["checkout"]
    sev2 = lops.report(ctx, {"severity": "SEV2"})
    assert sev2["incidents"] == 2 and [g["key"] for g in sev2["by_severity"]] == ["SEV2"]
    assert lops.report(ctx, {"since": "2027-01-01"})["incidents"] == 0


def test_csv_of_the_same_history_gives_the_same_report(app: Any, build_app: Any, tmp_path: Path) -> None:
    other = build_app(f"sqlite:///{tmp_path / 'csv.db'}")
    lops.import_history(
        other.context, "ops", {"format": "csv", "content": (FIXTURES / "history.csv").read_text()}
    )
    lops.import_history(
        app.context, "ops", {"format": "json", "content": (FIXTURES / "history.json").read_text()}
    )
    from_csv, from_json = lops.report(other.context, {}), lops.report(app.context, {})
    assert from_csv == from_json


def test_warroom_incidents_join_the_imported_history(any_app: Any, clock: FakeClock) -> None:
    ctx = any_app.context
    lops.import_history(ctx, "ops", {"format": "json", "content": (FIXTURES / "history.json").read_text()})
    ref = scripted_incident(ctx, clock)
    lops.postmortem_edit(ctx, "sam", ref, GOOD_SECTIONS)
    report = lops.report(ctx, {})
    assert report["incidents"] == 5
    assert {s["service"] for s in report["by_service"]} == {"checkout", "payments", "search"}
    # the scripted incident adds change and detection: both recur now
    assert {f["key"]: f["incidents"] for f in report["recurring_factors"]} == {"change": 4, "detection": 2}
    # a later timeline event makes its record stale; the next review rebuilds it
    lops.followup_add(ctx, "sam", ref, {"title": "Canary", "owner": "erin", "due": "7d", "kind": "prevent"})
    payments = next(s for s in lops.report(ctx, {})["by_service"] if s["service"] == "payments")
    assert payments["fixes"]["status"] == "open"
    assert payments["time_to_mitigate"]["median_seconds"] == 2340.0
