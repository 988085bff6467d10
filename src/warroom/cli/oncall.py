"""``warroom oncall ...``, ``warroom page`` and ``warroom ack``: people, schedules,
policies and pages.

Each command is one on-call operation (``services.oncall.operations``) with ``--json``.
Setting up (people, schedules, policies, heartbeats) works on the local database; paging,
acknowledging, resolving and asking who is on call also work with ``--url`` against a
server (one REST call each, the same JSON either way). Imports stay inside the commands
so ``warroom --help`` costs nothing.
"""

from __future__ import annotations

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
    """The on-call verbs; ``cli.oncall_setup`` adds the directory's to the same sub-apps
    (``main`` imports it, so the two modules form no circle)."""
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
        raise session.refuse(exc) from None
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
        raise session.refuse(exc) from None
    except RemoteError as exc:
        raise session.refuse(exc, 2) from None
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
        Console(markup=False).print(table)

    return render


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


@oncall_app.command("now")
def oncall_now(
    schedule: Annotated[str | None, typer.Option(help="Only this schedule.")] = None,
    service: Annotated[str | None, typer.Option(help="The schedules the service's policy pages.")] = None,
    at: Annotated[
        str | None, typer.Option(metavar="TIME", help="At this time instead of now, e.g. 'in 8h'.")
    ] = None,
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
    days: Annotated[str, typer.Option(metavar="DURATION", help="How far ahead: days, or 4w, 36h.")] = "28",
    as_json: JsonOpt = False,
) -> None:
    """A person's current and next shifts on every schedule."""
    ahead = session.amount(days, 86400, "days")
    _either(
        lambda env: _ops().shifts(env.ctx, person, {"days": ahead}),
        ("GET", f"/oncall/shifts/{_quoted(person)}", _params({"days": ahead})),
        as_json,
        _table(
            ["SCHEDULE", "START", "END", "LENGTH", "OVERRIDE"],
            ["schedule", "start", "end", "length", "override"],
            "no shifts",
        ),
    )


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
