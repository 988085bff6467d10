"""``warroom status`` and ``warroom update --stage`` through the real CLI on a SQLite file."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from warroom.cli.main import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "catalog.yaml").write_text(
        "teams: [{name: web}]\n"
        "services:\n"
        "  - {name: checkout, team: web, status_page: {name: Checkout, group: Shopping}}\n"
        "  - {name: ledger-db, team: web}\n"
    )
    (tmp_path / "warroom.toml").write_text(
        f'database_url = "sqlite:///{tmp_path / "w.db"}"\ncatalog = "catalog.yaml"\n'
    )
    return {"WARROOM_CONFIG": str(tmp_path / "warroom.toml"), "WARROOM_ACTOR": "lee", "WARROOM_URL": ""}


def cli(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if "--json" in args and code == 0 else result.output


def test_a_component_state_is_set_by_hand_and_back_to_automatic(env: dict[str, str]) -> None:
    cli(env, "declare", "--title", "Checkout 5xx", "-s", "checkout", "--customer-impact", "40%")
    posted = cli(
        env, "update", "INC-1", "Checkout fails.", "--audience", "public", "--stage", "identified", "--json"
    )
    assert posted["updates"][-1]["text"] == "Checkout fails."
    rows = cli(env, "status", "component", "list", "--json")
    assert [(r["service"], r["state"]) for r in rows] == [("checkout", "major_outage")]
    held = cli(
        env,
        "status",
        "component",
        "set",
        "checkout",
        "degraded performance",
        "--reason",
        "recovering",
        "--json",
    )
    assert (held["state"], held["automatic"], held["manual"]["by"]) == (
        "degraded_performance",
        "major_outage",
        "lee",
    )
    assert "set by lee" in cli(env, "status", "component", "list")
    assert cli(env, "status", "component", "set", "checkout", "auto", "--json")["manual"] is None


def test_maintenance_add_list_cancel(env: dict[str, str]) -> None:
    start = datetime.now(UTC) + timedelta(hours=1)
    made = cli(
        env,
        "status",
        "maintenance",
        "add",
        "checkout",
        "--starts",
        start.isoformat(),
        "--ends",
        (start + timedelta(hours=1)).isoformat(),
        "--text",
        "Payment provider upgrade.",
        "--json",
    )
    assert (made["id"], made["phase"]) == ("MNT-1", "upcoming")
    assert "MNT-1" in cli(env, "status", "maintenance", "list")
    assert cli(env, "status", "maintenance", "cancel", "MNT-1", "--json")["phase"] == "cancelled"
    assert "no maintenance scheduled" in cli(env, "status", "maintenance", "list")


def test_bad_input_is_one_plain_line_and_stores_nothing(env: dict[str, str]) -> None:
    assert "not a component" in cli(env, "status", "component", "set", "ledger-db", "major_outage", code=1)
    assert "is not one of" in cli(env, "status", "component", "set", "checkout", "\x1b[31mred", code=1)
    out = cli(
        env,
        "status",
        "maintenance",
        "add",
        "checkout",
        "--starts",
        "soon",
        "--ends",
        "later",
        "--text",
        "x",
        code=1,
    )
    assert "ISO 8601" in out and "Traceback" not in out
    assert "not a maintenance id" in cli(env, "status", "maintenance", "cancel", "x" * 5000, code=1)
    cli(env, "declare", "--title", "t", "-s", "checkout", "--customer-impact", "40%")
    assert "is not one of" in cli(
        env, "update", "INC-1", "x", "--audience", "public", "--stage", "done", code=1
    )
    assert cli(env, "status", "component", "list", "--json")[0]["manual"] is None
    assert cli(env, "status", "maintenance", "list", "--all", "--json") == []
