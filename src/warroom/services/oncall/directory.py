"""The directory: people, teams, schedules and policies, changed and checked as a whole.

Every change is validated against everything else before it is stored: a schedule may
only name people in the directory, a policy only existing targets, and no hand-over may
loop. A refused change stores nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from warroom.domain.comms.notifications import ChannelSpec
from warroom.domain.oncall import documents as docs
from warroom.domain.oncall import policies as pol
from warroom.domain.oncall.people import Person, require_handle, require_name
from warroom.domain.shared.errors import NotFound, ValidationError
from warroom.services.comms.outbox import CONTACT_PREFIX, catalog_or_empty
from warroom.services.ports.uow import UnitOfWork
from warroom.services.shared.context import Context

OVERRIDES_KEPT = timedelta(days=1)  # overrides that ended before this are not needed to page


def _teams(ctx: Context, uow: UnitOfWork) -> dict[str, pol.Team]:
    """The catalog's teams with the stored ones folded in (their members and policies)."""
    teams: dict[str, pol.Team] = {
        t.name: pol.Team(t.name, tuple(t.members), t.escalation_policy) for t in catalog_or_empty(ctx).teams
    }
    for team in uow.oncall.teams():
        known = teams.get(team.name)
        members = team.members or (known.members if known else ())
        teams[team.name] = replace(
            team, members=members, policy=team.policy or (known.policy if known else None)
        )
    return teams


def _service_policies(ctx: Context, uow: UnitOfWork) -> dict[str, str]:
    catalog = catalog_or_empty(ctx)
    return {
        **{s.name: s.escalation_policy for s in catalog.services if s.escalation_policy},
        **uow.oncall.service_policies(),
    }


def load_policies(ctx: Context, uow: UnitOfWork) -> pol.Directory:
    """The part of the directory that chooses a page's policy: policies, the services'
    and the teams' choices. No people and no schedules (with their overrides): alert
    ingest reads this inside its transaction for each incident it declares."""
    return pol.Directory(
        teams=_teams(ctx, uow),
        policies={p.name: p for p in uow.oncall.policies()},
        services=_service_policies(ctx, uow),
    )


def load_directory(ctx: Context, uow: UnitOfWork, now: datetime) -> pol.Directory:
    """Everything on call knows, with the catalog's teams (and their members) folded in."""
    teams = _teams(ctx, uow)
    people = {p.handle: p for p in uow.oncall.people()}
    for person in people.values():
        for name in person.teams:
            team = teams.get(name, pol.Team(name))
            if person.handle not in team.members:
                teams[name] = replace(team, members=(*team.members, person.handle))
    return pol.Directory(
        people=people,
        teams=teams,
        schedules={s.name: s for s in uow.oncall.schedules(now - OVERRIDES_KEPT)},
        policies={p.name: p for p in uow.oncall.policies()},
        services=_service_policies(ctx, uow),
    )


def directory(ctx: Context) -> pol.Directory:
    with ctx.read() as uow:
        return load_directory(ctx, uow, ctx.clock.now())


def _checked(ctx: Context, uow: UnitOfWork, change: Mapping[str, Any]) -> pol.Directory:
    """The directory with ``change`` applied, checked; raises before anything is stored."""
    found = load_directory(ctx, uow, ctx.clock.now())
    changed = replace(found, **change)
    pol.check(changed)
    return changed


def put_person(ctx: Context, document: Mapping[str, Any]) -> tuple[Person, bool]:
    person = docs.person_from(document)
    with ctx.uow() as uow:
        old = uow.oncall.person(person.handle)
        if old is not None and "contacts" not in document:  # keep what a partial edit does not name
            person = replace(person, contacts=old.contacts, rules=person.rules or old.rules)
        found = load_directory(ctx, uow, ctx.clock.now())
        pol.check(replace(found, people={**found.people, person.handle: person}))
        new = uow.oncall.put_person(person, ctx.clock.now())
        uow.commit()
    return person, new


def person_of(ctx: Context, handle: str) -> Person:
    with ctx.read() as uow:
        found = uow.oncall.person(require_handle(handle, "person"))
    if found is None:
        raise NotFound(f"no person {handle!r} in the on-call directory (warroom oncall person add)")
    return found


def edit_person(ctx: Context, handle: str, edit: Any) -> Person:
    """Load ``handle``, let ``edit(person)`` return the changed one, check and store it."""
    with ctx.uow() as uow:
        found = uow.oncall.person(require_handle(handle, "person"))
        if found is None:
            raise NotFound(f"no person {handle!r} in the on-call directory (warroom oncall person add)")
        changed: Person = edit(found)
        directory_now = load_directory(ctx, uow, ctx.clock.now())
        pol.check(replace(directory_now, people={**directory_now.people, changed.handle: changed}))
        uow.oncall.put_person(changed, ctx.clock.now())
        uow.commit()
    return changed


def remove_person(ctx: Context, handle: str) -> None:
    with ctx.uow() as uow:
        found = load_directory(ctx, uow, ctx.clock.now())
        if handle not in found.people:
            raise NotFound(f"no person {handle!r} in the on-call directory")
        people = {k: v for k, v in found.people.items() if k != handle}
        try:
            pol.check(replace(found, people=people))
        except ValidationError as exc:
            raise ValidationError("person", f"{handle} is still named somewhere: {exc.detail}") from None
        uow.oncall.remove_person(handle)
        uow.commit()


def put_team(ctx: Context, document: Mapping[str, Any]) -> pol.Team:
    team = docs.team_from(document)
    with ctx.uow() as uow:
        found = _checked(ctx, uow, {})
        if team.policy and team.policy not in found.policies:
            raise ValidationError("policy", f"no escalation policy {team.policy!r}")
        unknown = [m for m in team.members if m not in found.people]
        if unknown:
            raise ValidationError("members", f"no person {unknown[0]!r} in the on-call directory")
        uow.oncall.put_team(team, ctx.clock.now())
        uow.commit()
    return team


def put_schedule(ctx: Context, document: Mapping[str, Any]) -> tuple[Any, bool]:
    schedule = docs.schedule_from(document)
    with ctx.uow() as uow:
        found = load_directory(ctx, uow, ctx.clock.now())
        pol.check(replace(found, schedules={**found.schedules, schedule.name: schedule}))
        new = uow.oncall.put_schedule(schedule, ctx.clock.now())
        uow.commit()
    return schedule, new


def remove_schedule(ctx: Context, name: str) -> None:
    with ctx.uow() as uow:
        found = load_directory(ctx, uow, ctx.clock.now())
        if name not in found.schedules:
            raise NotFound(f"no schedule {name!r}")
        try:
            pol.check(replace(found, schedules={k: v for k, v in found.schedules.items() if k != name}))
        except ValidationError as exc:
            raise ValidationError("schedule", f"{name} is still named by a policy: {exc.detail}") from None
        uow.oncall.remove_schedule(name)
        uow.commit()


def put_policy(ctx: Context, document: Mapping[str, Any]) -> tuple[pol.EscalationPolicy, bool]:
    policy = docs.policy_from(document)
    with ctx.uow() as uow:
        found = load_directory(ctx, uow, ctx.clock.now())
        pol.check(replace(found, policies={**found.policies, policy.name: policy}))
        new = uow.oncall.put_policy(policy, ctx.clock.now())
        uow.commit()
    return policy, new


def remove_policy(ctx: Context, name: str) -> None:
    with ctx.uow() as uow:
        found = load_directory(ctx, uow, ctx.clock.now())
        if name not in found.policies:
            raise NotFound(f"no escalation policy {name!r}")
        users = [s for s, p in found.services.items() if p == name] + [
            t.name for t in found.teams.values() if t.policy == name
        ]
        if users:
            raise ValidationError("policy", f"{name} is still the policy of {', '.join(users)}")
        try:
            pol.check(replace(found, policies={k: v for k, v in found.policies.items() if k != name}))
        except ValidationError as exc:
            raise ValidationError("policy", f"{name} is still named: {exc.detail}") from None
        uow.oncall.remove_policy(name)
        uow.commit()


def set_service_policy(ctx: Context, service: str, policy: str | None) -> None:
    name = require_name(service, "service")
    with ctx.uow() as uow:
        if policy is not None and policy not in {p.name for p in uow.oncall.policies()}:
            raise ValidationError("policy", f"no escalation policy {policy!r}")
        uow.oncall.set_service_policy(name, policy)
        uow.commit()


def apply_document(ctx: Context, document: Mapping[str, Any]) -> dict[str, int]:
    """Declare people, teams, schedules, policies, service policies and heartbeats at once
    (an ``oncall.yaml``); all of it is checked together, and nothing is stored if any
    part is wrong. Returns how many of each were declared."""
    if not isinstance(document, Mapping):
        raise ValidationError("document", "must be a mapping with people, teams, schedules, policies")
    extra = sorted(set(document) - {"people", "teams", "schedules", "policies", "services", "heartbeats"})
    if extra:
        raise ValidationError(
            extra[0], "is not a section (people, teams, schedules, policies, services, heartbeats)"
        )

    def items(key: str) -> list[Any]:
        value = document.get(key) or []
        if not isinstance(value, list):
            raise ValidationError(key, "must be a list")
        return value

    def each(key: str, parse: Any) -> list[Any]:
        parsed = []
        for index, item in enumerate(items(key), start=1):
            try:
                parsed.append(parse(item))
            except ValidationError as exc:
                raise ValidationError(f"{key}[{index}].{exc.field}", exc.detail) from None
        return parsed

    people = each("people", docs.person_from)
    teams = each("teams", docs.team_from)
    schedules = each("schedules", docs.schedule_from)
    policies = each("policies", docs.policy_from)
    beats = each("heartbeats", docs.heartbeat_from)
    services = document.get("services") or {}
    if not isinstance(services, Mapping) or not all(isinstance(v, str) for v in services.values()):
        raise ValidationError("services", "must map service names to policy names")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        found = load_directory(ctx, uow, now)
        changed = replace(
            found,
            people={**found.people, **{p.handle: p for p in people}},
            teams={**found.teams, **{t.name: t for t in teams}},
            schedules={**found.schedules, **{s.name: s for s in schedules}},
            policies={**found.policies, **{p.name: p for p in policies}},
            services={**found.services, **{require_name(k, "services"): v for k, v in services.items()}},
        )
        pol.check(changed)
        for service, name in services.items():
            if name not in changed.policies:
                raise ValidationError("services", f"{service}: no escalation policy {name!r}")
        for team in teams:
            if team.policy and team.policy not in changed.policies:
                raise ValidationError("teams", f"{team.name}: no escalation policy {team.policy!r}")
        for beat in beats:
            if beat.policy and beat.policy not in changed.policies:
                raise ValidationError("heartbeats", f"{beat.name}: no escalation policy {beat.policy!r}")
        for p in people:
            uow.oncall.put_person(p, now)
        for t in teams:
            uow.oncall.put_team(t, now)
        for s in schedules:
            uow.oncall.put_schedule(s, now)
        for p in policies:
            uow.oncall.put_policy(p, now)
        for service, name in services.items():
            uow.oncall.set_service_policy(service, name)
        for beat in beats:
            uow.oncall.put_heartbeat(beat, now)
        uow.commit()
    return {
        "people": len(people),
        "teams": len(teams),
        "schedules": len(schedules),
        "policies": len(policies),
        "services": len(services),
        "heartbeats": len(beats),
    }


# --- delivery: a contact method as an outbox channel ---------------------------------------

_SPEC_TYPES = {"email": "email", "webhook": "webhook", "slack": "slack", "apprise": "apprise"}


def contact_channel_name(person: str, method: str) -> str:
    return f"{CONTACT_PREFIX}{person}:{method}"


def contact_channel(ctx: Context, name: str) -> ChannelSpec | None:
    """The outbox channel behind ``contact:PERSON:METHOD``, read at delivery time (a fixed
    address is used at once), or None when the person or method is gone."""
    handle, _, method = name.removeprefix(CONTACT_PREFIX).partition(":")
    with ctx.read() as uow:
        person = uow.oncall.person(handle)
    found = person.contact(method) if person is not None else None
    if found is None and person is not None and method == "email" and person.email:
        return ChannelSpec(name, "email", (person.email,))
    if found is None:
        return None
    target: str | tuple[str, ...] = (found.address,) if found.kind == "email" else found.address
    try:
        return ChannelSpec(name, _SPEC_TYPES[found.kind], target, secret=found.secret)  # type: ignore[arg-type]
    except ValueError:
        return None
