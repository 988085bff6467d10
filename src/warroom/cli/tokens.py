"""``warroom token create|list|revoke``: API tokens in the local database.

The secret is printed once, at creation; only its sha256 is stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from warroom.cli import session

token_app = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def register(app: typer.Typer) -> None:
    app.add_typer(token_app, name="token")


def _context() -> Any:
    from warroom.bootstrap import build
    from warroom.settings import load_settings

    return build(load_settings()).context


def _run(action: Any) -> Any:
    """Run ``action(ctx)``; a refusal or a configuration problem is one line on stderr, exit 1."""
    from warroom.domain.shared.errors import DomainError
    from warroom.settings import SettingsError

    try:
        return action(_context())
    except DomainError as exc:
        raise session.refuse(exc) from None
    except SettingsError as exc:
        raise session.fail(str(exc)) from None
    except Exception as exc:
        if type(exc).__name__ in ("OperationalError", "CatalogError", "ArgumentError"):
            raise session.fail(str(exc).splitlines()[0]) from None
        raise


@token_app.command("create")
def create(
    role: Annotated[
        str,
        typer.Option(
            metavar="[viewer|responder|admin|ingest]", help="What it may do (ingest: webhooks only)."
        ),
    ],
    name: Annotated[str, typer.Option(help="Who or what uses it; recorded as the actor.")],
    source: Annotated[
        str | None,
        typer.Option(
            help="Ingest tokens: the one webhook it opens (alertmanager, grafana, pagerduty, "
            "generic, changes, or otlp for POST /v1/traces). Required, unless the name starts with one (alertmanager:prod)."
        ),
    ] = None,
    integration_key: Annotated[
        list[str] | None,
        typer.Option(
            "--integration-key",
            help="PagerDuty ingest tokens: an integration key to import (32 letters and digits, "
            "as PagerDuty shows it), or SERVICE=KEY; PagerDuty's clients then send it as routing_key. "
            "Repeatable.",
        ),
    ] = None,
    new_integration_key: Annotated[
        int,
        typer.Option(
            "--new-integration-key",
            count=True,
            help="PagerDuty ingest tokens: generate an integration key (printed once). Repeatable.",
        ),
    ] = 0,
    service: Annotated[
        str | None,
        typer.Option(help="The service integration keys route to, unless given as SERVICE=KEY."),
    ] = None,
    owner: Annotated[str | None, typer.Option(help="The person it belongs to (a directory handle).")] = None,
    personal: Annotated[
        bool,
        typer.Option("--personal", help="A personal token: the timeline names its owner as the actor."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a token and print it once (it cannot be shown again)."""
    from warroom.services.identity import auth

    if integration_key or new_integration_key or service:
        _create_with_keys(name, role, source, integration_key or [], new_integration_key, service, as_json)
        return
    kind = "personal" if personal else "service"
    plain, info = _run(lambda ctx: auth.create_token(ctx, name, role, source, owner=owner, kind=kind))
    if as_json:
        typer.echo(json.dumps(auth.token_view(info) | {"token": plain}, indent=2, sort_keys=True))
        return
    typer.echo(plain)
    bound = auth.bound_source(info)
    scope = f" for /hooks/{bound}" if bound else ""
    whose = f", {info.owner}'s" if info.owner else ""
    typer.echo(
        f"{info.kind} {info.role} token {info.name!r}{scope}{whose} (id {info.id}); shown once, keep it secret",
        err=True,
    )


def _create_with_keys(
    name: str,
    role: str,
    source: str | None,
    specs: list[str],
    generate: int,
    service: str | None,
    as_json: bool,
) -> None:
    """An ingest token for /hooks/pagerduty carrying integration keys; new keys are printed once."""
    from warroom.services.identity import integration_keys as keys

    def create(ctx: Any) -> Any:
        from warroom.domain.shared.errors import ValidationError

        if role.strip().lower() != "ingest" or (source or "pagerduty").strip().lower() != "pagerduty":
            raise ValidationError(
                "integration_key", "only an ingest token for pagerduty carries integration keys"
            )
        return keys.create_with_keys(
            ctx, name, keys=[keys.parse_key_spec(spec) for spec in specs], generate=generate, service=service
        )

    plain, info, made = _run(create)
    shown = [
        {"key": key or keys.masked(stored.hint), "service": stored.service, "generated": key is not None}
        for key, stored in made
    ]
    if as_json:
        from warroom.services.identity import auth

        view = auth.token_view(info) | {"token": plain, "integration_keys": shown}
        typer.echo(json.dumps(view, indent=2, sort_keys=True))
        return
    typer.echo(plain)
    for key, _ in made:
        if key is not None:
            typer.echo(key)
    listed = ", ".join(
        f"{keys.masked(stored.hint)}{' (new)' if key else ''} -> {stored.service or '(by labels)'}"
        for key, stored in made
    )
    typer.echo(
        f"ingest token {info.name!r} for /hooks/pagerduty (id {info.id}); integration keys: {listed}. "
        "The token and new keys are shown once, keep them secret",
        err=True,
    )


@token_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List tokens (never their secrets; integration keys by their last four characters)."""
    from warroom.services.identity import integration_keys as keys

    views = _run(keys.token_views)
    if as_json:
        typer.echo(json.dumps(views, indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("no tokens; create one with: warroom token create --role ROLE --name NAME")
        return
    typer.echo(
        f"{'ID':>4}  {'NAME':<24} {'KIND':<9} {'OWNER':<16} {'ROLE':<10} {'SOURCE':<13} "
        f"{'CREATED':<20} {'LAST USED':<20} STATE"
    )
    for v in views:
        state = "active" if v["active"] else f"revoked {_short(v['revoked_at'])}"
        typer.echo(
            f"{v['id']:>4}  {v['name']:<24} {v['kind']:<9} {v['owner'] or '-':<16} {v['role']:<10} {v['source'] or '-':<13} "
            f"{_short(v['created_at']):<20} {_short(v['last_used_at']) or '-':<20} {state}"
        )
        for key in v["integration_keys"]:
            typer.echo(f"{'':>6}integration key {key['key']} -> {key['service'] or '(by labels)'}")


@token_app.command("revoke")
def revoke(
    token: Annotated[str, typer.Argument(metavar="NAME_OR_ID", help="The token's name or id.")],
    as_json: JsonOpt = False,
) -> None:
    """Revoke a token. A server on this database stops accepting it within 5 seconds (it
    remembers webhook token lookups that long); revoked through the API (DELETE
    /api/v1/tokens/NAME), it stops at once on the server that answered and within 5
    seconds on the other replicas."""
    from warroom.services.identity import auth

    info = _run(lambda ctx: auth.revoke_token(ctx, token))
    if as_json:
        typer.echo(json.dumps(auth.token_view(info), indent=2, sort_keys=True))
        return
    typer.echo(f"revoked {info.role} token {info.name!r} (id {info.id})")


def _short(value: Any) -> str:
    return str(value)[:16].replace("T", " ") if value else ""
