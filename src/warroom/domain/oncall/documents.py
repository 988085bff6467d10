"""The plain documents of on call: what a YAML file, a JSON body and a stored row hold.

Reading a document validates it (the errors name the field); writing one gives back the
same shape. Contact methods carry credentials: :func:`person_doc` leaves them out unless
asked (storage asks; views never do).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from warroom.domain.oncall import heartbeats as hb
from warroom.domain.oncall import people as pp
from warroom.domain.oncall import policies as pol
from warroom.domain.oncall import rotations as rot
from warroom.domain.oncall import schedules as sch
from warroom.domain.oncall.zones import require_zone
from warroom.domain.shared.errors import ValidationError

Doc = dict[str, Any]


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError(field, "must be a mapping (an object)")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValidationError(field, "must be a list")
    return list(value)


def _text(doc: Mapping[str, Any], key: str, default: str | None = None) -> str | None:
    value = doc.get(key, default)
    if value is not None and not isinstance(value, str):
        raise ValidationError(key, "must be text")
    return value


def _number(doc: Mapping[str, Any], key: str, default: float | None) -> Any:
    value = doc.get(key, default)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValidationError(key, "must be a number")
    return value


# --- people and teams ---------------------------------------------------------------------


def person_from(raw: Any) -> pp.Person:
    doc = _mapping(raw, "person")
    contacts = []
    for item in _list(doc.get("contacts"), "contacts"):
        c = _mapping(item, "contacts")
        contacts.append(
            pp.contact_method(_text(c, "name"), _text(c, "kind"), _text(c, "address"), _text(c, "secret"))
        )
    rules = []
    for item in _list(doc.get("rules"), "rules"):
        r = _mapping(item, "rules")
        rules.append(pp.notification_rule(_text(r, "method"), _number(r, "delay_minutes", 0)))
    return pp.person(
        _text(doc, "handle"),
        _text(doc, "name"),
        email=_text(doc, "email"),
        time_zone=_text(doc, "time_zone", "UTC"),
        teams=[str(t) for t in _list(doc.get("teams"), "teams")],
        contacts=contacts,
        rules=rules,
    )


def person_doc(person: pp.Person, *, secrets: bool = False) -> Doc:
    return {
        "handle": person.handle,
        "name": person.name,
        "email": person.email,
        "time_zone": person.time_zone,
        "teams": list(person.teams),
        "contacts": [
            {"name": c.name, "kind": c.kind, "address": c.address if secrets else c.redacted}
            | ({"secret": c.secret} if secrets and c.secret else {})
            for c in person.contacts
        ],
        "rules": [{"method": r.method, "delay_minutes": r.delay.total_seconds() / 60} for r in person.rules],
    }


def team_from(raw: Any) -> pol.Team:
    doc = _mapping(raw, "team")
    name = pp.require_name(_text(doc, "name"), "name")
    members = tuple(pp.require_handle(str(m), "members") for m in _list(doc.get("members"), "members"))
    policy = _text(doc, "policy")
    return pol.Team(name, members, pp.require_name(policy, "policy") if policy else None)


def team_doc(team: pol.Team) -> Doc:
    return {"name": team.name, "members": list(team.members), "policy": team.policy}


# --- schedules ----------------------------------------------------------------------------


def _start(value: Any, zone_name: str) -> datetime:
    if isinstance(value, datetime):
        return (
            value if value.tzinfo is None else value.astimezone(require_zone(zone_name)).replace(tzinfo=None)
        )
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(
            "layer.start", "give the first hand-off as a local time such as 2026-11-23T09:00"
        )
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError("layer.start", f"{value!r} is not a time such as 2026-11-23T09:00") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(require_zone(zone_name)).replace(tzinfo=None)
    return parsed


def layer_from(raw: Any, zone_name: str) -> sch.Layer:
    doc = _mapping(raw, "layers")
    windows = [rot.parse_window(str(w)) for w in _list(doc.get("windows"), "windows")]
    rotation = _text(doc, "rotation", "weekly") or "weekly"
    every = doc.get("every")
    if every is not None and (isinstance(every, bool) or not isinstance(every, int)):
        raise ValidationError("layer.every", "must be a whole number")
    return rot.layer(
        _text(doc, "name"),
        [str(m) for m in _list(doc.get("members"), "layer.members")],
        _start(doc.get("start"), zone_name),
        rotation=rotation,
        every=every,
        unit=_text(doc, "unit"),
        windows=windows,
    )


def schedule_from(raw: Any) -> sch.Schedule:
    doc = _mapping(raw, "schedule")
    zone = require_zone(_text(doc, "time_zone")).key
    layers = [layer_from(item, zone) for item in _list(doc.get("layers"), "layers")]
    return rot.schedule(
        _text(doc, "name"), zone, layers, team=_text(doc, "team"), description=_text(doc, "description")
    )


def schedule_from_stored(doc: Mapping[str, Any]) -> sch.Schedule:
    """A schedule document this code stored (it was validated when written), rebuilt without
    validating again: "who is on call" over a thousand schedules reads them all."""
    layers = tuple(
        sch.Layer(
            item["name"],
            tuple(item["members"]),
            datetime.fromisoformat(item["start"]),
            int(item["every"]),
            item["unit"],
            tuple(rot.parse_window(w) for w in item.get("windows", ())),
        )
        for item in doc["layers"]
    )
    return sch.Schedule(
        doc["name"], doc["time_zone"], layers, team=doc.get("team"), description=doc.get("description") or ""
    )


def layer_doc(layer: sch.Layer) -> Doc:
    rotation = next((k for k, v in sch.ROTATIONS.items() if v == (layer.every, layer.unit)), "custom")
    return {
        "name": layer.name,
        "members": list(layer.members),
        "start": layer.start.isoformat(timespec="minutes"),
        "rotation": rotation,
        "every": layer.every,
        "unit": layer.unit,
        "windows": [w.label for w in layer.windows],
    }


def schedule_doc(schedule: sch.Schedule) -> Doc:
    return {
        "name": schedule.name,
        "time_zone": schedule.time_zone,
        "team": schedule.team,
        "description": schedule.description,
        "layers": [layer_doc(layer) for layer in schedule.layers],
    }


# --- policies -----------------------------------------------------------------------------


def policy_from(raw: Any) -> pol.EscalationPolicy:
    doc = _mapping(raw, "policy")
    steps = []
    for item in _list(doc.get("steps"), "steps"):
        s = _mapping(item, "steps")
        targets = [pol.parse_target(str(t)) for t in _list(s.get("targets"), "step.targets")]
        steps.append(pol.step(targets, _number(s, "wait_minutes", 5)))
    repeat = doc.get("repeat", 0)
    if isinstance(repeat, bool) or not isinstance(repeat, int):
        raise ValidationError("repeat", "must be a whole number from 0 to 9")
    fallback = doc.get("fallback", False)
    if not isinstance(fallback, bool):
        raise ValidationError("fallback", "must be true or false")
    return pol.policy(
        _text(doc, "name"),
        steps,
        repeat=repeat,
        ack_timeout_minutes=_number(doc, "ack_timeout_minutes", 30),
        fallback=fallback,
        team=_text(doc, "team"),
        description=_text(doc, "description"),
    )


def policy_doc(policy: pol.EscalationPolicy) -> Doc:
    return {
        "name": policy.name,
        "team": policy.team,
        "description": policy.description,
        "repeat": policy.repeat,
        "ack_timeout_minutes": policy.ack_timeout.total_seconds() / 60 if policy.ack_timeout else 0,
        "fallback": policy.fallback,
        "steps": [
            {
                "targets": [f"{t.kind}:{t.name}" for t in s.targets],
                "wait_minutes": s.wait.total_seconds() / 60,
            }
            for s in policy.steps
        ],
    }


# --- heartbeats ---------------------------------------------------------------------------


def heartbeat_from(raw: Any) -> hb.Heartbeat:
    doc = _mapping(raw, "heartbeat")
    labels = doc.get("labels", {})
    if not isinstance(labels, Mapping | list):
        raise ValidationError("labels", "must be a mapping such as {alertname: Watchdog}")
    return hb.heartbeat(
        _text(doc, "name"),
        _number(doc, "interval_minutes", None) or 0,
        {str(k): str(v) for k, v in labels.items()}
        if isinstance(labels, Mapping)
        else [str(x) for x in labels],
        source=_text(doc, "source", "any") or "any",
        policy=_text(doc, "policy"),
    )


def heartbeat_doc(beat: hb.Heartbeat) -> Doc:
    return {
        "name": beat.name,
        "interval_minutes": beat.interval.total_seconds() / 60,
        "labels": dict(beat.labels),
        "source": beat.source,
        "policy": beat.policy,
    }
