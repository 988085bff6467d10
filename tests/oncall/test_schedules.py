"""Rotations, layers, overrides and swaps: who is on call, hand-offs across DST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.oncall.builders import weekly
from warroom.domain.oncall import rotations as rot
from warroom.domain.oncall import schedules as sch
from warroom.domain.oncall.zones import require_zone
from warroom.domain.shared.errors import ValidationError


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_a_weekly_rotation_hands_off_at_the_local_time_each_week() -> None:
    s = weekly("payments", ["alice", "bob", "carol"])
    assert sch.who_is_on_call(s, at("2026-11-23T09:00+01:00")).person == "alice"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-11-30T08:59+01:00")).person == "alice"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-11-30T09:00+01:00")).person == "bob"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-12-14T09:00+01:00")).person == "alice"  # type: ignore[union-attr]


def test_nobody_is_on_call_before_the_first_hand_off() -> None:
    s = weekly("payments", ["alice"])
    assert sch.who_is_on_call(s, at("2026-11-23T08:59+01:00")) is None


def test_a_daily_hand_off_keeps_its_wall_clock_time_across_both_dst_changes() -> None:
    layer = rot.layer("days", ["alice", "bob"], datetime(2026, 3, 27, 9), rotation="daily")
    s = rot.schedule("berlin", "Europe/Berlin", [layer])
    shifts = sch.final_shifts(s, at("2026-03-27T09:00+01:00"), at("2026-03-31T09:00+02:00"))
    zone = require_zone("Europe/Berlin")
    assert [x.start.astimezone(zone).hour for x in shifts] == [9, 9, 9, 9]
    lengths = [x.end - x.start for x in shifts]
    assert lengths == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24), timedelta(hours=24)]
    autumn = rot.schedule(
        "berlin", "Europe/Berlin", [rot.layer("d", ["a", "b"], datetime(2026, 10, 24, 9), rotation="daily")]
    )
    lengths = [
        x.end - x.start
        for x in sch.final_shifts(autumn, at("2026-10-24T09:00+02:00"), at("2026-10-26T09:00+01:00"))
    ]
    assert lengths == [timedelta(hours=25), timedelta(hours=24)]


def test_a_hand_off_inside_the_skipped_hour_happens_just_after_it() -> None:
    layer = rot.layer("night", ["alice", "bob"], datetime(2026, 3, 28, 2, 30), rotation="daily")
    s = rot.schedule("berlin", "Europe/Berlin", [layer])
    # 02:30 does not exist on 29 March in Berlin: bob takes over at 03:30 summer time
    assert sch.who_is_on_call(s, at("2026-03-29T03:29+02:00")).person == "alice"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-03-29T03:30+02:00")).person == "bob"  # type: ignore[union-attr]


def test_hour_shifts_are_elapsed_hours() -> None:
    layer = rot.layer(
        "twelve", ["a", "b"], datetime(2026, 10, 24, 21), rotation="custom", every=12, unit="hours"
    )
    s = rot.schedule("s", "Europe/Berlin", [layer])
    shifts = sch.final_shifts(s, at("2026-10-24T21:00+02:00"), at("2026-10-26T00:00+01:00"))
    assert all(x.end - x.start == timedelta(hours=12) for x in shifts[:-1])


def test_a_higher_layer_wins_inside_its_window_and_the_lower_shows_through_outside() -> None:
    base = rot.layer("base", ["alice"], datetime(2026, 11, 2, 0), rotation="weekly")
    days = rot.layer(
        "office",
        ["bob"],
        datetime(2026, 11, 2, 0),
        rotation="weekly",
        windows=[rot.parse_window("mon-fri 09:00-17:00")],
    )
    s = rot.schedule("s", "Europe/Berlin", [base, days])
    assert sch.who_is_on_call(s, at("2026-11-26T10:00+01:00")).person == "bob"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-11-26T18:00+01:00")).person == "alice"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-11-28T10:00+01:00")).person == "alice"  # type: ignore[union-attr]


def test_a_restricted_layer_alone_has_gaps() -> None:
    nights = rot.layer(
        "nights",
        ["carol"],
        datetime(2026, 11, 2, 0),
        rotation="weekly",
        windows=[rot.parse_window("mon-sun 18:00-09:00")],
    )
    s = rot.schedule("s", "UTC", [nights])
    assert sch.who_is_on_call(s, at("2026-11-26T12:00Z")) is None
    assert sch.who_is_on_call(s, at("2026-11-26T23:00Z")).person == "carol"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-11-27T08:59Z")).person == "carol"  # type: ignore[union-attr]


def test_an_override_covers_a_stretch_and_overlapping_ones_are_refused() -> None:
    s = weekly("payments", ["alice", "bob"])
    cover = rot.override("dave", at("2026-11-26T18:00Z"), at("2026-11-27T06:00Z"), replaces="alice")
    s = rot.add_override(s, cover)
    assert sch.who_is_on_call(s, at("2026-11-26T20:00Z")).source == "override"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-11-27T06:00Z")).person == "alice"  # type: ignore[union-attr]
    with pytest.raises(ValidationError, match="overlaps the override of dave"):
        rot.add_override(s, rot.override("erin", at("2026-11-27T05:00Z"), at("2026-11-27T07:00Z")))


def test_a_swap_gives_each_person_the_others_shift() -> None:
    s = weekly("payments", ["alice", "bob"])
    pair = rot.swap(s, at("2026-11-24T12:00Z"), at("2026-12-01T12:00Z"))
    for item in pair:
        s = rot.add_override(s, item)
    assert sch.who_is_on_call(s, at("2026-11-24T12:00Z")).person == "bob"  # type: ignore[union-attr]
    assert sch.who_is_on_call(s, at("2026-12-01T12:00Z")).person == "alice"  # type: ignore[union-attr]
    shifts = sch.final_shifts(s, at("2026-11-23T08:00Z"), at("2026-12-07T08:00Z"))
    assert [(x.person, x.override) for x in shifts] == [("bob", True), ("alice", True)]


def test_bad_schedules_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValidationError, match="no members"):
        rot.layer("primary", [], datetime(2026, 1, 1), rotation="weekly")
    with pytest.raises(ValidationError, match="not a known time zone"):
        rot.schedule("s", "Mars/Olympus", [rot.layer("p", ["a"], datetime(2026, 1, 1))])
    with pytest.raises(ValidationError, match="time_zone"):
        rot.schedule("s", "", [rot.layer("p", ["a"], datetime(2026, 1, 1))])
    with pytest.raises(ValidationError, match="at least one layer"):
        rot.schedule("s", "UTC", [])
    with pytest.raises(ValidationError, match="custom"):
        rot.layer("p", ["a"], datetime(2026, 1, 1), rotation="custom")
    with pytest.raises(ValidationError, match="end"):
        rot.override("a", at("2026-01-02T00:00Z"), at("2026-01-01T00:00Z"))
    with pytest.raises(ValidationError, match="windows"):
        rot.parse_window("weekdays 9-5")


def test_next_shifts_lists_a_persons_coming_shifts() -> None:
    s = weekly("payments", ["alice", "bob"])
    shifts = sch.next_shifts(s, "bob", at("2026-11-24T00:00Z"), days=28)
    assert [x.start for x in shifts] == [at("2026-11-30T09:00+01:00"), at("2026-12-14T09:00+01:00")]


def test_a_stored_schedule_document_reads_back_as_the_same_schedule() -> None:
    from warroom.domain.oncall import documents as docs

    nights = rot.layer(
        "nights",
        ["carol"],
        datetime(2026, 11, 2, 18),
        rotation="custom",
        every=12,
        unit="hours",
        windows=[rot.parse_window("mon-fri 18:00-09:00")],
    )
    s = rot.schedule("s", "Europe/Berlin", [weekly("x", ["alice", "bob"]).layers[0], nights], team="payments")
    stored = docs.schedule_doc(s)
    assert docs.schedule_from_stored(stored) == s == docs.schedule_from(stored)
