"""The load figures: percentiles, pages per week, out of hours in each person's zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from warroom.domain.oncall import load as ld
from warroom.domain.oncall.pages import PageStatus, open_page

T = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def test_out_of_hours_is_judged_in_the_persons_zone() -> None:
    assert not ld.out_of_hours(T, "Europe/Berlin")  # 13:00 in Berlin
    assert ld.out_of_hours(T, "Asia/Tokyo")  # 21:00 in Tokyo
    assert ld.out_of_hours(datetime(2026, 11, 28, 12, tzinfo=UTC), "UTC")  # a Saturday


def test_acknowledgement_figures_group_by_team_and_person() -> None:
    from dataclasses import replace

    pages = []
    for i, (team, who, secs) in enumerate([("a", "x", 60), ("a", "y", 120), ("b", "x", 600)], start=1):
        page = replace(open_page(title="t", by="s", now=T, policy="p", team=team), id=i)
        pages.append(
            replace(page, status=PageStatus.ACKNOWLEDGED, acked_at=T + timedelta(seconds=secs), acked_by=who)
        )
    paged = [ld.Paged(p.id, p.acked_by or "", T) for p in pages]
    found = ld.load(pages, paged, {"x": "Asia/Tokyo"}, T, T + timedelta(weeks=2))
    assert found["time_to_acknowledge"] == {"pages": 3, "median_seconds": 120.0, "p90_seconds": 600.0}
    assert [r["team"] for r in found["by_team"]] == ["a", "b"]
    assert found["people"][0] == {
        "person": "x",
        "pages": 2,
        "per_week": 1.0,
        "busiest_week": 2,
        "out_of_hours": 2,
        "time_zone": "Asia/Tokyo",
    }
