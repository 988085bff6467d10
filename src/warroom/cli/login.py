"""``warroom login --url URL``: sign the CLI in to a server as yourself.

A device-code flow: the server answers a short code and a URL; you open the URL in a
browser where you are signed in, type the code and approve; the CLI, polling meanwhile,
receives a personal token and saves it for that URL (``cli/credentials.py``, 0600). No
token is ever typed or shown on a command line.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

import typer

from warroom.cli import session


def register(app: typer.Typer) -> None:
    app.command("login")(login)


def login(
    url: Annotated[
        str | None, typer.Option("--url", help="The server (default: the global --url / WARROOM_URL).")
    ] = None,
    timeout: Annotated[float, typer.Option(help="Give up after this many seconds (600).", min=1)] = 600.0,
) -> None:
    """Sign the CLI in to a server through the browser; the token is saved in your config."""
    import httpx

    from warroom.cli.credentials import save

    server = (url or session.STATE.url or "").strip().rstrip("/")
    if not server.startswith(("http://", "https://")):
        raise session.fail("give the server: warroom login --url https://warroom.example")
    try:
        with httpx.Client(base_url=server, timeout=httpx.Timeout(10.0, connect=3.0)) as client:
            began = _json(client.post("/api/v1/device"), 201)
            typer.echo(f"Open {began['verification_uri']}?code={began['user_code']}", err=True)
            typer.echo(f"and approve the code {began['user_code']} (signed in as yourself).", err=True)
            deadline = time.monotonic() + min(timeout, float(began["expires_in"]))
            while time.monotonic() < deadline:
                time.sleep(float(began["interval"]))
                answer = client.post("/api/v1/device/token", json={"device_code": began["device_code"]})
                if answer.status_code == 202:
                    continue
                token = _json(answer, 200)["token"]
                where = save(server, token)
                typer.echo(f"signed in to {server}; the token is saved in {where}")
                return
    except httpx.HTTPError as exc:
        raise session.fail(f"cannot reach {server}: {exc}") from None
    raise session.fail("the code was not approved in time: run warroom login again")


def _json(answer: Any, expected: int) -> Any:
    if answer.status_code != expected:
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = None
        raise session.fail(f"the server answered {answer.status_code}: {detail or answer.text[:200]}")
    return answer.json()
