"""On-call operations with plain inputs and JSON views out, for the CLI, the API and the web.

Inputs arrive as text, numbers and lists from a command line, a form or a JSON body; they
are parsed here with errors naming the field, so every interface refuses the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from warroom.domain.oncall import documents as docs
from warroom.domain.oncall import people as pp
from warroom.domain.shared.errors import ValidationError
from warroom.domain.shared.timefmt import TIME_FORMS, parse_when
from warroom.services.oncall import directory, pages, schedules, views
from warroom.services.oncall.config import OncallConfig
from warroom.services.shared.context import Context

View = dict[str, Any]


def _time(ctx: Context, body: Mapping[str, Any], key: str) -> datetime | None:
    """A time in the one grammar people type (``timefmt.parse_when``); a bare duration
    (``2h``) counts ahead, as schedules are planned."""
    value = body.get(key)
    if value in (None, ""):
        return None
    if not isinstance(value, str | datetime):
        raise ValidationError(key, f"must be text: {TIME_FORMS}")
    found = value if isinstance(value, datetime) else parse_when(value, key, ctx.clock.now(), ahead=True)
    if not 1971 <= found.year <= 9000:  # rotations are computed from their first hand-off
        raise ValidationError(key, "must be a time between the years 1971 and 9000")
    return found


def _required_time(ctx: Context, body: Mapping[str, Any], key: str) -> datetime:
    found = _time(ctx, body, key)
    if found is None:
        raise ValidationError(key, f"is required: {TIME_FORMS}")
    return found


def _str(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise ValidationError(key, "must be text")
    return value or None


def _days(body: Mapping[str, Any], default: float) -> float:
    value = body.get("days", default)
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValidationError("days", "must be a number of days") from None


# --- the directory ------------------------------------------------------------------------------


def apply(ctx: Context, body: Mapping[str, Any]) -> View:
    return {"declared": directory.apply_document(ctx, body)}


def people(ctx: Context) -> list[View]:
    with ctx.read() as uow:
        return [views.person_view(p) for p in uow.oncall.people()]


def person_put(ctx: Context, body: Mapping[str, Any]) -> View:
    person, new = directory.put_person(ctx, body)
    return {"person": views.person_view(person), "created": new}


def person_show(ctx: Context, handle: str) -> View:
    person = directory.person_of(ctx, handle)
    view = views.person_view(person)
    view["shifts"] = [views.shift_view(s, name) for name, s in schedules.next_shifts(ctx, handle)]
    return view


def person_remove(ctx: Context, handle: str) -> View:
    directory.remove_person(ctx, handle)
    return {"removed": handle}


def contact_add(ctx: Context, handle: str, body: Mapping[str, Any]) -> View:
    method = pp.contact_method(
        _str(body, "name"), _str(body, "kind"), _str(body, "address"), _str(body, "secret")
    )

    def edit(person: pp.Person) -> pp.Person:
        kept = tuple(c for c in person.contacts if c.name != method.name)
        return replace(person, contacts=(*kept, method))

    return views.person_view(directory.edit_person(ctx, handle, edit))


def contact_remove(ctx: Context, handle: str, name: str) -> View:
    def edit(person: pp.Person) -> pp.Person:
        if person.contact(name) is None:
            raise ValidationError("contact", f"{handle} has no contact method called {name!r}")
        rules = tuple(r for r in person.rules if r.method != name)
        return replace(person, contacts=tuple(c for c in person.contacts if c.name != name), rules=rules)

    return views.person_view(directory.edit_person(ctx, handle, edit))


def rules_set(ctx: Context, handle: str, body: Mapping[str, Any]) -> View:
    """``{"rules": ["push=0", "mail=2", "sms=5"]}`` or a list of {method, delay_minutes}."""
    raw = body.get("rules") or []
    if not isinstance(raw, list):
        raise ValidationError("rules", "must be a list such as ['push=0', 'mail=2']")
    rules = []
    for item in raw:
        if isinstance(item, str):
            method, sep, minutes = item.partition("=")
            try:
                delay = float(minutes) if sep else 0.0
            except ValueError:
                raise ValidationError("rules", f"{item!r} is not METHOD=MINUTES (e.g. sms=5)") from None
            rules.append(pp.notification_rule(method.strip(), delay))
        elif isinstance(item, Mapping):
            rules.append(pp.notification_rule(item.get("method"), item.get("delay_minutes", 0)))
        else:
            raise ValidationError("rules", "each rule is METHOD=MINUTES")

    def edit(person: pp.Person) -> pp.Person:
        return pp.person(
            person.handle,
            person.name,
            email=person.email,
            time_zone=person.time_zone,
            teams=person.teams,
            contacts=person.contacts,
            rules=rules,
        )

    return views.person_view(directory.edit_person(ctx, handle, edit))


def team_put(ctx: Context, body: Mapping[str, Any]) -> View:
    return docs.team_doc(directory.put_team(ctx, body))


def teams(ctx: Context) -> list[View]:
    return [docs.team_doc(t) for t in directory.directory(ctx).teams.values()]


# --- schedules ------------------------------------------------------------------------------------


def schedule_put(ctx: Context, body: Mapping[str, Any]) -> View:
    schedule, new = directory.put_schedule(ctx, body)
    return {"schedule": views.schedule_view(schedule), "created": new}


def schedule_list(ctx: Context) -> list[View]:
    with ctx.read() as uow:
        return [views.schedule_view(s) for s in uow.oncall.schedules(ctx.clock.now())]


def schedule_show(ctx: Context, name: str, body: Mapping[str, Any]) -> View:
    schedule, shifts = schedules.timeline(ctx, name, _time(ctx, body, "start"), _days(body, 14))
    view = views.schedule_view(schedule)
    view["shifts"] = [views.shift_view(s) for s in shifts]
    return view


def schedule_remove(ctx: Context, name: str) -> View:
    directory.remove_schedule(ctx, name)
    return {"removed": name}


def override_add(ctx: Context, actor: str, name: str, body: Mapping[str, Any]) -> View:
    item = schedules.add_override(
        ctx,
        name,
        _str(body, "person") or "",
        _required_time(ctx, body, "start"),
        _required_time(ctx, body, "end"),
        actor,
        replaces=_str(body, "replaces"),
        note=_str(body, "note"),
    )
    return {
        "schedule": name,
        "override": item.id,
        "person": item.person,
        "start": body.get("start"),
        "end": body.get("end"),
    }


def override_remove(ctx: Context, name: str, override_id: int) -> View:
    schedules.remove_override(ctx, name, override_id)
    return {"schedule": name, "removed": override_id}


def swap(ctx: Context, actor: str, name: str, body: Mapping[str, Any]) -> View:
    made = schedules.swap(
        ctx, name, _required_time(ctx, body, "at"), _required_time(ctx, body, "with"), actor
    )
    return {
        "schedule": name,
        "overrides": [{"id": o.id, "person": o.person, "replaces": o.replaces} for o in made],
    }


def now(ctx: Context, body: Mapping[str, Any]) -> list[View]:
    found = schedules.on_call(
        ctx, _time(ctx, body, "at"), schedule=_str(body, "schedule"), service=_str(body, "service")
    )
    return [views.on_call_view(item) for item in found]


def shifts(ctx: Context, person: str, body: Mapping[str, Any]) -> list[View]:
    return [views.shift_view(s, name) for name, s in schedules.next_shifts(ctx, person, _days(body, 28))]


# --- policies -------------------------------------------------------------------------------------


def policy_put(ctx: Context, body: Mapping[str, Any]) -> View:
    policy, new = directory.put_policy(ctx, body)
    return {"policy": views.policy_view(policy), "created": new}


def policy_list(ctx: Context) -> list[View]:
    found = directory.directory(ctx)
    listed = []
    for policy in found.policies.values():
        view = views.policy_view(policy)
        view["services"] = sorted(s for s, p in found.services.items() if p == policy.name)
        listed.append(view)
    return listed


def policy_remove(ctx: Context, name: str) -> View:
    directory.remove_policy(ctx, name)
    return {"removed": name}


def policy_assign(ctx: Context, body: Mapping[str, Any]) -> View:
    service, policy = _str(body, "service"), _str(body, "policy")
    if not service:
        raise ValidationError("service", "name the service whose policy this is")
    directory.set_service_policy(ctx, service, policy)
    return {"service": service, "policy": policy}


# --- pages ----------------------------------------------------------------------------------------


def page(ctx: Context, config: OncallConfig, actor: str, body: Mapping[str, Any]) -> View:
    opened = pages.open_page(
        ctx,
        config,
        _str(body, "target") or "",
        _str(body, "reason") or "",
        actor,
        incident=_str(body, "incident"),
    )
    found, planned = pages.get_page(ctx, opened.id)
    return views.page_view(found, planned)


def page_from_room(ctx: Context, actor: str, ref: str, body: Mapping[str, Any]) -> View:
    """The room's 'Page someone' button: the page opens now and its first step fires on the
    next escalation tick (within a second or so), with the server's links and settings."""
    opened = pages.open_page(
        ctx,
        OncallConfig(),
        _str(body, "target") or "",
        _str(body, "reason") or "",
        actor,
        incident=ref,
        fire=False,
    )
    return views.page_view(opened)


def ack(ctx: Context, config: OncallConfig, actor: str, ref: str) -> View:
    result = pages.acknowledge(ctx, config, ref, actor)
    view = views.page_view(result["page"])
    view["changed"] = result["changed"]
    view["commander"] = result["commander"]
    return view


def resolve(ctx: Context, config: OncallConfig, actor: str, ref: str, body: Mapping[str, Any]) -> View:
    return views.page_view(pages.resolve_page(ctx, config, ref, actor, _str(body, "why") or ""))


def page_show(ctx: Context, ref: str) -> View:
    found, planned = pages.get_page(ctx, ref)
    return views.page_view(found, planned)


def page_list(ctx: Context, body: Mapping[str, Any]) -> list[View]:
    found = pages.list_pages(
        ctx,
        open_only=not body.get("all"),
        incident=_str(body, "incident"),
        limit=int(body.get("limit") or 100),
    )
    return [views.page_view(p) for p in found]


# --- heartbeats -----------------------------------------------------------------------------------


def heartbeat_put(ctx: Context, body: Mapping[str, Any]) -> View:
    from warroom.services.oncall import heartbeats

    return docs.heartbeat_doc(heartbeats.put_heartbeat(ctx, body))


def heartbeat_list(ctx: Context) -> list[View]:
    from warroom.services.oncall import heartbeats

    return heartbeats.heartbeats_view(ctx)


def heartbeat_remove(ctx: Context, name: str) -> View:
    from warroom.services.oncall import heartbeats

    heartbeats.remove_heartbeat(ctx, name)
    return {"removed": name}
