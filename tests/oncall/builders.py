"""Small builders for the on-call domain tests: people, schedules and policies in a line."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from warroom.domain.oncall import people as pp
from warroom.domain.oncall import policies as pol
from warroom.domain.oncall import rotations as rot
from warroom.domain.oncall import schedules as sch

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def person(handle: str, *methods: tuple[str, str, str], rules: Sequence[tuple[str, float]] = ()) -> pp.Person:
    contacts = [
        pp.contact_method(name, kind, address, "s3cret" if kind == "webhook" else None)
        for name, kind, address in methods
    ]
    return pp.person(
        handle,
        handle.title(),
        contacts=contacts,
        rules=[pp.notification_rule(m, d) for m, d in rules],
        email=f"{handle}@example.com",
    )


def weekly(
    name: str,
    members: Sequence[str],
    start: str = "2026-11-23T09:00",
    zone: str = "Europe/Berlin",
    **kw: object,
) -> sch.Schedule:
    layer = rot.layer("primary", members, datetime.fromisoformat(start), rotation="weekly")
    return rot.schedule(name, zone, [layer], **kw)  # type: ignore[arg-type]


def directory(
    people: Sequence[pp.Person],
    schedules: Sequence[sch.Schedule] = (),
    policies: Sequence[pol.EscalationPolicy] = (),
    teams: Sequence[pol.Team] = (),
) -> pol.Directory:
    return pol.Directory(
        people={p.handle: p for p in people},
        schedules={s.name: s for s in schedules},
        policies={p.name: p for p in policies},
        teams={t.name: t for t in teams},
    )
