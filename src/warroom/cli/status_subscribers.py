"""``warroom status subscribers``: the public status page's subscribers, listed and removed,
on the local database or with ``--url`` (``/api/v1/status/subscribers``, an admin token)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from warroom.cli import session
from warroom.cli.statuspage import status_app

subscribers_app = typer.Typer(
    help="Who receives the status page's public updates (email, webhook).", no_args_is_help=True
)
status_app.add_typer(subscribers_app, name="subscribers")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _table(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(markup=False)
    if not rows:
        console.print("no subscribers")
        return
    table = Table(box=None, header_style="bold")
    for column in ("id", "kind", "target", "services", "state", "since"):
        table.add_column(column)
    for row in rows:
        services = row["services"]
        table.add_row(
            str(row["id"]),
            row["kind"],
            row["target"],
            services if isinstance(services, str) else ", ".join(services),
            row["state"],
            row["created_at"][:16].replace("T", " "),
        )
    console.print(table)


@subscribers_app.command("list")
def subscribers_list(
    limit: Annotated[int, typer.Option(help="At most this many, oldest first.", min=1, max=10_000)] = 1000,
    as_json: JsonOpt = False,
) -> None:
    """List the subscribers: pending (not yet confirmed) and confirmed."""
    session.emit(session.run("subscriber_list", None, {"limit": limit}), as_json, _table)


@subscribers_app.command("remove")
def subscribers_remove(
    subscriber: Annotated[
        int, typer.Argument(metavar="ID", help="The subscriber's id.", min=1, max=2**63 - 1)
    ],
    as_json: JsonOpt = False,
) -> None:
    """Remove a subscriber (nothing about it is kept; it receives nothing more)."""
    view = session.run("subscriber_remove", None, {"id": subscriber})
    session.emit(view, as_json, lambda v: typer.echo(f"removed subscriber {v['id']} ({v['target']})"))


def register(app: typer.Typer) -> None:
    """Nothing to add: ``subscribers`` joins ``warroom status`` (cli/statuspage.py) on import."""
