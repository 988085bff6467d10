"""Every verb of the CLI works, for people and with ``--json``, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, make_cli
from tests.cli.flow import play_every_verb


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_a_whole_incident_through_every_verb(cli: Cli, as_json: bool) -> None:
    ref = play_every_verb(cli, as_json)
    assert ref == "INC-1"


@pytest.fixture
def postgres_cli(tmp_path: Path, postgres_url: str) -> Iterator[Cli]:
    runner = make_cli(tmp_path, postgres_url)
    runner.ok("init")  # in this process: init disposes its migrating engine
    yield runner
    runner.close()


def test_the_whole_incident_on_postgresql(postgres_cli: Cli) -> None:
    play_every_verb(postgres_cli, as_json=True)
    assert postgres_cli.refused("show", "INC-99") == "error: no incident INC-99"


def test_init_writes_the_config_the_catalog_and_a_migrated_database(tmp_path: Path, sqlite_url: str) -> None:
    cli = make_cli(tmp_path, sqlite_url)
    first = cli.ok("init", "--json")
    assert sorted(Path(p).name for p in first["written"]) == ["catalog.yaml", "checkout.yaml", "warroom.toml"]
    assert first["database"] == sqlite_url
    again = cli.ok("init")
    assert "kept" in again and "--force overwrites" in again
    assert cli.fingerprint() == (0, 0, 0, 0, 0, 0)
    cli.close()


def test_help_lists_every_verb(cli: Cli) -> None:
    shown = cli.ok("--help")
    for verb in (
        "declare",
        "list",
        "show",
        "timeline",
        "assess",
        "severity",
        "role",
        "fact",
        "guess",
        "confirm",
    ):
        assert verb in shown
    for verb in ("refute", "decide", "note", "change", "changes", "mitigate", "mitigated", "update"):
        assert verb in shown
    for verb in ("resolve", "reopen", "close", "verify", "init", "demo"):
        assert verb in shown


@pytest.mark.parametrize("as_json", [False, True], ids=["human", "json"])
def test_the_demo_plays_a_whole_incident_that_verifies(cli: Cli, as_json: bool) -> None:
    args = ("demo", "--json") if as_json else ("demo",)
    shown = cli.ok(*args)
    if as_json:
        assert shown["incident"]["status"] == "resolved"
        assert shown["verify"]["ok"] is True
        assert shown["incident"]["roles"]["commander"]["person"] == "bob"
    else:
        assert "Resolve: impact stopped and risk controlled" in shown
        assert "ok: 1 incident chain(s) verified" in shown
    assert cli.ok("verify", "--json")["ok"] is True


def test_the_room_shows_the_latest_facts_and_says_how_many_are_left_out(cli: Cli) -> None:
    cli.ok("declare", "--title", "Long incident", "-s", "checkout")
    for i in range(1, 18):
        cli.ok("fact", "INC-1", f"observation number {i}", "--source", "log")
    room = cli.ok("show", "INC-1")
    assert "observation number 17" in room and "observation number 3 " in room
    assert "observation number 2 " not in room
    assert "... 2 earlier facts (--json lists all)" in room
    assert len(cli.ok("show", "INC-1", "--json")["facts"]) == 17
