"""``warroom user add|list|setup-link|unlock|reset-totp|role|sessions|revoke-session``:
local accounts of people in the directory, in the local database.

``add`` prints the one-time setup link (the person chooses their password there); the
link's secret is shown once and only its sha256 is stored.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from warroom.cli.tokens import _run, _short

user_app = typer.Typer(help="Local accounts: people who sign in with a password.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
BaseUrl = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        help="The server's public URL for the link (default: notify.base_url, else http://127.0.0.1:8080).",
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")


def _link(ctx: Any, base: str | None, secret: str) -> str:
    from warroom.settings import load_settings

    if not base:
        notify = load_settings().raw.get("notify")
        configured = notify.get("base_url") if isinstance(notify, dict) else None
        base = configured if isinstance(configured, str) and configured else "http://127.0.0.1:8080"
    return f"{base.rstrip('/')}/setup/{secret}"


@user_app.command("add")
def add(
    handle: Annotated[str, typer.Argument(help="The person's handle in the directory (e.g. alice).")],
    role: Annotated[str, typer.Option(help="viewer, responder or admin.")],
    name: Annotated[
        str | None, typer.Option(help="Their name, when the directory has no such person yet.")
    ] = None,
    email: Annotated[
        str | None, typer.Option(help="Their email, when the directory has no such person yet.")
    ] = None,
    base_url: BaseUrl = None,
    as_json: JsonOpt = False,
) -> None:
    """Make HANDLE an account and print the one-time setup link (valid 72 hours)."""
    from warroom.services.identity import accounts

    account, secret = _run(lambda ctx: accounts.add_user(ctx, handle, role, name=name, email=email))
    link = _link(None, base_url, secret)
    if as_json:
        typer.echo(json.dumps(accounts.user_view(account) | {"setup_link": link}, indent=2, sort_keys=True))
        return
    typer.echo(link)
    typer.echo(
        f"{account.role} account {account.handle!r}: send them this link to choose a password "
        f"(works once, for {accounts.SETUP_HOURS} hours)",
        err=True,
    )


@user_app.command("setup-link")
def setup_link(
    handle: Annotated[str, typer.Argument(help="The account's handle.")],
    base_url: BaseUrl = None,
) -> None:
    """Print a new one-time setup link (a forgotten password); the old password works until it is used."""
    from warroom.services.identity import accounts

    secret = _run(lambda ctx: accounts.new_setup_link(ctx, handle))
    typer.echo(_link(None, base_url, secret))


@user_app.command("list")
def list_(as_json: JsonOpt = False) -> None:
    """List accounts: role, password set or not, second factor, locked."""
    from warroom.services.identity import accounts

    views = [accounts.user_view(a) for a in _run(accounts.users)]
    if as_json:
        typer.echo(json.dumps(views, indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("no accounts; add one with: warroom user add HANDLE --role responder")
        return
    typer.echo(f"{'HANDLE':<24} {'ROLE':<10} {'PASSWORD':<14} {'TOTP':<5} STATE")
    for v in views:
        password = "set" if v["password_set"] else "setup pending"
        state = "locked" if v["locked"] else "active"
        typer.echo(
            f"{v['handle']:<24} {v['role']:<10} {password:<14} {'on' if v['totp'] else 'off':<5} {state}"
        )


@user_app.command("unlock")
def unlock(handle: Annotated[str, typer.Argument(help="The account's handle.")]) -> None:
    """Unlock an account locked after repeated failed sign-ins."""
    from warroom.services.identity import accounts

    account = _run(lambda ctx: accounts.unlock(ctx, handle))
    typer.echo(f"unlocked {account.handle!r}")


@user_app.command("reset-totp")
def reset_totp(handle: Annotated[str, typer.Argument(help="The account's handle.")]) -> None:
    """Turn an account's second factor off (a lost phone); they may enrol again on /account."""
    from warroom.services.identity import accounts

    _run(lambda ctx: accounts.reset_totp(ctx, handle))
    typer.echo(f"second factor of {handle!r} is off")


@user_app.command("role")
def role(
    handle: Annotated[str, typer.Argument(help="The account's handle.")],
    new_role: Annotated[str, typer.Argument(metavar="ROLE", help="viewer, responder or admin.")],
) -> None:
    """Change an account's role (takes effect on its next page)."""
    from warroom.services.identity import accounts

    account = _run(lambda ctx: accounts.set_role(ctx, handle, new_role))
    typer.echo(f"{account.handle!r} is now {account.role}")


@user_app.command("sessions")
def sessions(
    handle: Annotated[str | None, typer.Argument(help="Only this account's sessions.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List live web sessions (never their secrets)."""
    from warroom.services.identity import accounts

    views = [accounts.session_view(s) for s in _run(lambda ctx: accounts.sessions(ctx, handle))]
    if as_json:
        typer.echo(json.dumps(views, indent=2, sort_keys=True))
        return
    if not views:
        typer.echo("no live sessions")
        return
    typer.echo(f"{'ID':>5}  {'HANDLE':<24} {'ADDRESS':<20} {'STARTED':<17} EXPIRES")
    for v in views:
        typer.echo(
            f"{v['id']:>5}  {v['handle']:<24} {v['address']:<20} {_short(v['created_at']):<17} {_short(v['expires_at'])}"
        )


@user_app.command("revoke-session")
def revoke_session(
    session_id: Annotated[
        int, typer.Argument(metavar="ID", help="The session's id (warroom user sessions).")
    ],
) -> None:
    """End a web session now: its next page asks to sign in again."""
    from warroom.domain.shared.errors import NotFound
    from warroom.services.identity import accounts

    def revoke(ctx: Any) -> None:
        if not accounts.revoke_session(ctx, session_id):
            raise NotFound(f"no live session {session_id}")

    _run(revoke)
    typer.echo(f"revoked session {session_id}")
