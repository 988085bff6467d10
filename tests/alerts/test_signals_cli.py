"""``warroom signals`` on a local database: list, declare, attach and silence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from warroom.bootstrap import build
from warroom.domain.alerts.formats import parse_alertmanager
from warroom.domain.alerts.policy import AlertPolicy
from warroom.services.alerts.ingest import AlertIngest
from warroom.settings import load_settings

from .conftest import load

CATALOG = """
teams:
  - {name: storefront}
  - {name: sre, fallback: true}
services:
  - {name: demo-shop, team: storefront, tier: 2, matchers: ['service="demo-shop"']}
"""


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "warroom.toml").write_text('database_url = "sqlite:///warroom.db"\n')
    monkeypatch.setenv("WARROOM_CONFIG", str(tmp_path / "warroom.toml"))
    monkeypatch.setenv("WARROOM_ACTOR", "dana")
    monkeypatch.delenv("WARROOM_URL", raising=False)
    settings = load_settings()
    ingest = AlertIngest(build(settings).context, AlertPolicy())
    result = ingest.ingest(
        parse_alertmanager(load("alertmanager_firing_with_resolved_alert.json")), "alertmanager"
    )
    assert result.queued == 2  # demo-shop is tier 2 here: nothing declares
    return tmp_path


def cli(*args: str) -> Any:
    from warroom.cli.main import app

    result = CliRunner().invoke(app, list(args))
    return result


def test_signals_lists_the_queue_grouped_by_service(workdir: Path) -> None:
    shown = cli("signals", "--json")
    assert shown.exit_code == 0, shown.output
    groups = json.loads(shown.output)
    assert [(g["service"], g["count"], g["team"]) for g in groups] == [("demo-shop", 2, "storefront")]
    human = cli("signals")
    assert human.exit_code == 0 and "demo-shop" in human.output


def test_signals_declare_makes_an_incident_detected_at_the_first_alert(workdir: Path) -> None:
    declared = cli(
        "signals", "declare", "demo-shop", "--severity", "SEV3", "--why", "two routes fail", "--json"
    )
    assert declared.exit_code == 0, declared.output
    room = json.loads(declared.output)
    assert room["id"] == "INC-1" and room["milestones"]["detected_at"]["at"] == "2026-11-26T22:26:25.600000Z"
    assert room["milestones"]["declared_at"]["by"] == "dana"
    assert sorted(room["alerts"]) == ["115c12e7e9840226", "7d41a2c9e0b8f613"]
    assert json.loads(cli("signals", "--json").output) == []
    again = cli("signals", "declare", "demo-shop")
    assert again.exit_code == 1 and "no signals wait" in again.output


def test_signals_attach_and_silence(workdir: Path) -> None:
    assert cli("declare", "--title", "Shop down", "--service", "demo-shop").exit_code == 0
    refused = cli("signals", "declare", "demo-shop")
    assert refused.exit_code == 1 and "already has an open incident INC-1" in refused.output
    silenced = cli("signals", "silence", "demo-shop", "--until", "30m", "--reason", "known", "--json")
    assert silenced.exit_code == 0, silenced.output
    assert json.loads(cli("signals", "--json").output) == []
    assert json.loads(cli("signals", "--all", "--json").output)[0]["silenced"]["reason"] == "known"
    attached = cli("signals", "attach", "demo-shop", "INC-1")
    assert attached.exit_code == 0, attached.output
    assert "attached demo-shop's signals to INC-1" in attached.output
