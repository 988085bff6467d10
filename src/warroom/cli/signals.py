"""``warroom signals``: the triage queue of alerts that declared nothing and joined nothing.

``warroom signals`` lists waiting signals grouped by service; ``declare``, ``attach`` and
``silence`` act on one service's group. Embedded by default; with ``--url`` (or
``WARROOM_URL``) and a token the same commands go to ``/api/v1/signals`` on a server.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from warroom.cli import session
from warroom.cli.group import SEVERITY

signals_app = typer.Typer(
    help="The triage queue: alerts waiting for a person, grouped by service.",
    invoke_without_command=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ServiceArg = Annotated[str, typer.Argument(metavar="SERVICE", help="The service whose signals to act on.")]


def register(app: typer.Typer) -> None:
    app.add_typer(signals_app, name="signals")


@signals_app.callback()
def signals(
    ctx: typer.Context,
    include_silenced: Annotated[bool, typer.Option("--all", help="Include silenced services.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List waiting signals grouped by service (oldest first)."""
    if ctx.invoked_subcommand is not None:
        return
    groups = _call("list", None, {"all": include_silenced})
    session.emit(groups, as_json, _render_groups)


@signals_app.command("declare")
def declare(
    service: ServiceArg,
    severity: Annotated[
        str | None,
        typer.Option(
            metavar=SEVERITY,
            help="SEV1..SEV4 or P1..P5; default: the matching declaration rule, else the policy.",
        ),
    ] = None,
    why: Annotated[str | None, typer.Option(help="Why the severity differs from the policy.")] = None,
    kind: Annotated[
        str | None,
        typer.Option(metavar="[availability|latency|data_integrity|security]", help="What kind of incident."),
    ] = None,
    title: Annotated[str | None, typer.Option(help="Default: alertname on service.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Declare an incident from a service's waiting signals; they are attached to it."""
    body = {"severity": severity, "why": why, "kind": kind, "title": title}
    room = _call("declare", service, {k: v for k, v in body.items() if v is not None})
    session.emit(room, as_json, lambda r: typer.echo(f"declared {r['id']} {r['severity']}: {r['title']}"))


@signals_app.command("attach")
def attach(
    service: ServiceArg,
    incident: Annotated[str, typer.Argument(metavar="ID", help="The open incident, e.g. INC-7.")],
    as_json: JsonOpt = False,
) -> None:
    """Attach a service's waiting signals to an open incident."""
    room = _call("attach", service, {"incident": incident})
    session.emit(room, as_json, lambda r: typer.echo(f"attached {service}'s signals to {r['id']}"))


@signals_app.command("silence")
def silence(
    service: ServiceArg,
    until: Annotated[str, typer.Option(metavar="TIME", help="Until this time, e.g. 2h or 1d from now.")],
    reason: Annotated[str, typer.Option(help="Why these signals may wait.")],
    as_json: JsonOpt = False,
) -> None:
    """Keep a service's signals out of the queue (and from declaring) until a time."""
    made = _call("silence", service, {"until": until, "reason": reason})
    session.emit(
        made, as_json, lambda s: typer.echo(f"silenced {s['service']} until {s['until']}: {s['reason']}")
    )


def _call(op: str, service: str | None, body: dict[str, Any]) -> Any:
    """Run ``op`` embedded or on the server; a refusal is one line on stderr and exit 1."""
    from warroom.domain.shared.errors import DomainError

    state = session.STATE
    try:
        if state.url:
            return _remote(state.url, state.token, op, service, body)
        return _embedded(state.actor, op, service, body)
    except DomainError as exc:
        raise session.refuse(exc) from None
    except Exception as exc:  # a config, catalog or connection problem: one line, no trace
        if type(exc).__name__ in (
            "SettingsError",
            "CatalogError",
            "RemoteError",
            "OperationalError",
            "AlertPolicyError",
        ):
            raise session.refuse(exc, 2) from None
        raise


def _embedded(actor: str | None, op: str, service: str | None, body: dict[str, Any]) -> Any:
    from warroom.bootstrap import build
    from warroom.domain.alerts.policy import policy_from_config
    from warroom.services.alerts import queue as alerts
    from warroom.services.incidents.views import incident_view
    from warroom.settings import load_settings

    settings = load_settings()
    ctx = build(settings).context
    engine = getattr(ctx.uow, "args", (None,))[0]
    who = actor or settings.actor
    try:
        if op == "list":
            return alerts.signal_groups(ctx, include_silenced=bool(body.get("all")))
        assert service is not None
        if op == "silence":
            return alerts.silence_view(
                alerts.silence_signals(ctx, service, body["until"], body["reason"], who)
            )
        if op == "attach":
            labels = policy_from_config(settings.section("alerts")).scope_labels
            state = alerts.attach_signals(ctx, service, body["incident"], who, scope_labels=labels)
        else:
            policy = policy_from_config(settings.section("alerts"))
            state = alerts.declare_from_signals(ctx, policy, service, who, **body)
        return incident_view(state, now=ctx.clock.now(), policy=ctx.policy)
    finally:
        if engine is not None:  # the process may live on (a test runner, an embedding program)
            engine.dispose()


def _remote(url: str, token: str | None, op: str, service: str | None, body: dict[str, Any]) -> Any:
    from urllib.parse import quote

    from warroom.cli.remote import RemoteBackend

    if not token:
        raise session.fail("--url needs a token (--token or WARROOM_TOKEN)")
    backend = RemoteBackend(url, token)
    if op == "list":
        return backend._send("GET", "/api/v1/signals", params={"all": "true" if body.get("all") else "false"})
    assert service is not None
    return backend._send("POST", f"/api/v1/signals/{quote(service, safe='')}/{op}", json=body)


def _render_groups(groups: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    if not groups:
        typer.echo("no signals waiting")
        return
    table = Table(title="Waiting signals")
    for column in ("service", "team", "alerts", "firing since", "severities", "top alert", "note"):
        table.add_column(column)
    for group in groups:
        top = group["alerts"][0] if group["alerts"] else {}
        notes = []
        if group["ownership_unclear"]:
            notes.append("ownership unclear")
        if group["open_incident"]:
            notes.append(f"open: {group['open_incident']}")
        if group["silenced"]:
            notes.append(f"silenced until {group['silenced']['until']}")
        table.add_row(
            group["service"],
            group["team"] or "-",
            str(group["count"]),
            group["firing_since"] or "-",
            ", ".join(f"{k} {v}" for k, v in sorted(group["severities"].items())),
            str(top.get("summary", "")),
            "; ".join(notes),
        )
    Console(markup=False).print(table)
