"""``warroom oncall ...``, ``warroom page`` and ``warroom ack``: people, schedules,
policies and pages.

Each command is one on-call operation (``services.oncall.operations``) with ``--json``.
Setting up (people, schedules, policies, heartbeats) works on the local database; paging,
acknowledging, resolving and asking who is on call also work with ``--url`` against a
server (one REST call each, the same JSON either way). Imports stay inside the commands
so ``warroom --help`` costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from warroom.cli import session

oncall_app = typer.Typer(
    help="On call: people, schedules, escalation policies, pages, heartbeats.", no_args_is_help=True
)
person_app = typer.Typer(help="The directory of people and how to reach them.", no_args_is_help=True)
schedule_app = typer.Typer(help="Rotations, layers, overrides and swaps.", no_args_is_help=True)
policy_app = typer.Typer(
    help="Escalation policies: ordered steps, repeats, the fallback.", no_args_is_help=True
)
heartbeat_app = typer.Typer(help="Heartbeat monitors of the monitoring pipelines.", no_args_is_help=True)
oncall_app.add_typer(person_app, name="person")
oncall_app.add_typer(schedule_app, name="schedule")
oncall_app.add_typer(policy_app, name="policy")
oncall_app.add_typer(heartbeat_app, name="heartbeat")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(oncall_app, name="oncall")
    app.command("page")(page)
    app.command("ack")(ack)


class _Env:
    """The built App, its on-call config and the acting person, made once per command."""

    def __init__(self) -> None:
        if session.STATE.url:
            raise session.fail(
                "warroom oncall works on the local database; it is not available with --url", 2
            )
        from warroom.bootstrap import build, build_oncall

        settings = session.settings()
        try:
            self.app = build(settings)
            self.config = build_oncall(self.app)
        except Exception as exc:  # an unreachable database or a bad setting: one line
            raise session.fail(str(exc).splitlines()[0], 2) from None
        engine = getattr(self.app.context.uow, "args", (None,))[0]
        if engine is not None:
            session.STATE.closers.append(engine.dispose)
        self.ctx = self.app.context
        self.actor = session.STATE.actor or settings.actor


def _do(call: Any, as_json: bool, human: Any) -> None:
    """Run ``call(env)``, turning refusals into one line and a non-zero exit."""
    from warroom.domain.shared.errors import DomainError

    env = _Env()
    try:
        value = call(env)
    except DomainError as exc:
        raise session.fail(exc.message) from None
    except Exception as exc:
        if type(exc).__name__ in ("CatalogError", "SettingsError", "OperationalError"):
            raise session.fail(str(exc).splitlines()[0], 2) from None
        raise
    session.emit(value, as_json, human)


Remote = tuple[str, str, dict[str, Any]]


def _either(local: Any, remote: Remote, as_json: bool, human: Any) -> None:
    """``local(env)`` on the local database, or with ``--url`` one REST call: (method, path
    under /api/v1, httpx arguments)."""
    if not session.STATE.url:
        _do(local, as_json, human)
        return
    from warroom.cli.remote import RemoteBackend, RemoteError
    from warroom.domain.shared.errors import DomainError

    if not session.STATE.token:
        raise session.fail("--url needs a token (--token or WARROOM_TOKEN)")
    method, path, arguments = remote
    backend = RemoteBackend(session.STATE.url, session.STATE.token)
    try:
        value = backend._send(method, "/api/v1" + path, **arguments)
    except DomainError as exc:
        raise session.fail(exc.message) from None
    except RemoteError as exc:
        raise session.fail(str(exc), 2) from None
    session.emit(value, as_json, human)


def _quoted(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _params(values: dict[str, Any]) -> dict[str, Any]:
    return {"params": {k: v for k, v in values.items() if v not in (None, "", False)}}


def _ops() -> Any:
    from warroom.services.oncall import operations

    return operations


def _echo(text: str) -> Any:
    return lambda value: typer.echo(text.format(**value) if isinstance(value, dict) else text)


def _table(columns: list[str], keys: list[str], empty: str) -> Any:
    def render(rows: list[dict[str, Any]]) -> None:
        if not rows:
            typer.echo(empty)
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, header_style="bold")
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*[_cell(row.get(key)) for key in keys])
        Console().print(table)

    return render


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


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
    rotation: Annotated[str, typer.Option(help="daily, weekly or custom.")] = "weekly",
    every: Annotated[int | None, typer.Option(help="Custom shift length (with --unit).")] = None,
    unit: Annotated[str | None, typer.Option(help="days or hours (custom rotations).")] = None,
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
    days: Annotated[float, typer.Option(help="How many days ahead (14).")] = 14,
    as_json: JsonOpt = False,
) -> None:
    """The schedule's final timeline for the next days, overrides marked."""

    def human(v: dict[str, Any]) -> None:
        typer.echo(f"{v['name']} ({v['time_zone']})")
        for s in v["shifts"]:
            mark = " [override]" if s["override"] else ""
            typer.echo(f"  {s['start']} -> {s['end']}  {s['person']:12} {s['length']}{mark}")

    _either(
        lambda env: _ops().schedule_show(env.ctx, name, {"days": days}),
        ("GET", f"/oncall/schedules/{_quoted(name)}", _params({"days": days})),
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
    start: Annotated[str, typer.Option(help="From (ISO 8601 with zone).")],
    end: Annotated[str, typer.Option(help="Until (ISO 8601 with zone).")],
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
    at: Annotated[str, typer.Option("--at", help="A time inside the first shift.")],
    with_: Annotated[str, typer.Option("--with", help="A time inside the other person's shift.")],
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


@oncall_app.command("now")
def oncall_now(
    schedule: Annotated[str | None, typer.Option(help="Only this schedule.")] = None,
    service: Annotated[str | None, typer.Option(help="The schedules the service's policy pages.")] = None,
    at: Annotated[str | None, typer.Option(help="At this time instead of now (ISO 8601).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Who is on call now (or at a time), per schedule."""
    body = {"schedule": schedule, "service": service, "at": at}
    _either(
        lambda env: _ops().now(env.ctx, body),
        ("GET", "/oncall/now", _params(body)),
        as_json,
        _table(
            ["SCHEDULE", "ON CALL", "FROM", "SINCE", "UNTIL"],
            ["schedule", "person", "source", "since", "until"],
            "no schedules",
        ),
    )


@oncall_app.command("shifts")
def oncall_shifts(
    person: str,
    days: Annotated[float, typer.Option(help="How many days ahead (28).")] = 28,
    as_json: JsonOpt = False,
) -> None:
    """A person's current and next shifts on every schedule."""
    _either(
        lambda env: _ops().shifts(env.ctx, person, {"days": days}),
        ("GET", f"/oncall/shifts/{_quoted(person)}", _params({"days": days})),
        as_json,
        _table(
            ["SCHEDULE", "START", "END", "LENGTH", "OVERRIDE"],
            ["schedule", "start", "end", "length", "override"],
            "no shifts",
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
        float, typer.Option(help="Minutes after an ack before the page triggers again (0: never).")
    ] = 30,
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
        "ack_timeout_minutes": ack_timeout,
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


# --- pages ----------------------------------------------------------------------------------------


def _page_line(v: dict[str, Any]) -> None:
    who = ", ".join(sorted({n["person"] for n in v.get("notifications", [])})) or "nobody yet"
    typer.echo(f"{v['id']} {v['status']}: {v['title']} (step {v['step']}, notified: {who})")


def page(
    target: Annotated[str, typer.Argument(help="A team, person, schedule or policy (or kind:name).")],
    reason: Annotated[str, typer.Argument(help="Why: one line the person reads first.")] = "",
    incident: Annotated[str | None, typer.Option(help="The incident it is about, e.g. INC-7.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Page someone now; escalation follows their policy until someone acknowledges."""
    body = {"target": target, "reason": reason, "incident": incident}
    _either(
        lambda env: _ops().page(env.ctx, env.config, env.actor, body),
        ("POST", "/pages", {"json": {k: v for k, v in body.items() if v}}),
        as_json,
        _page_line,
    )


def ack(
    page_id: Annotated[str, typer.Argument(metavar="PAGE", help="Page id, e.g. P-12.")],
    resolve: Annotated[bool, typer.Option("--resolve", help="Resolve the page too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Acknowledge a page (as --as / WARROOM_ACTOR): escalation stops."""

    def run(env: Any) -> Any:
        view = _ops().ack(env.ctx, env.config, env.actor, page_id)
        if resolve:
            view = _ops().resolve(env.ctx, env.config, env.actor, page_id, {})
        return view

    def human(v: dict[str, Any]) -> None:
        typer.echo(f"{v['id']} {v['status']} by {v.get('acknowledged_by') or v.get('resolved_by')}")
        if v.get("commander") == "offered" and v.get("incident"):
            typer.echo(
                f"{v['incident']} has no commander: warroom role assign {v['incident']} commander {v['acknowledged_by']}"
            )
        elif v.get("commander") == "made":
            typer.echo(f"{v['acknowledged_by']} is now commander of {v['incident']}")

    if session.STATE.url:
        path = f"/pages/{_quoted(page_id)}"
        quiet = resolve  # with --resolve, print the resolved page only
        _either(
            run,
            ("POST", path + "/ack", {"json": {}}),
            as_json and not quiet,
            (lambda v: None) if quiet else human,
        )
        if resolve:
            _either(run, ("POST", path + "/resolve", {"json": {}}), as_json, human)
        return
    _do(run, as_json, human)


@oncall_app.command("resolve")
def oncall_resolve(
    page_id: Annotated[str, typer.Argument(metavar="PAGE", help="Page id, e.g. P-12.")],
    why: Annotated[str, typer.Option(help="Why it needs no one any more.")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Resolve a page: nobody more is told."""
    _do(
        lambda env: _ops().resolve(env.ctx, env.config, env.actor, page_id, {"why": why}), as_json, _page_line
    )


@oncall_app.command("pages")
def oncall_pages(
    all_: Annotated[bool, typer.Option("--all", help="Resolved pages too.")] = False,
    incident: Annotated[str | None, typer.Option(help="Only this incident's pages.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List open pages (or all)."""
    _either(
        lambda env: _ops().page_list(env.ctx, {"all": all_, "incident": incident}),
        ("GET", "/pages", _params({"all": "true" if all_ else None, "incident": incident})),
        as_json,
        _table(
            ["PAGE", "STATUS", "INCIDENT", "POLICY", "STEP", "ACK BY", "TITLE"],
            ["id", "status", "incident", "policy", "step", "acknowledged_by", "title"],
            "no pages",
        ),
    )


@oncall_app.command("page")
def oncall_page_show(
    page_id: Annotated[str, typer.Argument(metavar="PAGE")], as_json: JsonOpt = False
) -> None:
    """One page and every notification it planned."""

    def human(v: dict[str, Any]) -> None:
        _page_line(v)
        for n in v["notifications"]:
            typer.echo(
                f"  step {n['step']} {n['person']:10} {n['method']:8} {n['status']:9} due {n['due_at']}"
            )

    _either(
        lambda env: _ops().page_show(env.ctx, page_id),
        ("GET", f"/pages/{_quoted(page_id)}", {}),
        as_json,
        human,
    )


# --- heartbeats -----------------------------------------------------------------------------------


@heartbeat_app.command("add")
def heartbeat_add(
    name: str,
    every: Annotated[float, typer.Option(help="Minutes within which a beat must arrive.")],
    label: Annotated[
        list[str],
        typer.Option("--label", help="name=value the beat carries, e.g. alertname=Watchdog (repeat)."),
    ],
    source: Annotated[str, typer.Option(help="any, alertmanager, grafana, pagerduty or generic.")] = "any",
    policy: Annotated[str | None, typer.Option(help="Who is paged (default: the fallback policy).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Watch a monitoring pipeline: page when its always-firing alert stops arriving."""
    body = {"name": name, "interval_minutes": every, "labels": label, "source": source, "policy": policy}
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


@oncall_app.command("calendar")
def oncall_calendar(
    schedule: Annotated[str | None, typer.Option(help="The schedule's feed.")] = None,
    person: Annotated[str | None, typer.Option(help="A person's shifts on every schedule.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the iCalendar feed URL of a schedule or a person (subscribe to it in a calendar app)."""
    if (schedule is None) == (person is None):
        raise session.fail("name --schedule or --person (one of them)", 2)

    def run(env: Any) -> dict[str, Any]:
        from warroom.bootstrap import build_notify
        from warroom.domain.shared.errors import ValidationError
        from warroom.web.oncall import feed_links

        feeds = feed_links(env.app.settings.raw.get("secret_key"))
        base = build_notify(env.app.settings).outbox.base_url
        if feeds is None or not base:
            raise ValidationError(
                "secret_key", "calendar links need secret_key and notify.base_url in warroom.toml"
            )
        kind, name = ("schedule", schedule) if schedule else ("person", person)
        assert name is not None
        return {"kind": kind, "name": name, "url": f"{base}/oncall/calendar/{feeds.sign(kind, name)}.ics"}

    _do(run, as_json, _echo("{url}"))
