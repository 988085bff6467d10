"""Filters that format the views' times for people."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from warroom.domain.shared.timefmt import iso
from warroom.web.templating import clock, duration, percent, short_clock, time_tag


def test_clock_reads_the_canonical_form_and_any_aware_time_alike() -> None:
    at = datetime(2026, 11, 26, 10, 4, 5, 123456, tzinfo=UTC)
    assert clock(iso(at)) == clock(at) == "2026-11-26 10:04:05Z"
    assert clock("2026-11-26T11:04:05+01:00") == "2026-11-26 10:04:05Z"
    assert clock(at.astimezone(timezone(timedelta(hours=-5)))) == "2026-11-26 10:04:05Z"
    assert short_clock(iso(at)) == "10:04:05"
    assert clock(None) == short_clock("") == "—"


def test_time_tags_carry_the_machine_readable_time() -> None:
    assert str(time_tag("2026-11-26T10:04:05.000000Z")) == (
        '<time datetime="2026-11-26T10:04:05+00:00">2026-11-26 10:04:05Z</time>'
    )


def test_durations_and_shares() -> None:
    assert duration(3725) == "1h 02m"
    assert duration(None) == "—"
    assert percent(0.125) == "12.5%"
