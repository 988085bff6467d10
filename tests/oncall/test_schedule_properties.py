"""Property: across DST changes, layers, windows and overrides, the final timeline gives
each instant at most one person, agrees with ``who_is_on_call`` everywhere, and has a
gap only where no layer is active."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from warroom.domain.oncall import rotations as rot
from warroom.domain.oncall import schedules as sch
from warroom.domain.oncall.zones import require_zone

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Santiago", "Asia/Kolkata", "UTC"]
# Windows of three weeks around DST changes in both hemispheres
STARTS = [
    datetime(2026, 3, 20, tzinfo=UTC),
    datetime(2026, 10, 20, tzinfo=UTC),
    datetime(2026, 3, 30, tzinfo=UTC),
    datetime(2026, 3, 1, tzinfo=UTC),
]
PEOPLE = ["alice", "bob", "carol", "dave"]


@st.composite
def layers(draw: st.DrawFn, index: int) -> sch.Layer:
    members = draw(st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=4))
    unit = draw(st.sampled_from(["days", "hours"]))
    every = draw(st.integers(1, 8) if unit == "days" else st.integers(1, 49))
    start = datetime(2026, 3, 1) + timedelta(
        days=draw(st.integers(-40, 260)), minutes=30 * draw(st.integers(0, 47))
    )
    windows = []
    if draw(st.booleans()):
        days = tuple(sorted(set(draw(st.lists(st.integers(0, 6), min_size=1, max_size=7)))))
        begin = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])))
        end = time(draw(st.integers(0, 23)), draw(st.sampled_from([0, 30])))
        windows.append(sch.Window(days, begin, end))
    return rot.layer(
        f"layer{index}", members, start, rotation="custom", every=every, unit=unit, windows=windows
    )


@st.composite
def schedules(draw: st.DrawFn) -> tuple[sch.Schedule, datetime, datetime]:
    zone = draw(st.sampled_from(ZONES))
    count = draw(st.integers(1, 3))
    found = rot.schedule("s", zone, [draw(layers(i)) for i in range(count)])
    begin = draw(st.sampled_from(STARTS)) + timedelta(hours=draw(st.integers(0, 200)))
    end = begin + timedelta(days=21)
    cursor = begin
    for _ in range(draw(st.integers(0, 4))):
        cursor += timedelta(minutes=draw(st.integers(0, 6000)))
        length = timedelta(minutes=draw(st.integers(30, 5000)))
        found = rot.add_override(found, rot.override(draw(st.sampled_from(PEOPLE)), cursor, cursor + length))
        cursor += length
    return found, begin, end


def _active(found: sch.Schedule, at: datetime) -> bool:
    zone = require_zone(found.time_zone)
    if found.override_at(at) is not None:
        return True
    return any(layer.index_at(at, zone) >= 0 and layer.active(at, zone) is not None for layer in found.layers)


@settings(max_examples=300, deadline=None)
@given(schedules(), st.lists(st.floats(0, 1, exclude_max=True), min_size=20, max_size=20))
def test_one_person_per_instant_and_no_gap_the_schedule_does_not_have(
    case: tuple[sch.Schedule, datetime, datetime], probes: list[float]
) -> None:
    found, begin, end = case
    timeline = sch.final_shifts(found, begin, end)
    for a, b in itertools.pairwise(timeline):
        assert a.start < a.end <= b.start  # ordered and disjoint: nobody is on call twice for one slot
        assert not (a.end == b.start and (a.person, a.source) == (b.person, b.source))
    # every instant: the timeline and who_is_on_call agree; a gap only where nothing is active
    cuts = [min(begin + (end - begin) * p, end - timedelta(microseconds=1)) for p in probes]
    cuts += [s.start for s in timeline] + [s.end - timedelta(microseconds=1) for s in timeline]
    cuts += [o.start for o in found.overrides if begin <= o.start < end]
    for at in cuts:
        covering = [s for s in timeline if s.start <= at < s.end]
        assert len(covering) <= 1
        now = sch.who_is_on_call(found, at)
        if covering:
            assert now is not None and now.person == covering[0].person and now.source == covering[0].source
        else:
            assert now is None
            assert not _active(found, at)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(ZONES),
    st.integers(1, 14),
    st.integers(0, 23),
    st.integers(-30, 300),
)
def test_day_shifts_hand_off_at_the_same_wall_clock_time(
    zone_name: str, every: int, hour: int, offset: int
) -> None:
    zone = require_zone(zone_name)
    layer = rot.layer(
        "p",
        ["a", "b", "c"],
        datetime(2026, 1, 1, hour) + timedelta(days=offset),
        rotation="custom",
        every=every,
        unit="days",
    )
    found = rot.schedule("s", zone_name, [layer])
    begin = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=offset)
    for shift in sch.final_shifts(found, begin, begin + timedelta(days=every * 25)):
        local = shift.start.astimezone(zone)
        if shift.start != begin:
            # the hand-off hour, or the hour after it when that wall time was skipped
            assert local.hour in (hour, (hour + 1) % 24) and local.minute == 0
