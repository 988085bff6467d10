"""``warroom login --url``: the CLI signs in through the browser-approved device code,
against a real server on 127.0.0.1, and saves a personal token in a 0600 file."""

from __future__ import annotations

import re
import stat
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from tests.conftest import dispose
from tests.identity.support import cheap_app, sqlite_url
from tests.web.browser import running
from warroom.bootstrap import App
from warroom.cli.main import app as cli
from warroom.server import create_app
from warroom.services.identity import accounts, auth, device

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def world(tmp_path: Path) -> Iterator[dict[str, Any]]:
    app = cheap_app(sqlite_url(tmp_path))
    _, secret = accounts.add_user(app.context, "alice", "responder", name="Alice")
    accounts.set_password(app.context, secret, PASSWORD, PASSWORD)
    with running(create_app(app)) as base:
        yield {"app": app, "base": base, "home": tmp_path}
    dispose(app)


@contextmanager
def _signed_in(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base) as client:
        yield _sign_in(client)


def _sign_in(client: httpx.Client) -> httpx.Client:
    page = client.get("/login")
    csrf = CSRF.search(page.text)
    assert csrf
    answer = client.post(
        "/login/password", data={"csrf_token": csrf.group(1), "handle": "alice", "password": PASSWORD}
    )
    assert answer.status_code == 303
    return client


def _pending_code(app: App) -> str:
    engine = create_engine(app.settings.database_url)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as db:
                row = db.execute(
                    text("SELECT user_code FROM device_logins WHERE approved_by IS NULL")
                ).first()
            if row is not None:
                return str(row[0])
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError("the CLI never started a login")


def test_the_cli_signs_in_through_the_browser_and_keeps_the_token_0600(world: dict[str, Any]) -> None:
    base, app = world["base"], world["app"]
    saved = world["home"] / "config" / "credentials.json"
    env = {"WARROOM_CREDENTIALS": str(saved), "WARROOM_URL": "", "WARROOM_TOKEN": ""}
    result: dict[str, Any] = {}
    thread = threading.Thread(
        target=lambda: result.update(run=CliRunner().invoke(cli, ["login", "--url", base], env=env))
    )
    thread.start()
    code = _pending_code(app)
    with _signed_in(base) as browser:
        page = browser.get(f"/device?code={code}")
        assert page.status_code == 200 and code in page.text
        csrf = CSRF.search(page.text)
        assert csrf
        approved = browser.post(
            "/device", data={"csrf_token": csrf.group(1), "code": code.lower().replace("-", " ")}
        )
        assert approved.status_code == 200 and "Approved" in approved.text
    thread.join(timeout=30)
    run = result["run"]
    assert run.exit_code == 0, run.output
    assert code in run.stderr and "/device" in run.stderr
    assert "wr_" not in run.stdout + run.stderr  # the token is never shown
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    assert stat.S_IMODE(saved.parent.stat().st_mode) == 0o700
    (token,) = [t for t in auth.list_tokens(app.context)]
    assert (token.kind, token.owner, token.role) == ("personal", "alice", "responder")
    # the saved token is used by --url without --token, and events name alice
    declared = CliRunner().invoke(
        cli, ["--url", base, "declare", "--title", "Checkout down", "-s", "checkout", "--json"], env=env
    )
    assert declared.exit_code == 0, declared.output
    listed = CliRunner().invoke(cli, ["--url", base, "timeline", "INC-1", "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert '"actor": "alice"' in listed.stdout


def test_device_codes_are_single_use_and_refuse_hostile_input(world: dict[str, Any]) -> None:
    app = world["app"]
    began = device.start(app.context)
    assert device.redeem(app.context, began.device_code) is None  # pending
    device.approve(app.context, began.user_code, "alice")
    assert device.redeem(app.context, began.device_code)
    with pytest.raises(Exception, match="already used"):
        device.redeem(app.context, began.device_code)
    with pytest.raises(Exception, match="already approved"):
        device.approve(app.context, began.user_code, "alice")
    with httpx.Client(base_url=world["base"]) as client:
        for body in (
            {"device_code": "wdc_nope"},
            {"device_code": "x" * 5000},
            {"device_code": "wdc_\u0000"},
            {},
        ):
            answer = client.post("/api/v1/device/token", json=body)
            assert answer.status_code in (404, 422) and answer.headers["content-type"].startswith(
                "application/problem+json"
            )
    with _signed_in(world["base"]) as browser:
        page = browser.get("/device")
        csrf = CSRF.search(page.text)
        assert csrf
        for code in ("ZZZZ-ZZZZ", "\u202e" * 20, "x" * 5000, ""):
            answer = browser.post("/device", data={"csrf_token": csrf.group(1), "code": code})
            assert answer.status_code == 422 and "run warroom login again" in answer.text
