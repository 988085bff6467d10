"""``warroom status``: the public status page's components and scheduled maintenance.

Every verb works on the local database and with ``--url`` (through ``/api/v1/status``).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from warroom.cli import session

status_app = typer.Typer(
    help="The public status page: component states, scheduled maintenance and subscribers.",
    no_args_is_help=True,
)
component_app = typer.Typer(
    help="Components (catalog services with a status_page entry).", no_args_is_help=True
)
maintenance_app = typer.Typer(
    help="Scheduled maintenance: shown on the page; silences the services' alerts while it runs.",
    no_args_is_help=True,
)
status_app.add_typer(component_app, name="component")
status_app.add_typer(maintenance_app, name="maintenance")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
STATES = "operational, under_maintenance, degraded_performance, partial_outage, major_outage, or auto"


def _component_line(c: dict[str, Any]) -> str:
    manual = c.get("manual")
    held = (
        f"  set by {manual['by']} at {manual['at']}" + (f": {manual['reason']}" if manual["reason"] else "")
        if manual
        else ""
    )
    return f"{c['service']:20} {c['name']:24} {c['state']:21} (automatic: {c['automatic']}){held}"


def _components(rows: list[dict[str, Any]]) -> None:
    if not rows:
        typer.echo("no components (give a catalog service a status_page: {name: ..., group: ...})")
    for c in rows:
        typer.echo(_component_line(c))


@component_app.command("list")
def component_list(as_json: JsonOpt = False) -> None:
    """Each component's state, what incidents and maintenance make it, and any hand-set state."""
    session.emit(session.run("status_components"), as_json, _components)


@component_app.command("set")
def component_set(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The component's catalog service name.")],
    state: Annotated[str, typer.Argument(metavar="STATE", help=STATES + ".")],
    reason: Annotated[str, typer.Option(help="Why (recorded, shown to responders).")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Hold a component's state by hand until set back to auto."""
    answer = session.run("status_component_set", name, {"state": state, "reason": reason})
    session.emit(answer, as_json, lambda c: typer.echo(_component_line(c)))


def _window_line(w: dict[str, Any]) -> str:
    return f"{w['id']:8} {w['phase']:11} {w['starts_at']} → {w['ends_at']}  {', '.join(w['services'])}: {w['text']}"


@maintenance_app.command("add")
def maintenance_add(
    services: Annotated[
        list[str], typer.Argument(metavar="SERVICE...", help="The components' service names.")
    ],
    starts: Annotated[str, typer.Option(help="Start, ISO 8601 with a zone (2026-12-05T02:00Z).")],
    ends: Annotated[str, typer.Option(help="End, ISO 8601 with a zone; at most 14 days after the start.")],
    text: Annotated[str, typer.Option(help="What the public reads.")],
    as_json: JsonOpt = False,
) -> None:
    """Schedule maintenance: on the page now, alerts of its services silenced while it runs."""
    body = {"services": services, "starts_at": starts, "ends_at": ends, "text": text}
    session.emit(
        session.run("status_maintenance_add", None, body), as_json, lambda w: typer.echo(_window_line(w))
    )


@maintenance_app.command("list")
def maintenance_list(
    all_windows: Annotated[bool, typer.Option("--all", help="Past windows (90 days) too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Upcoming and in-progress windows (``--all``: past ones too)."""

    def human(rows: list[dict[str, Any]]) -> None:
        if not rows:
            typer.echo("no maintenance scheduled")
        for w in rows:
            typer.echo(_window_line(w))

    session.emit(session.run("status_maintenance", None, {"all": all_windows}), as_json, human)


@maintenance_app.command("cancel")
def maintenance_cancel(
    window: Annotated[str, typer.Argument(metavar="ID", help="A maintenance id, e.g. MNT-3.")],
    as_json: JsonOpt = False,
) -> None:
    """Cancel an upcoming window, or end one in progress now (its alert silences end too)."""
    session.emit(
        session.run("status_maintenance_cancel", window), as_json, lambda w: typer.echo(_window_line(w))
    )


def register(app: typer.Typer) -> None:
    app.add_typer(status_app, name="status")
