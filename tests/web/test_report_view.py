"""The report page's charts and rates: no empty charts, no rate from too little data,
labels drawn at a size a phone can read."""

from __future__ import annotations

import itertools
import re
from typing import Any

from warroom.web.report_charts import WIDTH, bars, columns
from warroom.web.report_view import charts, rate_text


def _summary(median: float | None) -> dict[str, Any]:
    return {"median_seconds": median, "p90_seconds": median}


def test_a_rate_per_30_days_needs_a_week_of_data() -> None:
    assert rate_text(4, "2026-01-01T10:00:00Z", "2026-01-01T10:15:00Z") == "4 in under an hour"
    assert rate_text(3, "2026-01-01T00:00:00Z", "2026-01-03T12:00:00Z") == "3 in 2 days"
    assert rate_text(2, "2026-01-01T00:00:00Z", "2026-01-01T05:00:00Z") == "2 in 5 hours"
    assert rate_text(6, "2026-01-01T00:00:00Z", "2026-03-02T00:00:00Z") == "3.00 per 30 days"
    assert rate_text(1, None, "2026-01-01T00:00:00Z") == "1 (no time span)"


def test_charts_with_nothing_to_draw_say_why_instead() -> None:
    view = {
        "by_month": [{"key": "2026-11", "incidents": 4, "time_to_mitigate": _summary(600.0)}],
        "by_service": [
            {"key": "checkout", "time_to_mitigate": _summary(600.0), "fixes": {"status": "open"}},
        ],
        "recurring_factors": [],
    }
    drawn = {c["title"]: c for c in charts(view)}
    assert drawn["Incidents per month"]["svg"] is not None
    assert drawn["Time to mitigate per service (median, p90)"]["svg"] is not None
    fixes = drawn["Incidents per 30 days before and after each service's follow-ups were done"]
    assert fixes["svg"] is None and "No service has all its follow-ups done yet" in fixes["empty"]
    factors = drawn["Contributing-factor types that recur (incidents)"]
    assert factors["svg"] is None and "two or more incidents" in factors["empty"]
    assert all("no data" not in str(c["svg"]) for c in drawn.values())


def test_fixes_measured_over_less_than_a_week_are_not_charted_as_rates() -> None:
    period = {
        "start": "2026-11-01T10:00:00Z",
        "end": "2026-11-01T10:15:00Z",
        "incidents": 1,
        "incidents_per_30_days": 2880.0,
    }
    view = {
        "by_month": [],
        "by_service": [
            {
                "key": "checkout",
                "time_to_mitigate": _summary(None),
                "fixes": {"status": "done", "before": period, "after": period},
            }
        ],
        "recurring_factors": [],
    }
    fixes = charts(view)[3]
    assert fixes["svg"] is None and "a week of data" in fixes["empty"]


def test_chart_text_is_drawn_at_phone_width_and_labels_do_not_overlap() -> None:
    months = [(f"2026-{m:02d}", float(m)) for m in range(1, 13)]
    svg = columns("Incidents per month", months)
    assert f'viewBox="0 0 {WIDTH} ' in svg and WIDTH <= 390
    xs = [float(x) for x in re.findall(r'class="chart-label" x="([\d.]+)"', svg)]
    assert len(xs) >= 3 and all(b - a >= 7 * 7.2 for a, b in itertools.pairwise(xs))
    long = bars("t", [("a-very-long-service-name-indeed", (60.0, 120.0))], ("median", "p90"))
    assert "a-very-long-s…" in long and ">a-very-long-service-name-indeed<" not in long
