"""Schedules: rotations in layers, overrides on top, and who is on call at an instant.

A **layer** is a rotation: its members take turns, each for one shift. A shift of whole
days (daily, weekly, every N days) hands off at the same wall-clock time in the
schedule's zone whatever the season, so a daily 09:00 hand-off in Europe/Berlin lasts 23
hours on the day clocks go forward and 25 on the day they go back. A shift of hours is
that many elapsed hours. A layer may be restricted to **windows** (weekdays 09:00-17:00,
nights 18:00-09:00); outside them it has nobody and the layers below show through.

Later layers sit above earlier ones; an **override** (someone covers a stretch of time,
or two people swap shifts) sits above every layer. Overrides of one schedule never
overlap. The result is one timeline in which each instant has at most one person: a gap
only where no layer is active.

Every boundary is computed from the layer's first hand-off and a shift number, never by
stepping from the previous one, so a question about any instant costs the same.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

from warroom.domain.oncall.zones import require_zone, utc_to_wall, wall_to_utc
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import human_duration, iso

UNITS = ("days", "hours")
ROTATIONS = {"daily": (1, "days"), "weekly": (7, "days")}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_MEMBERS = 100
MAX_LAYERS = 10
MAX_OVERRIDE = timedelta(days=92)
MAX_SPAN = timedelta(days=400)  # the longest stretch one timeline question may cover
_DAY = timedelta(days=1)
YEARS = (1971, 9000)  # far enough apart for any rota, and far from datetime's limits


@dataclass(frozen=True)
class Window:
    """When a layer is active, in the schedule's zone: from ``start`` on each of ``days``
    (0 = Monday) until ``end``, the next day when ``end`` is not after ``start``."""

    days: tuple[int, ...]
    start: time
    end: time

    def occurrences(self, first: date, last: date, zone: ZoneInfo) -> Iterator[tuple[datetime, datetime]]:
        """The window's intervals (aware UTC) starting on local dates ``first``..``last``."""
        day = first
        while day <= last:
            if day.weekday() in self.days:
                ends_on = day + _DAY if self.end <= self.start else day
                begin = wall_to_utc(datetime.combine(day, self.start), zone)
                finish = wall_to_utc(datetime.combine(ends_on, self.end), zone)
                if finish > begin:
                    yield begin, finish
            day += _DAY

    @property
    def label(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in self.days)
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Layer:
    """A rotation: ``members`` take turns, each for ``every`` ``unit`` (days or hours),
    the first from ``start`` (naive wall-clock time in the schedule's zone)."""

    name: str
    members: tuple[str, ...]
    start: datetime
    every: int = 7
    unit: str = "days"
    windows: tuple[Window, ...] = ()

    @cached_property
    def length(self) -> timedelta:
        return timedelta(days=self.every) if self.unit == "days" else timedelta(hours=self.every)

    @cached_property
    def _anchor(self) -> dict[str, datetime]:
        return {}  # the first hand-off in UTC, per zone key (hour shifts count from it)

    def boundary(self, k: int, zone: ZoneInfo) -> datetime:
        """When shift number ``k`` starts (aware UTC); shift 0 starts at ``start``."""
        if self.unit == "days":
            return wall_to_utc(self.start + k * self.length, zone)
        anchor = self._anchor.get(zone.key)
        if anchor is None:
            anchor = self._anchor[zone.key] = wall_to_utc(self.start, zone)
        return anchor + k * self.length

    def locate(self, at: datetime, zone: ZoneInfo) -> tuple[int, datetime, datetime]:
        """The number of the shift containing ``at`` (negative before the first), its start and end."""
        if self.unit == "hours":
            k = (at - self.boundary(0, zone)) // self.length
            begin = self.boundary(k, zone)
            return k, begin, begin + self.length
        k = (utc_to_wall(at, zone) - self.start) // self.length
        begin = self.boundary(k, zone)
        while begin > at:
            k -= 1
            begin = self.boundary(k, zone)
        end = self.boundary(k + 1, zone)
        while end <= at:
            k, begin = k + 1, end
            end = self.boundary(k + 1, zone)
        return k, begin, end

    def index_at(self, at: datetime, zone: ZoneInfo) -> int:
        """The number of the shift that contains ``at`` (negative before the first)."""
        return self.locate(at, zone)[0]

    def member(self, k: int) -> str:
        return self.members[k % len(self.members)]

    def active(self, at: datetime, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
        """The window occurrence containing ``at`` (the whole time without windows)."""
        if not self.windows:
            return (datetime.min.replace(tzinfo=at.tzinfo), datetime.max.replace(tzinfo=at.tzinfo))
        today = utc_to_wall(at, zone).date()
        for window in self.windows:
            # An occurrence containing ``at`` starts today, or yesterday when it runs past midnight.
            first = today - _DAY if window.end <= window.start else today
            for begin, finish in window.occurrences(first, today, zone):
                if begin <= at < finish:
                    return begin, finish
        return None

    def on_call(self, at: datetime, zone: ZoneInfo) -> tuple[str, datetime, datetime] | None:
        """Who this layer has at ``at``, and the stretch of that shift in its window."""
        k, begin, finish = self.locate(at, zone)
        if k < 0:
            return None
        window = self.active(at, zone)
        if window is None:
            return None
        return self.member(k), max(begin, window[0]), min(finish, window[1])

    def shifts(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[tuple[datetime, datetime, str]]:
        """This layer's shifts clipped to ``[start, end)`` and to its windows, in order."""
        pieces: list[tuple[datetime, datetime, str]] = []
        k = max(self.index_at(start, zone), 0)
        while True:
            begin, finish = self.boundary(k, zone), self.boundary(k + 1, zone)
            if begin >= end:
                break
            begin, finish = max(begin, start), min(finish, end)
            if finish > begin:
                pieces.append((begin, finish, self.member(k)))
            k += 1
        if not self.windows:
            return pieces
        return _clip(pieces, self._window_intervals(start, end, zone))

    def _window_intervals(
        self, start: datetime, end: datetime, zone: ZoneInfo
    ) -> list[tuple[datetime, datetime]]:
        first, last = utc_to_wall(start, zone).date() - _DAY, utc_to_wall(end, zone).date() + _DAY
        spans = sorted(span for w in self.windows for span in w.occurrences(first, last, zone))
        merged: list[tuple[datetime, datetime]] = []
        for begin, finish in spans:
            if merged and begin <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], finish))
            else:
                merged.append((begin, finish))
        return merged


def _clip(
    pieces: list[tuple[datetime, datetime, str]], spans: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime, str]]:
    clipped = []
    for begin, finish, who in pieces:
        for s, e in spans:
            if e <= begin:
                continue
            if s >= finish:
                break
            clipped.append((max(begin, s), min(finish, e), who))
    return clipped


@dataclass(frozen=True)
class Override:
    """``person`` is on call from ``start`` to ``end`` (aware UTC), above every layer."""

    person: str
    start: datetime
    end: datetime
    replaces: str | None = None
    note: str = ""
    id: int = 0


@dataclass(frozen=True)
class Shift:
    """One stretch of the final timeline: who, from when to when, and from which layer
    (or ``override``)."""

    person: str
    start: datetime
    end: datetime
    source: str

    @property
    def override(self) -> bool:
        return self.source == "override"

    def view(self) -> dict[str, object]:
        return {
            "person": self.person,
            "start": iso(self.start),
            "end": iso(self.end),
            "source": self.source,
            "override": self.override,
            "length": human_duration(self.end - self.start),
        }


@dataclass(frozen=True)
class Schedule:
    name: str
    time_zone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()
    team: str | None = None
    description: str = ""
    _starts: tuple[datetime, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.overrides, key=lambda o: o.start))
        object.__setattr__(self, "overrides", ordered)
        object.__setattr__(self, "_starts", tuple(o.start for o in ordered))

    @cached_property
    def zone(self) -> ZoneInfo:
        return require_zone(self.time_zone)

    @property
    def members(self) -> list[str]:
        return list(dict.fromkeys(m for layer in self.layers for m in layer.members))

    def override_at(self, at: datetime) -> Override | None:
        i = bisect.bisect_right(self._starts, at) - 1
        if i >= 0 and self.overrides[i].end > at:
            return self.overrides[i]
        return None


@dataclass(frozen=True)
class OnCall:
    """Who a schedule has on call at an instant, and the stretch of that source's shift."""

    schedule: str
    person: str
    source: str
    since: datetime
    until: datetime


def who_is_on_call(schedule: Schedule, at: datetime) -> OnCall | None:
    """The one person ``schedule`` has at ``at`` (aware), or None in a gap."""
    found = schedule.override_at(at)
    if found is not None:
        return OnCall(schedule.name, found.person, "override", found.start, found.end)
    zone = schedule.zone
    for layer in reversed(schedule.layers):
        hit = layer.on_call(at, zone)
        if hit is not None:
            return OnCall(schedule.name, hit[0], layer.name, hit[1], hit[2])
    return None


def final_shifts(schedule: Schedule, start: datetime, end: datetime) -> list[Shift]:
    """The timeline of ``[start, end)``: overrides above the top layer above the next;
    adjoining stretches of one person from one source are joined."""
    if end <= start:
        return []
    if end - start > MAX_SPAN:
        raise ValidationError("until", f"a timeline covers at most {MAX_SPAN.days} days")
    zone = schedule.zone
    sources: list[tuple[str, list[tuple[datetime, datetime, str]]]] = [
        (layer.name, layer.shifts(start, end, zone)) for layer in schedule.layers
    ]
    overrides = [(max(o.start, start), min(o.end, end), o.person) for o in schedule.overrides]
    sources.append(("override", [o for o in overrides if o[1] > o[0]]))
    cuts = sorted({start, end, *(t for _, pieces in sources for p in pieces for t in p[:2])})
    pointers = [0] * len(sources)
    timeline: list[Shift] = []
    for begin, finish in itertools.pairwise(cuts):
        chosen: tuple[str, str] | None = None
        for i, (name, pieces) in enumerate(sources):
            while pointers[i] < len(pieces) and pieces[pointers[i]][1] <= begin:
                pointers[i] += 1
            if pointers[i] < len(pieces) and pieces[pointers[i]][0] <= begin:
                chosen = (pieces[pointers[i]][2], name)  # later sources win
        if chosen is None:
            continue
        last = timeline[-1] if timeline else None
        if last is not None and last.end == begin and (last.person, last.source) == chosen:
            timeline[-1] = replace(last, end=finish)
        else:
            timeline.append(Shift(chosen[0], begin, finish, chosen[1]))
    return timeline


def next_shifts(
    schedule: Schedule, person: str, now: datetime, *, days: int = 28, limit: int = 10
) -> list[Shift]:
    """``person``'s current and next shifts on ``schedule`` within ``days``."""
    shifts = final_shifts(schedule, now, now + timedelta(days=days))
    return [s for s in shifts if s.person == person][:limit]
