"""``warroom status subscribers list|remove`` on the local database and with ``--url``
(an admin token), and the REST routes under them refusing bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.web.browser import serving
from warroom.bootstrap import build
from warroom.cli.main import app as cli_app
from warroom.server import create_app
from warroom.services.comms import subscribers
from warroom.services.identity import auth
from warroom.settings import load_settings


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "catalog.yaml").write_text(
        "services:\n  - name: checkout\n    team: shop\n    status_page: {name: checkout}\n"
    )
    path = tmp_path / "warroom.toml"
    path.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "warroom.db"}"
catalog = "catalog.yaml"
secret_key = "a test secret that is long enough"

[notify]
base_url = "https://status.example.com"

[notify.smtp]
host = "127.0.0.1"
port = 1

[subscribers]
allow_private_webhooks = true
"""
    )
    return path


def cli(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(cli_app, list(args), env=env)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result.output


def test_list_and_remove_locally_and_over_rest(config: Path) -> None:
    settings = load_settings({"WARROOM_CONFIG": str(config)}, config.parent)
    app = build(settings)
    ctx = app.context
    subscribers.subscribe_email(ctx, "ana@example.com", ["checkout"])
    subscribers.subscribe_webhook(ctx, "http://127.0.0.1:9/hook")
    subscribers.subscribe_email(ctx, "bo@example.com")

    local = {"WARROOM_CONFIG": str(config), "WARROOM_ACTOR": "lee", "WARROOM_URL": ""}
    rows = cli(local, "status", "subscribers", "list", "--json")
    assert [(r["id"], r["kind"], r["target"], r["services"], r["state"]) for r in rows] == [
        (1, "email", "ana@example.com", ["checkout"], "pending"),
        (2, "webhook", "http://127.0.0.1:9/hook", "all", "confirmed"),
        (3, "email", "bo@example.com", "all", "pending"),
    ]
    assert "ana@example.com" in cli(local, "status", "subscribers", "list")
    assert "removed subscriber 3" in cli(local, "status", "subscribers", "remove", "3")
    assert "no subscriber 3" in cli(local, "status", "subscribers", "remove", "3", code=1)
    cli(local, "status", "subscribers", "remove", "abc", code=2)
    cli(local, "status", "subscribers", "remove", "0", code=2)

    admin, _ = auth.create_token(ctx, "root", "admin")
    responder, _ = auth.create_token(ctx, "alice", "responder")
    with serving(create_app(app, with_web=False)) as (base, _server):
        remote = {"WARROOM_URL": base, "WARROOM_TOKEN": admin, "WARROOM_CONFIG": "/nonexistent"}
        assert cli(remote, "status", "subscribers", "list", "--json") == rows[:2]
        assert (
            json.loads(
                CliRunner()
                .invoke(cli_app, ["status", "subscribers", "remove", "1", "--json"], env=remote)
                .stdout
            )["target"]
            == "ana@example.com"
        )
        assert "no subscriber 1" in cli(remote, "status", "subscribers", "remove", "1", code=1)
        weak = remote | {"WARROOM_TOKEN": responder}
        assert "needs the admin role" in cli(weak, "status", "subscribers", "list", code=2)

        import httpx

        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}) as client:
            for body in ({"id": "x"}, {"id": 0}, {"id": 2**70}, {"id": 2, "extra": 1}, {}):
                answer = client.post("/api/v1/status/subscribers/remove", json=body)
                assert answer.status_code == 422, (body, answer.text)
                assert answer.headers["content-type"] == "application/problem+json"
            huge = client.post("/api/v1/status/subscribers/remove", content=b"{" + b" " * 3_000_000 + b"}")
            assert huge.status_code == 413
            assert client.get("/api/v1/status/subscribers?limit=0").status_code == 422
    assert [r["id"] for r in subscribers.list_subscribers(ctx)] == [2]
    engine = getattr(app.context.uow, "args", (None,))[0]
    engine.dispose()
