"""``warroom outbox``, ``warroom stakeholders`` and ``warroom worker --once`` through the
real CLI on a SQLite file, delivering to a real HTTP receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.comms.support import Receiver
from warroom.cli.main import app


@pytest.fixture
def env(tmp_path: Path, receiver: Receiver) -> dict[str, str]:
    config = tmp_path / "warroom.toml"
    config.write_text(
        f"""
database_url = "sqlite:///{tmp_path / "warroom.db"}"

[notify]
max_attempts = 1

[[notify.channels]]
name = "incidents"
type = "slack"
url = "{receiver.url}"

[[notify.routes]]
channels = ["incidents"]
"""
    )
    return {"WARROOM_CONFIG": str(config), "WARROOM_ACTOR": "lee", "WARROOM_URL": ""}


def cli(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args else result.output


def test_stakeholders_add_remove_list(env: dict[str, str]) -> None:
    cli(env, "declare", "--title", "Checkout 5xx", "-s", "checkout", "--customer-impact", "12%")
    added = cli(env, "stakeholders", "INC-1", "add", "CFO@example.com", "--json")
    assert added == [{"target": "cfo@example.com", "audience": "internal", "source": "incident"}]
    both = cli(env, "stakeholders", "INC-1", "add", "incidents", "--audience", "public", "--json")
    assert [s["target"] for s in both] == ["cfo@example.com", "incidents"]
    refused = CliRunner().invoke(app, ["stakeholders", "INC-1", "add", "nosuch"], env=env)
    assert refused.exit_code == 1
    assert "'nosuch' is no [[notify.channels]] name (incidents) and no email address" in refused.output
    cli(env, "stakeholders", "INC-1", "remove", "incidents")
    assert "cfo@example.com" in cli(env, "stakeholders", "INC-1")
    assert cli(env, "stakeholders", "INC-1", "list", "--json") == added


def test_outbox_deliver_list_and_retry(env: dict[str, str], receiver: Receiver) -> None:
    receiver.respond = lambda _: (503, {})
    cli(env, "declare", "--title", "Checkout 5xx", "-s", "checkout")
    report = cli(env, "outbox", "deliver", "--json")
    assert report == {"routed": 1, "delivered": 0, "retrying": 0, "dead": 1}
    [dead] = cli(env, "outbox", "list", "--json")
    assert (dead["status"], dead["channel"], dead["kind"], dead["incident"]) == (
        "dead", "incidents", "incident_declared", "INC-1",
    )  # fmt: skip
    assert "HTTP 503" in dead["last_error"]
    assert "incidents" in cli(env, "outbox", "list")

    receiver.respond = lambda _: (204, {})
    assert cli(env, "outbox", "retry", "--all-dead", "--json") == {"retried": [dead["id"]]}
    assert "deliver_notifications: 1" in cli(env, "worker", "--once")
    assert receiver.idempotency_keys() == [dead["key"], dead["key"]]
    assert cli(env, "outbox", "list", "--json") == []
    [delivered] = cli(env, "outbox", "list", "--status", "delivered", "--json")
    assert delivered["key"] == dead["key"]


def test_outbox_refuses_an_unknown_status(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["outbox", "list", "--status", "lost"], env=env)
    assert result.exit_code == 1 and "status: 'lost' is not one of" in result.output
