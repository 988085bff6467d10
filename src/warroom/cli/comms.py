"""``warroom outbox``, ``warroom stakeholders`` and ``warroom worker``.

``outbox list`` and ``outbox retry`` work in both modes (``--url``: through
``/api/v1/outbox``). ``outbox deliver`` and the worker send from this machine, so they
work on the local database only, like ``warroom serve``. Stakeholders belong to an
incident and work in both modes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from warroom.cli import session

outbox_app = typer.Typer(
    help="Notification deliveries: list them, retry dead letters, deliver now.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


class Action(StrEnum):
    add = "add"
    remove = "remove"
    list = "list"


def _embedded(what: str) -> Any:
    """The built App on the local database; refuses ``--url``."""
    if session.STATE.url:
        raise session.fail(f"{what} works on the local database; it is not available with --url", 2)
    from warroom.bootstrap import build

    settings = session.settings()
    try:
        return build(settings)
    except Exception as exc:  # an unreachable database: one line, no trace
        raise session.fail(str(exc).splitlines()[0], 2) from None


def _guard(call: Any) -> Any:
    """Run ``call()``, turning refusals and configuration mistakes into one line."""
    from warroom.domain.shared.errors import DomainError
    from warroom.settings import SettingsError

    try:
        return call()
    except DomainError as exc:
        raise session.refuse(exc) from None
    except SettingsError as exc:
        raise session.fail(str(exc), 2) from None


def _deliveries_table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in ("id", "status", "channel", "kind", "incident", "attempts", "last error"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["status"],
            row["channel"],
            row["kind"],
            row["incident"] or "",
            str(row["attempts"]),
            (row["last_error"] or "")[:80],
        )
    console = Console(markup=False)
    if rows:
        console.print(table)
    else:
        console.print("no deliveries")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[
        str, typer.Option(metavar="[dead|pending|delivered|all]", help="Which deliveries.")
    ] = "dead",
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List deliveries (dead letters by default) with their last error."""
    rows = session.run("outbox_list", None, {"status": status, "limit": limit})
    session.emit(rows, as_json, _deliveries_table)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None,
        typer.Argument(metavar="[ID]...", help="Deliveries to retry.", min=1, max=2**63 - 1),
    ] = None,
    all_dead: Annotated[bool, typer.Option("--all-dead", help="Retry every dead delivery.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Make dead deliveries due again with fresh attempts (same idempotency key)."""
    answer = session.run("outbox_retry", None, {"ids": ids or [], "all_dead": all_dead})
    session.emit(
        answer,
        as_json,
        lambda v: typer.echo(f"retrying {len(v['retried'])} deliveries: {', '.join(map(str, v['retried']))}"),
    )


@outbox_app.command("deliver")
def outbox_deliver(as_json: JsonOpt = False) -> None:
    """Route new notifications and send what is due, once (what the worker does each round)."""
    from dataclasses import asdict

    from warroom.bootstrap import build_notify, delivery_config
    from warroom.integrations.notify_config import make_notifier
    from warroom.services.comms import delivery

    app = _embedded("warroom outbox deliver")
    notify = _guard(lambda: build_notify(app.settings))
    notifier, close = make_notifier(notify)
    try:
        report = delivery.deliver(app.context, delivery_config(app, notify), notifier)
    finally:
        close()
    session.emit(
        asdict(report),
        as_json,
        lambda v: typer.echo(
            f"routed {v['routed']}, delivered {v['delivered']}, retrying {v['retrying']}, dead {v['dead']}"
        ),
    )


def stakeholders(
    incident: Annotated[str, typer.Argument(metavar="ID", help="Incident id, e.g. INC-7.")],
    action: Annotated[Action, typer.Argument(help="add, remove or list.")] = Action.list,
    target: Annotated[
        str | None, typer.Argument(metavar="[TARGET]", help="A channel name or an email address.")
    ] = None,
    audience: Annotated[
        str, typer.Option(help="internal (every update) or public (public updates only).")
    ] = "internal",
    as_json: JsonOpt = False,
) -> None:
    """List, add or remove who gets this incident's status updates (playbook + additions)."""
    if action is not Action.list and not target:
        raise session.fail(f"stakeholders {action.value} needs a TARGET (a channel name or an email address)")
    if action is Action.add:
        rows = session.run("stakeholder_add", incident, {"target": target, "audience": audience})
    elif action is Action.remove:
        rows = session.run("stakeholder_remove", incident, {"target": target})
    else:
        rows = session.run("stakeholders", incident)

    def human(values: list[dict[str, Any]]) -> None:
        if not values:
            typer.echo("no stakeholders")
        for v in values:
            typer.echo(f"{v['target']:40} {v['audience']:9} {v['source']}")

    session.emit(rows, as_json, human)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run the due jobs once, then exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between rounds (default: jobs.interval_seconds).", min=0, max=86400),
    ] = None,
    health_port: Annotated[
        int | None,
        typer.Option(
            help="Serve /healthz and /readyz on this port (503 while the database does not answer).",
            min=0,
            max=65535,
        ),
    ] = None,
    health_host: Annotated[str, typer.Option(help="Interface for --health-port.")] = "127.0.0.1",
) -> None:
    """Run the background jobs (notification delivery, reminders) until stopped."""
    import logging

    from warroom.settings import SettingsError
    from warroom.storage.migrate import DatabaseError
    from warroom.worker import run_worker

    if session.STATE.url:
        raise session.fail("warroom worker runs against the database; it is not available with --url", 2)
    if not once:  # a long-running process logs what its jobs do; one round prints its summary
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        health = (health_host, health_port) if health_port is not None else None
        done = run_worker(session.settings(), once=once, interval=interval, health=health, echo=typer.echo)
    except (SettingsError, DatabaseError) as exc:
        raise session.fail(str(exc), 2) from None
    except OSError as exc:
        raise session.fail(
            f"cannot serve health on {health_host}:{health_port}: {exc.strerror or exc}", 2
        ) from None
    if once:
        typer.echo(", ".join(f"{name}: {count}" for name, count in done.items()) or "nothing was due")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
    app.command("stakeholders")(stakeholders)
    app.command("worker")(worker)
