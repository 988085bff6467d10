"""``warroom oncall apply | person | schedule | policy | heartbeat``: setting up on call on
the local database. The sub-apps and the helpers live in ``warroom.cli.oncall``; importing
this module adds its commands to them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from warroom.cli import session
from warroom.cli.oncall import (
    JsonOpt,
    _do,
    _echo,
    _either,
    _ops,
    _params,
    _quoted,
    _table,
    heartbeat_app,
    oncall_app,
    person_app,
    policy_app,
    schedule_app,
)

# --- the directory --------------------------------------------------------------------------


@oncall_app.command("apply")
def apply_file(
    path: Annotated[
        Path,
        typer.Argument(help="A YAML or JSON file: people, teams, schedules, policies, services, heartbeats."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Declare the on-call setup from a file; everything is checked first, nothing is stored if any part is wrong."""
    import yaml

    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise session.fail(f"cannot read {path}: {exc.strerror}", 2) from None
    except yaml.YAMLError as exc:
        raise session.fail(f"{path} is not valid YAML: {str(exc).splitlines()[0]}", 2) from None
    _do(
        lambda env: _ops().apply(env.ctx, document),
        as_json,
        lambda v: typer.echo("declared " + ", ".join(f"{n} {k}" for k, n in v["declared"].items())),
    )


@person_app.command("add")
def person_add(
    handle: Annotated[str, typer.Argument(help="Short lower-case handle, e.g. alice.")],
    name: Annotated[str | None, typer.Option(help="Full name.")] = None,
    email: Annotated[
        str | None, typer.Option(help="Email address (used when no contact method is set).")
    ] = None,
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone, e.g. Europe/Berlin.")] = "UTC",
    team: Annotated[list[str], typer.Option("--team", help="A team the person belongs to (repeat).")] = [],  # noqa: B006
    as_json: JsonOpt = False,
) -> None:
    """Add a person to the directory (or change their name, email, zone and teams)."""
    body = {"handle": handle, "name": name or handle, "email": email, "time_zone": tz, "teams": team}
    _do(
        lambda env: _ops().person_put(env.ctx, body),
        as_json,
        lambda v: typer.echo(f"{v['person']['handle']} saved"),
    )


@person_app.command("list")
def person_list(as_json: JsonOpt = False) -> None:
    """List the people in the directory."""
    _do(
        lambda env: _ops().people(env.ctx),
        as_json,
        _table(["HANDLE", "NAME", "ZONE", "TEAMS"], ["handle", "name", "time_zone", "teams"], "nobody yet"),
    )


@person_app.command("show")
def person_show(handle: str, as_json: JsonOpt = False) -> None:
    """A person's contact methods, notification rules and next shifts."""

    def human(v: dict[str, Any]) -> None:
        typer.echo(f"{v['handle']} ({v['name']}), {v['time_zone']}, teams: {', '.join(v['teams']) or '-'}")
        for c in v["contacts"]:
            typer.echo(f"  contact {c['name']:10} {c['kind']:8} {c['address']}")
        for r in v["rules"]:
            typer.echo(f"  rule    {r['method']:10} after {r['delay_minutes']:g} min")
        for s in v["shifts"]:
            typer.echo(f"  shift   {s['schedule']:20} {s['start']} -> {s['end']}")

    _do(lambda env: _ops().person_show(env.ctx, handle), as_json, human)


@person_app.command("remove")
def person_remove(handle: str, as_json: JsonOpt = False) -> None:
    """Remove a person no schedule or policy names any more."""
    _do(lambda env: _ops().person_remove(env.ctx, handle), as_json, _echo("removed {removed}"))


@person_app.command("contact")
def person_contact(
    handle: str,
    name: Annotated[str, typer.Argument(help="Name of the method, e.g. push, mail, sms.")],
    kind: Annotated[
        str | None, typer.Option(help="email, webhook (signed), slack, or apprise (any push/chat/SMS URL).")
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(help="Email address, webhook URL or Apprise URL (ntfy://, pover://, twilio:// ...)."),
    ] = None,
    secret: Annotated[str | None, typer.Option(help="Signing secret of a webhook.")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove this contact method.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Add, replace or remove one of a person's contact methods."""
    if remove:
        _do(
            lambda env: _ops().contact_remove(env.ctx, handle, name),
            as_json,
            _echo(f"{handle}: {name} removed"),
        )
        return
    body = {"name": name, "kind": kind, "address": address, "secret": secret}
    _do(lambda env: _ops().contact_add(env.ctx, handle, body), as_json, _echo(f"{handle}: {name} saved"))


@person_app.command("rules")
def person_rules(
    handle: str,
    rule: Annotated[list[str], typer.Argument(help="METHOD=MINUTES, in any order: push=0 mail=2 sms=5.")],
    as_json: JsonOpt = False,
) -> None:
    """Set when each contact method is used after the person is paged."""
    _do(
        lambda env: _ops().rules_set(env.ctx, handle, {"rules": rule}),
        as_json,
        _echo(f"{handle}: rules saved"),
    )


# --- schedules ----------------------------------------------------------------------------------


@schedule_app.command("add")
def schedule_add(
    name: str,
    member: Annotated[
        list[str], typer.Option("--member", "-m", help="A member, in rotation order (repeat).")
    ],
    start: Annotated[
        str, typer.Option(help="First hand-off, wall-clock time in the zone: 2026-11-23T09:00.")
    ],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone of the hand-offs.")] = "UTC",
    rotation: Annotated[
        str, typer.Option(metavar="[daily|weekly|custom]", help="How often it hands off.")
    ] = "weekly",
    every: Annotated[int | None, typer.Option(help="Custom shift length (with --unit).")] = None,
    unit: Annotated[
        str | None, typer.Option(metavar="[days|hours]", help="Unit of --every (custom rotations).")
    ] = None,
    window: Annotated[
        list[str], typer.Option("--window", help="When the layer is active: 'mon-fri 09:00-17:00' (repeat).")
    ] = [],  # noqa: B006
    team: Annotated[str | None, typer.Option(help="The team that owns the schedule.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create (or replace) a schedule with one rotation; more layers through `oncall apply`."""
    layer = {
        "name": "primary",
        "members": member,
        "start": start,
        "rotation": rotation,
        "every": every,
        "unit": unit,
        "windows": window,
    }
    body = {"name": name, "time_zone": tz, "team": team, "layers": [layer]}
    _do(
        lambda env: _ops().schedule_put(env.ctx, body),
        as_json,
        lambda v: typer.echo(f"schedule {name} saved"),
    )


@schedule_app.command("list")
def schedule_list(as_json: JsonOpt = False) -> None:
    """List schedules with their zones and layers."""

    def human(rows: list[dict[str, Any]]) -> None:
        for s in rows or []:
            layers = "; ".join(
                f"{x['name']}: {', '.join(x['members'])} ({x['rotation']})" for x in s["layers"]
            )
            typer.echo(f"{s['name']:24} {s['time_zone']:18} {layers}")
        if not rows:
            typer.echo("no schedules")

    _do(lambda env: _ops().schedule_list(env.ctx), as_json, human)


@schedule_app.command("show")
def schedule_show(
    name: str,
    days: Annotated[str, typer.Option(metavar="DURATION", help="How far ahead: days, or 2w, 36h.")] = "14",
    as_json: JsonOpt = False,
) -> None:
    """The schedule's final timeline for the next days, overrides marked."""
    ahead = session.amount(days, 86400, "days")

    def human(v: dict[str, Any]) -> None:
        typer.echo(f"{v['name']} ({v['time_zone']})")
        for s in v["shifts"]:
            mark = " [override]" if s["override"] else ""
            typer.echo(f"  {s['start']} -> {s['end']}  {s['person']:12} {s['length']}{mark}")

    _either(
        lambda env: _ops().schedule_show(env.ctx, name, {"days": ahead}),
        ("GET", f"/oncall/schedules/{_quoted(name)}", _params({"days": ahead})),
        as_json,
        human,
    )


@schedule_app.command("remove")
def schedule_remove(name: str, as_json: JsonOpt = False) -> None:
    """Remove a schedule no policy names any more."""
    _do(lambda env: _ops().schedule_remove(env.ctx, name), as_json, _echo("removed {removed}"))


@schedule_app.command("override")
def schedule_override(
    name: str,
    person: Annotated[str, typer.Option(help="Who covers.")],
    start: Annotated[str, typer.Option(metavar="TIME", help="From, e.g. 'tomorrow 09:00' (UTC) or 2h.")],
    end: Annotated[str, typer.Option(metavar="TIME", help="Until, e.g. 2026-12-01T18:00+01:00.")],
    replaces: Annotated[str | None, typer.Option(help="Whom they cover for.")] = None,
    note: Annotated[str | None, typer.Option(help="Why.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cover a stretch of the schedule with someone else; overlapping overrides are refused."""
    body = {"person": person, "start": start, "end": end, "replaces": replaces, "note": note}
    _do(
        lambda env: _ops().override_add(env.ctx, env.actor, name, body),
        as_json,
        _echo("override #{override}: {person} on {schedule}"),
    )


@schedule_app.command("unoverride")
def schedule_unoverride(name: str, override_id: int, as_json: JsonOpt = False) -> None:
    """Remove an override by its number."""
    _do(
        lambda env: _ops().override_remove(env.ctx, name, override_id),
        as_json,
        _echo("override #{removed} removed"),
    )


@schedule_app.command("swap")
def schedule_swap(
    name: str,
    at: Annotated[str, typer.Option("--at", metavar="TIME", help="A time inside the first shift.")],
    with_: Annotated[
        str, typer.Option("--with", metavar="TIME", help="A time inside the other person's shift.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Swap two shifts (two overrides)."""
    _do(
        lambda env: _ops().swap(env.ctx, env.actor, name, {"at": at, "with": with_}),
        as_json,
        lambda v: typer.echo(
            ", ".join(f"#{o['id']} {o['person']} covers {o['replaces']}" for o in v["overrides"])
        ),
    )


# --- policies -------------------------------------------------------------------------------------


@policy_app.command("add")
def policy_add(
    name: str,
    step: Annotated[
        list[str],
        typer.Option(
            "--step",
            help="TARGETS@MINUTES, e.g. schedule:payments-primary@5 or person:bob,person:carol@10 (repeat, in order).",
        ),
    ],
    repeat: Annotated[int, typer.Option(help="Run all steps again this many times.")] = 0,
    ack_timeout: Annotated[
        str,
        typer.Option(
            metavar="DURATION",
            help="Minutes (or 2h, 90s) after an ack before the page triggers again (0: never).",
        ),
    ] = "30",
    fallback: Annotated[
        bool, typer.Option("--fallback", help="This is the organization-wide fallback.")
    ] = False,
    team: Annotated[str | None, typer.Option(help="The team that owns the policy.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create (or replace) an escalation policy."""
    steps = []
    for text in step:
        targets, _, minutes = text.rpartition("@") if "@" in text else (text, "", "5")
        try:
            wait = float(minutes)
        except ValueError:
            raise session.fail(
                f"--step {text!r}: give the wait in minutes after @, e.g. person:bob@10"
            ) from None
        steps.append({"targets": [t for t in targets.split(",") if t], "wait_minutes": wait})
    body = {
        "name": name,
        "steps": steps,
        "repeat": repeat,
        "ack_timeout_minutes": session.amount(ack_timeout, 60, "ack_timeout_minutes"),
        "fallback": fallback,
        "team": team,
    }
    _do(lambda env: _ops().policy_put(env.ctx, body), as_json, lambda v: typer.echo(f"policy {name} saved"))


@policy_app.command("list")
def policy_list(as_json: JsonOpt = False) -> None:
    """List escalation policies and the services that use them."""

    def human(rows: list[dict[str, Any]]) -> None:
        for p in rows or []:
            flag = " [fallback]" if p["fallback"] else ""
            typer.echo(
                f"{p['name']}{flag}  repeat {p['repeat']}, services: {', '.join(p['services']) or '-'}"
            )
            for i, s in enumerate(p["steps"], start=1):
                typer.echo(f"  {i}. {', '.join(s['targets'])}, then wait {s['wait_minutes']:g} min")
        if not rows:
            typer.echo("no policies")

    _do(lambda env: _ops().policy_list(env.ctx), as_json, human)


@policy_app.command("remove")
def policy_remove(name: str, as_json: JsonOpt = False) -> None:
    """Remove a policy nothing uses any more."""
    _do(lambda env: _ops().policy_remove(env.ctx, name), as_json, _echo("removed {removed}"))


@policy_app.command("assign")
def policy_assign(
    service: str,
    policy: Annotated[str | None, typer.Argument(help="The policy; leave out to clear.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Name the escalation policy of a service."""
    body = {"service": service, "policy": policy}
    _do(lambda env: _ops().policy_assign(env.ctx, body), as_json, _echo("{service}: {policy}"))


# --- heartbeats -----------------------------------------------------------------------------------


@heartbeat_app.command("add")
def heartbeat_add(
    name: str,
    every: Annotated[
        str, typer.Option(metavar="DURATION", help="Minutes (or 90s, 2h) within which a beat must arrive.")
    ],
    label: Annotated[
        list[str],
        typer.Option("--label", help="name=value the beat carries, e.g. alertname=Watchdog (repeat)."),
    ],
    source: Annotated[
        str,
        typer.Option(
            metavar="[any|alertmanager|grafana|pagerduty|generic]", help="Which webhook the beat arrives on."
        ),
    ] = "any",
    policy: Annotated[str | None, typer.Option(help="Who is paged (default: the fallback policy).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Watch a monitoring pipeline: page when its always-firing alert stops arriving."""
    minutes = session.amount(every, 60, "interval_minutes")
    body = {"name": name, "interval_minutes": minutes, "labels": label, "source": source, "policy": policy}
    _do(lambda env: _ops().heartbeat_put(env.ctx, body), as_json, _echo("heartbeat {name} saved"))


@heartbeat_app.command("list")
def heartbeat_list(as_json: JsonOpt = False) -> None:
    """Heartbeat monitors, their last beat and whether they are silent."""
    _do(
        lambda env: _ops().heartbeat_list(env.ctx),
        as_json,
        _table(
            ["NAME", "STATUS", "LAST BEAT", "EVERY (MIN)", "SOURCE"],
            ["name", "status", "last_seen", "interval_minutes", "source"],
            "no heartbeats",
        ),
    )


@heartbeat_app.command("remove")
def heartbeat_remove(name: str, as_json: JsonOpt = False) -> None:
    """Stop watching a pipeline."""
    _do(lambda env: _ops().heartbeat_remove(env.ctx, name), as_json, _echo("removed {removed}"))
