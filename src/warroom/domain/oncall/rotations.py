"""Building and changing schedules, validated: windows, layers (rotations), schedules,
overrides that never overlap, and swaps. The errors name the field."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from functools import cache
from zoneinfo import ZoneInfo

from warroom.domain.oncall.people import require_handle, require_name
from warroom.domain.oncall.schedules import (
    _DAY,
    MAX_LAYERS,
    MAX_MEMBERS,
    MAX_OVERRIDE,
    MAX_SPAN,
    ROTATIONS,
    UNITS,
    WEEKDAYS,
    YEARS,
    Layer,
    Override,
    Schedule,
    Shift,
    Window,
    final_shifts,
)
from warroom.domain.oncall.zones import require_zone, utc_to_wall
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.domain.shared.text import optional_text
from warroom.domain.shared.timefmt import iso


@cache
def parse_window(text: str) -> Window:
    """``mon-fri 09:00-17:00``, ``sat,sun 00:00-00:00`` (all day), ``mon-sun 18:00-09:00``."""
    try:
        days_part, hours = text.strip().split()
        first, _, last = hours.partition("-")
        start, end = time.fromisoformat(first), time.fromisoformat(last)
    except ValueError:
        raise ValidationError("windows", f"{text!r} is not a window such as 'mon-fri 09:00-17:00'") from None
    days: list[int] = []
    for part in days_part.lower().split(","):
        low, _, high = part.partition("-")
        if low not in WEEKDAYS or (high and high not in WEEKDAYS):
            raise ValidationError(
                "windows", f"{part!r} in {text!r}: days are mon, tue, wed, thu, fri, sat, sun"
            )
        a, b = WEEKDAYS.index(low), WEEKDAYS.index(high or low)
        days.extend(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
    return Window(tuple(sorted(set(days))), start, end)


def layer(
    name: str | None,
    members: Sequence[str],
    start: datetime,
    *,
    rotation: str = "weekly",
    every: int | None = None,
    unit: str | None = None,
    windows: Sequence[Window] = (),
    zone: ZoneInfo | None = None,
) -> Layer:
    """A validated layer. ``rotation`` is daily, weekly or custom (``every`` ``unit``).
    An aware ``start`` is read in ``zone``; a naive one is already wall-clock time."""
    label = require_name(name, "layer.name")
    if not members:
        raise ValidationError(
            "layer.members", f"layer {label} has no members: a rotation needs at least one person"
        )
    if len(members) > MAX_MEMBERS:
        raise ValidationError("layer.members", f"layer {label} has more than {MAX_MEMBERS} members")
    handles = tuple(require_handle(m, "layer.members") for m in members)
    if rotation in ROTATIONS:
        count, kind = ROTATIONS[rotation]
        if every is not None and (every, unit or kind) != (count, kind):
            raise ValidationError(
                "layer.every", f"a {rotation} rotation has a fixed length; use rotation=custom"
            )
    elif rotation == "custom":
        if every is None or unit is None:
            raise ValidationError(
                "layer.every", "a custom rotation needs a length such as 3 days or 12 hours"
            )
        count, kind = every, unit
    else:
        raise ValidationError("layer.rotation", f"{rotation!r} is not daily, weekly or custom")
    if kind not in UNITS:
        raise ValidationError("layer.unit", f"{kind!r} is not days or hours")
    limit = 365 if kind == "days" else 24 * 365
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= limit:
        raise ValidationError("layer.every", f"must be a whole number of {kind} from 1 to {limit}")
    if start.tzinfo is not None:
        if zone is None:
            raise ValidationError(
                "layer.start", "give the hand-off as wall-clock time in the schedule's zone"
            )
        start = utc_to_wall(start, zone)
    return Layer(label, handles, start.replace(second=0, microsecond=0), count, kind, tuple(windows))


def schedule(
    name: str | None,
    time_zone: str | None,
    layers: Sequence[Layer],
    *,
    team: str | None = None,
    description: str | None = None,
    overrides: Sequence[Override] = (),
) -> Schedule:
    """A validated schedule: a known zone, 1..10 layers with unique names."""
    label = require_name(name, "name")
    zone = require_zone(time_zone)
    if not layers:
        raise ValidationError("layers", f"schedule {label} needs at least one layer (a rotation)")
    if len(layers) > MAX_LAYERS:
        raise ValidationError("layers", f"a schedule has at most {MAX_LAYERS} layers")
    names = [item.name for item in layers]
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice:
        raise ValidationError("layers", f"schedule {label} has two layers called {twice!r}")
    for item in layers:
        if not item.members:
            raise ValidationError(
                "layer.members", f"layer {item.name} has no members: a rotation needs at least one person"
            )
    found = Schedule(
        label,
        zone.key,
        tuple(layers),
        team=require_name(team, "team") if team else None,
        description=optional_text(description, "description", limit=500),
    )
    for extra in overrides:
        found = add_override(found, extra)
    return found


def override(
    person: str | None,
    start: datetime,
    end: datetime,
    *,
    replaces: str | None = None,
    note: str | None = None,
) -> Override:
    who = require_handle(person, "person")
    if start.tzinfo is None or end.tzinfo is None:
        raise ValidationError("start", "an override needs times with a zone (e.g. 2026-11-26T18:00Z)")
    if not (YEARS[0] <= start.year <= YEARS[1] and YEARS[0] <= end.year <= YEARS[1]):
        raise ValidationError("start", f"an override lies between the years {YEARS[0]} and {YEARS[1]}")
    if end <= start:
        raise ValidationError("end", "must be after start")
    if end - start > MAX_OVERRIDE:
        raise ValidationError("end", f"an override lasts at most {MAX_OVERRIDE.days} days")
    return Override(
        who,
        start,
        end,
        require_handle(replaces, "replaces") if replaces else None,
        optional_text(note, "note", limit=500),
    )


def add_override(found: Schedule, item: Override) -> Schedule:
    """``found`` with ``item`` on top; an override overlapping another is refused."""
    for other in found.overrides:
        if other.start < item.end and item.start < other.end:
            raise ValidationError(
                "start",
                f"overlaps the override of {other.person} on {found.name} from {iso(other.start)} to "
                f"{iso(other.end)}; remove it first or pick another stretch",
            )
    return replace(found, overrides=(*found.overrides, item))


def remove_override(found: Schedule, override_id: int) -> Schedule:
    kept = tuple(o for o in found.overrides if o.id != override_id)
    if len(kept) == len(found.overrides):
        raise NotFound(f"schedule {found.name} has no override #{override_id}")
    return replace(found, overrides=kept)


def shift_at(found: Schedule, at: datetime) -> Shift:
    """The whole stretch of the final timeline containing ``at``; raises in a gap."""
    reach = min(max(item.length for item in found.layers) + _DAY, MAX_SPAN / 2)
    for item in final_shifts(found, at - reach, at + reach):
        if item.start <= at < item.end:
            return item
    raise ValidationError("at", f"nobody is on call on {found.name} at {iso(at)}")


def swap(found: Schedule, first_at: datetime, second_at: datetime, *, note: str = "") -> list[Override]:
    """Two overrides that swap the shifts containing ``first_at`` and ``second_at``."""
    first, second = shift_at(found, first_at), shift_at(found, second_at)
    if first.person == second.person:
        raise ValidationError("with", f"both shifts belong to {first.person}; a swap needs two people")
    if first.start < second.end and second.start < first.end:
        raise ValidationError("with", "the two shifts overlap; pick two separate shifts")
    return [
        override(second.person, first.start, first.end, replaces=first.person, note=note or "swap"),
        override(first.person, second.start, second.end, replaces=second.person, note=note or "swap"),
    ]
