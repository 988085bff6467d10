"""``warroom outbox``, ``warroom stakeholders`` and ``warroom worker``.

The outbox and the worker work on the local database (embedded mode), like ``warroom
serve``: they belong to an installation, not to a remote session. Stakeholders belong to
an incident and work in both modes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

outbox_app = typer.Typer(
    help="Notification deliveries: list them, retry dead letters, deliver now.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


class Action(StrEnum):
    add = "add"
    remove = "remove"
    list = "list"


def _main() -> Any:
    from warroom.cli import main

    return main


def _embedded(what: str) -> Any:
    """The built App on the local database; refuses ``--url``."""
    main = _main()
    if main.STATE.url:
        raise main.fail(f"{what} works on the local database; it is not available with --url", 2)
    from warroom.bootstrap import build

    settings = main._settings()
    try:
        return build(settings)
    except Exception as exc:  # an unreachable database: one line, no trace
        raise main.fail(str(exc).splitlines()[0], 2) from None


def _guard(call: Any) -> Any:
    """Run ``call()``, turning refusals and configuration mistakes into one line."""
    from warroom.domain.shared.errors import DomainError
    from warroom.settings import SettingsError

    main = _main()
    try:
        return call()
    except DomainError as exc:
        raise main.fail(exc.message) from None
    except SettingsError as exc:
        raise main.fail(str(exc), 2) from None


def delivery_view(d: Any) -> dict[str, Any]:
    from warroom.domain.shared.timefmt import iso

    n = d.notification
    return {
        "id": d.id,
        "status": d.status,
        "channel": d.channel,
        "kind": n.kind,
        "incident": n.incident,
        "key": n.key,
        "title": n.headline,
        "attempts": d.attempts,
        "next_attempt_at": iso(d.next_attempt_at) if d.status == "pending" else None,
        "last_error": d.last_error,
        "created_at": iso(d.created_at),
        "delivered_at": iso(d.delivered_at) if d.delivered_at else None,
    }


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
    console = Console()
    if rows:
        console.print(table)
    else:
        console.print("no deliveries")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str, typer.Option(help="dead, pending, delivered or all.")] = "dead",
    limit: Annotated[int, typer.Option(help="At most this many rows, newest first.")] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List deliveries (dead letters by default) with their last error."""
    from warroom.services.comms import outbox

    app = _embedded("warroom outbox")
    rows = [delivery_view(d) for d in _guard(lambda: outbox.list_deliveries(app.context, status, limit))]
    _main().emit(rows, as_json, _deliveries_table)


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
    from warroom.services.comms import outbox

    app = _embedded("warroom outbox")
    retried = _guard(lambda: outbox.retry_deliveries(app.context, ids or [], all_dead=all_dead))
    _main().emit(
        {"retried": retried},
        as_json,
        lambda v: typer.echo(f"retrying {len(v['retried'])} deliveries: {', '.join(map(str, v['retried']))}"),
    )


@outbox_app.command("deliver")
def outbox_deliver(as_json: JsonOpt = False) -> None:
    """Route new notifications and send what is due, once (what the worker does each round)."""
    from dataclasses import asdict

    from warroom.bootstrap import build_notify
    from warroom.integrations.notify_config import make_notifier
    from warroom.services.comms import outbox

    app = _embedded("warroom outbox")
    notify = _guard(lambda: build_notify(app.settings))
    notifier, close = make_notifier(notify)
    try:
        report = outbox.deliver(app.context, notify.outbox, notifier)
    finally:
        close()
    _main().emit(
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
    main = _main()
    if action is not Action.list and not target:
        raise main.fail(f"stakeholders {action.value} needs a TARGET (a channel name or an email address)")
    if action is Action.add:
        rows = main.run("stakeholder_add", incident, {"target": target, "audience": audience})
    elif action is Action.remove:
        rows = main.run("stakeholder_remove", incident, {"target": target})
    else:
        rows = main.run("stakeholders", incident)

    def human(values: list[dict[str, Any]]) -> None:
        if not values:
            typer.echo("no stakeholders")
        for v in values:
            typer.echo(f"{v['target']:40} {v['audience']:9} {v['source']}")

    main.emit(rows, as_json, human)


def worker(
    once: Annotated[bool, typer.Option("--once", help="Run the due jobs once, then exit.")] = False,
    interval: Annotated[
        float | None,
        typer.Option(help="Seconds between rounds (default: jobs.interval_seconds).", min=0, max=86400),
    ] = None,
) -> None:
    """Run the background jobs (notification delivery, reminders) until stopped."""
    import logging

    from warroom.settings import SettingsError
    from warroom.worker import run_worker

    main = _main()
    if main.STATE.url:
        raise main.fail("warroom worker runs against the database; it is not available with --url", 2)
    if not once:  # a long-running process logs what its jobs do; one round prints its summary
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        done = run_worker(main._settings(), once=once, interval=interval, echo=typer.echo)
    except SettingsError as exc:
        raise main.fail(str(exc), 2) from None
    if once:
        typer.echo(", ".join(f"{name}: {count}" for name, count in done.items()) or "nothing was due")


def register(app: typer.Typer) -> None:
    app.add_typer(outbox_app, name="outbox")
    app.command("stakeholders")(stakeholders)
    app.command("worker")(worker)
