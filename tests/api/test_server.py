"""The server composition, the demo seed, and ``warroom serve`` / ``warroom token``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import typer
from typer.testing import CliRunner

from tests.api.conftest import Clock, TestClient
from warroom.bootstrap import App
from warroom.cli import serve as serve_cli
from warroom.cli import tokens as token_cli
from warroom.server import GC_YOUNG, create_app, first_admin_token, seed_demo
from warroom.services import operations as ops
from warroom.services.identity import auth


def test_the_demo_seed_is_a_realistic_sev2_and_runs_once(api_app: App) -> None:
    ref = seed_demo(api_app)
    assert ref == "INC-1"
    room = ops.show(api_app.context, ref)
    assert room["severity"] == "SEV2" and room["status"] == "triage"
    assert {role for role in room["roles"]} == {"commander", "comms", "scribe"}
    assert room["facts"] and room["open_guesses"] and room["mitigations"] and room["updates"]
    assert seed_demo(api_app) is None
    assert len(ops.list_incidents(api_app.context, {})) == 1


def test_the_first_admin_token_is_created_once(api_app: App) -> None:
    token = first_admin_token(api_app)
    assert token is not None
    found = auth.authenticate(api_app.context, token)
    assert found is not None and found.role == "admin"
    assert first_admin_token(api_app) is None


def test_create_app_stores_the_app_and_serves_openapi(api_app: App) -> None:
    fastapi_app = create_app(api_app, with_web=False)
    assert fastapi_app.state.warroom is api_app
    schema = TestClient(fastapi_app).get("/openapi.json").json()
    assert schema["paths"]["/api/v1/incidents"]["post"]["operationId"] == "declare"
    body = schema["components"]["schemas"]["DeclareBody"]
    assert "title" in body["required"] and "customer_impact" in body["properties"]


def test_create_app_includes_the_web_room_when_it_is_there(api_app: App) -> None:
    pytest.importorskip("warroom.web.routes", reason="the web room is not in this tree yet")
    client = TestClient(create_app(api_app))
    assert client.get("/status").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def api_app(sqlite_url: str, build_app: Callable[..., App]) -> App:
    return build_app(sqlite_url, clock=Clock())


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("version")(lambda: None)  # a second command keeps "token" a sub-command
    token_cli.register(app)
    serve_cli.register(app)
    return app


def test_token_commands_create_list_and_revoke(sqlite_url: str) -> None:
    env = {"WARROOM_DATABASE_URL": sqlite_url}
    runner = CliRunner()
    created = runner.invoke(_cli(), ["token", "create", "--role", "responder", "--name", "ci"], env=env)
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip()
    assert secret.startswith("wr_")
    as_json = runner.invoke(_cli(), ["token", "create", "--role", "viewer", "--name", "v", "--json"], env=env)
    assert json.loads(as_json.stdout)["token"].startswith("wr_")
    listed = json.loads(runner.invoke(_cli(), ["token", "list", "--json"], env=env).stdout)
    assert [(t["name"], t["role"], t["active"]) for t in listed] == [
        ("ci", "responder", True),
        ("v", "viewer", True),
    ]
    assert secret not in runner.invoke(_cli(), ["token", "list"], env=env).stdout
    bound = runner.invoke(
        _cli(),
        ["token", "create", "--role", "ingest", "--name", "prod-am", "--source", "Alertmanager"],
        env=env,
    )
    assert bound.exit_code == 0 and "for /hooks/alertmanager" in bound.stderr
    table = runner.invoke(_cli(), ["token", "list"], env=env).stdout
    assert "SOURCE" in table and "alertmanager" in table.splitlines()[-1]
    listed = json.loads(runner.invoke(_cli(), ["token", "list", "--json"], env=env).stdout)
    assert [t["source"] for t in listed] == [None, None, "alertmanager"]
    assert runner.invoke(_cli(), ["token", "revoke", "ci"], env=env).exit_code == 0
    assert (
        json.loads(runner.invoke(_cli(), ["token", "list", "--json"], env=env).stdout)[0]["active"] is False
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["token", "create", "--role", "root", "--name", "x"], "error: role: 'root' is not one of"),
        (["token", "revoke", "nobody"], "error: no token 'nobody'"),
        (
            ["token", "create", "--role", "ingest", "--name", "x", "--source", "nagios"],
            "error: source: 'nagios' is not one of alertmanager, grafana, pagerduty, generic, changes",
        ),
        (
            ["token", "create", "--role", "ingest", "--name", "all-hooks"],
            "error: source: an ingest token opens one webhook: give --source (alertmanager, grafana,",
        ),
        (
            ["token", "create", "--role", "viewer", "--name", "x", "--source", "grafana"],
            "error: source: only an ingest token is bound to a webhook source",
        ),
        (["token", "create", "--role", "ingest", "--name", "x", "--source", "grafana\x00"], "error: source:"),
    ],
)
def test_token_command_errors_are_one_line(sqlite_url: str, args: list[str], message: str) -> None:
    result = CliRunner().invoke(_cli(), args, env={"WARROOM_DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert result.stderr.startswith(message) and result.stderr.count("\n") == 1


def test_the_cli_modules_import_nothing_heavy() -> None:
    code = (
        "import sys, warroom.cli.serve, warroom.cli.tokens, warroom.cli.remote; "
        "heavy = [m for m in ('sqlalchemy', 'fastapi', 'uvicorn', 'alembic') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_warroom_serve_starts_empty_prints_a_token_and_answers(tmp_path: Path) -> None:
    port = _free_port()
    env = os.environ | {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "PYTHONUNBUFFERED": "1"}
    code = "from warroom.server import serve; from warroom.settings import load_settings; "
    code += f"serve(load_settings(), '127.0.0.1', {port})"
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("warroom serve did not answer within 20 s")
        proc.terminate()
        output, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert f"warroom on http://127.0.0.1:{port}" in output
    assert "seeded" not in output  # a demo incident would take the first real alerts
    from warroom.bootstrap import build
    from warroom.settings import Settings

    real = build(Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}"))
    assert ops.list_incidents(real.context, {}) == []
    token = output.split("admin token (shown once, keep it): ")[1].split()[0]
    assert token.startswith("wr_")


@pytest.mark.parametrize("entry", ["serve", "app_from_parent"])
def test_a_server_process_freezes_its_start_up_heap_and_collects_young_objects_less_often(
    tmp_path: Path, entry: str
) -> None:
    """Both entry points of a server process (``serve`` and each process of ``serve
    --workers N``) tune the collector once the app is built: start-up's objects frozen out
    of every collection, the youngest generation collected after GC_YOUNG objects."""
    code = (
        "import base64, gc, os, pickle, uvicorn; from warroom import server; "
        "from warroom.settings import load_settings; "
        # frozen objects are left out of gc.get_objects(): the app, built before the freeze, is
        "report = lambda app: print('gc', gc.get_threshold()[0], gc.get_freeze_count() > 10000, "
        "all(o is not app for o in gc.get_objects())); "
    )
    if entry == "serve":
        code += "uvicorn.run = lambda app, **kw: report(app); server.serve(load_settings(), '127.0.0.1', 1)"
    else:
        code += (
            "os.environ[server.SETTINGS_ENV] = base64.b64encode(pickle.dumps(load_settings())).decode(); "
            "report(server.app_from_parent())"
        )
    env = os.environ | {"WARROOM_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}"}
    if entry == "app_from_parent":  # the parent migrated the database before starting its processes
        subprocess.run(
            [sys.executable, "-c", "from warroom.bootstrap import build; from warroom.settings import load_settings; build(load_settings())"],
            env=env, cwd=tmp_path, check=True, capture_output=True,
        )  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert f"gc {GC_YOUNG} True True" in out.stdout.splitlines()
