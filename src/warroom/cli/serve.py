"""``warroom serve``: the REST API, the web room and the operations endpoints over HTTP."""

from __future__ import annotations

from typing import Annotated

import typer

UNREACHABLE = 3  # exit status when the database does not answer (1: a mistake to fix first)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8080,
    workers: Annotated[
        int,
        typer.Option(
            help="Server processes sharing the port (each with its own database pool; "
            "keep-alive connections are kept even among them); background jobs run in the first only.",
            min=1,
            max=64,
        ),
    ] = 1,
    access_log: Annotated[
        bool,
        typer.Option(
            "--access-log/--no-access-log",
            help="Log every request (off behind a balancer that logs them, to save CPU).",
        ),
    ] = True,
) -> None:
    """Run the server; an empty database gets an admin token (printed once).

    Exits 1 on a mistake to fix first (configuration, catalog, a database schema newer than
    this warroom) and 3 when the database does not answer (worth restarting)."""
    from warroom.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    from warroom.domain.alerts.routing import AlertPolicyError
    from warroom.integrations.catalog_file import CatalogError
    from warroom.server import serve as run
    from warroom.storage.migrate import DatabaseError, DatabaseUnreachable

    try:
        run(settings, host, port, workers=workers, access_log=access_log, echo=typer.echo)
    except DatabaseUnreachable as exc:  # may pass: a supervisor should start it again
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(UNREACHABLE) from None
    except (CatalogError, AlertPolicyError, SettingsError, DatabaseError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}", err=True)
        raise typer.Exit(1) from None
