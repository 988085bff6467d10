"""Schedules in use: who is on call now or at a time, the timeline, overrides and swaps."""

from __future__ import annotations

from datetime import datetime, timedelta

from warroom.domain.oncall import rotations as rot
from warroom.domain.oncall import schedules as sch
from warroom.domain.oncall.people import require_handle, require_name
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.oncall.directory import load_directory
from warroom.services.shared.context import Context

MAX_DAYS = 92


def _schedules(ctx: Context, at: datetime) -> dict[str, sch.Schedule]:
    with ctx.read() as uow:
        return {s.name: s for s in uow.oncall.schedules(at - timedelta(days=1))}


def on_call(
    ctx: Context, at: datetime | None = None, *, schedule: str | None = None, service: str | None = None
) -> list[sch.OnCall | tuple[str, None]]:
    """Who each schedule (or the one named, or the ones a service's policy reaches) has on
    call at ``at`` (default now); a schedule in a gap gives ``(name, None)``."""
    when = at or ctx.clock.now()
    if service is not None:
        with ctx.read() as uow:
            found = load_directory(ctx, uow, when)
        chosen = found.policy_for([require_name(service, "service")], None) or found.fallback
        if chosen is None:
            raise ValidationError(
                "service", f"no escalation policy names {service!r} and there is no fallback policy"
            )
        names = [t.name for s in chosen.steps for t in s.targets if t.kind == "schedule"]
        schedules = {n: found.schedules[n] for n in names if n in found.schedules}
    else:
        schedules = _schedules(ctx, when)
        if schedule is not None:
            if schedule not in schedules:
                raise ValidationError("schedule", f"no schedule {schedule!r}")
            schedules = {schedule: schedules[schedule]}
    return [sch.who_is_on_call(s, when) or (name, None) for name, s in schedules.items()]


def timeline(
    ctx: Context, name: str, start: datetime | None = None, days: float = 14
) -> tuple[sch.Schedule, list[sch.Shift]]:
    if not 0 < days <= MAX_DAYS:
        raise ValidationError("days", f"must be more than 0 and at most {MAX_DAYS}")
    begin = start or ctx.clock.now()
    with ctx.read() as uow:
        found = uow.oncall.schedule(name)
    if found is None:
        raise NotFound(f"no schedule {name!r}")
    return found, sch.final_shifts(found, begin, begin + timedelta(days=days))


def next_shifts(ctx: Context, person: str, days: float = 28) -> list[tuple[str, sch.Shift]]:
    """``person``'s current and coming shifts on every schedule, soonest first."""
    who = require_handle(person, "person")
    if not 0 < days <= MAX_DAYS:
        raise ValidationError("days", f"must be more than 0 and at most {MAX_DAYS}")
    now = ctx.clock.now()
    found = []
    for name, item in _schedules(ctx, now).items():
        found += [(name, s) for s in sch.next_shifts(item, who, now, days=int(days) or 1, limit=50)]
    return sorted(found, key=lambda pair: pair[1].start)


def add_override(
    ctx: Context,
    name: str,
    person: str,
    start: datetime,
    end: datetime,
    actor: str,
    *,
    replaces: str | None = None,
    note: str | None = None,
) -> sch.Override:
    """Cover a stretch of ``name`` with ``person``; an overlapping override is refused."""
    item = rot.override(person, start, end, replaces=replaces, note=note)
    with ctx.uow() as uow:
        uow.oncall.lock_schedule(name)
        found = uow.oncall.schedule(name)
        if found is None:
            raise NotFound(f"no schedule {name!r}")
        if uow.oncall.person(item.person) is None:
            raise ValidationError("person", f"no person {item.person!r} in the on-call directory")
        rot.add_override(found, item)
        new_id = uow.oncall.add_override(name, item, actor, ctx.clock.now())
        uow.commit()
    return sch.Override(item.person, item.start, item.end, item.replaces, item.note, new_id)


def swap(ctx: Context, name: str, first_at: datetime, second_at: datetime, actor: str) -> list[sch.Override]:
    """Swap the shifts of ``name`` containing the two times, as two overrides."""
    with ctx.uow() as uow:
        uow.oncall.lock_schedule(name)
        found = uow.oncall.schedule(name)
        if found is None:
            raise NotFound(f"no schedule {name!r}")
        pair = rot.swap(found, first_at, second_at, note=f"swap by {actor}")
        made = []
        for item in pair:
            found = rot.add_override(found, item)
            made.append(
                sch.Override(
                    **{**item.__dict__, "id": uow.oncall.add_override(name, item, actor, ctx.clock.now())}
                )
            )
        uow.commit()
    return made


def remove_override(ctx: Context, name: str, override_id: int) -> None:
    with ctx.uow() as uow:
        if not uow.oncall.remove_override(name, override_id):
            raise NotFound(f"schedule {name} has no override #{override_id}")
        uow.commit()


FEED_BEFORE = timedelta(days=7)
FEED_AFTER = timedelta(days=60)


def feed(ctx: Context, kind: str, name: str) -> tuple[str, list[tuple[str, sch.Shift]]]:
    """The shifts of a calendar feed: a schedule's, or a person's on every schedule, from a
    week ago to two months ahead."""
    now = ctx.clock.now()
    begin, end = now - FEED_BEFORE, now + FEED_AFTER
    found = _schedules(ctx, begin)
    if kind == "schedule":
        if name not in found:
            raise NotFound(f"no schedule {name!r}")
        return name, [(name, s) for s in sch.final_shifts(found[name], begin, end)]
    who = require_handle(name, "person")
    shifts = [
        (n, s) for n, item in found.items() for s in sch.final_shifts(item, begin, end) if s.person == who
    ]
    return who, sorted(shifts, key=lambda pair: pair[1].start)
