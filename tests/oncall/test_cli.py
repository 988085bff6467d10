"""``warroom oncall``, ``warroom page`` and ``warroom ack`` through Typer's runner on a real
SQLite database: a setup from a file, who is on call, paging and acknowledging, and bad
input refused in one line with nothing stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import Cli, make_cli
from tests.oncall.world import oncall_document


@pytest.fixture
def cli(tmp_path: Path, sqlite_url: str) -> Iterator[Cli]:
    runner = make_cli(tmp_path, sqlite_url)
    runner.ok("init")
    (tmp_path / "oncall.yaml").write_text(yaml.safe_dump(oncall_document("http://127.0.0.1:9/x")))
    yield runner
    runner.close()


def test_a_setup_from_a_file_then_who_is_on_call_and_a_page_acknowledged(cli: Cli) -> None:
    assert "declared 3 people" in cli.ok("oncall", "apply", str(cli.home / "oncall.yaml"))
    now = cli.ok("oncall", "now", "--at", "2026-11-26T10:00Z", "--json")
    assert {r["schedule"]: r["person"] for r in now} == {
        "payments-primary": "alice",
        "incident-commanders": "ivan",
    }
    assert "alice" in cli.ok("oncall", "now", "--service", "checkout", "--at", "2026-11-26T10:00Z")
    cli.ok("declare", "--title", "Checkout errors", "-s", "checkout")
    page = cli.ok("page", "payments", "card declines", "--incident", "INC-1", "--json")
    assert page["policy"] == "payments" and page["status"] == "triggered"
    acked = cli.ok("ack", page["id"], "--json")
    assert acked["acknowledged_by"] == "tester" and acked["commander"] == "offered"
    assert page["id"] in cli.ok("oncall", "pages", "--all")
    timeline = cli.ok("timeline", "INC-1", "--json")
    assert [e["kind"] for e in timeline if e["kind"].startswith("page_")][:2] == [
        "page_opened",
        "page_escalated",
    ]
    assert "resolved" in cli.ok("oncall", "resolve", page["id"], "--why", "handled")


def test_people_contacts_rules_schedules_and_overrides_from_the_command_line(cli: Cli) -> None:
    cli.ok("oncall", "person", "add", "zoe", "--name", "Zoe", "--tz", "Europe/Berlin")
    cli.ok("oncall", "person", "add", "yan", "--tz", "Asia/Tokyo")
    cli.ok(
        "oncall",
        "person",
        "contact",
        "zoe",
        "push",
        "--kind",
        "apprise",
        "--address",
        "ntfy://ntfy.example/zoe",
    )
    cli.ok("oncall", "person", "contact", "zoe", "mail", "--kind", "email", "--address", "zoe@example.com")
    cli.ok("oncall", "person", "rules", "zoe", "push=0", "mail=2")
    shown = cli.ok("oncall", "person", "show", "zoe", "--json")
    assert [c["address"] for c in shown["contacts"]] == ["ntfy://…", "zoe@example.com"]
    cli.ok(
        "oncall",
        "schedule",
        "add",
        "nights",
        "-m",
        "zoe",
        "-m",
        "yan",
        "--start",
        "2026-11-23T18:00",
        "--tz",
        "Europe/Berlin",
        "--rotation",
        "daily",
    )
    cli.ok(
        "oncall",
        "schedule",
        "override",
        "nights",
        "--person",
        "yan",
        "--start",
        "2026-11-26T17:00Z",
        "--end",
        "2026-11-26T23:00Z",
    )
    assert (
        cli.ok("oncall", "now", "--schedule", "nights", "--at", "2026-11-26T20:00Z", "--json")[0]["person"]
        == "yan"
    )
    cli.ok(
        "oncall",
        "policy",
        "add",
        "night-watch",
        "--step",
        "schedule:nights@5",
        "--step",
        "person:zoe,person:yan@10",
    )
    assert "night-watch" in cli.ok("oncall", "policy", "list")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("oncall", "person", "add", "zoe", "--tz", "Mars/Olympus"), "not a known time zone"),
        (
            ("oncall", "schedule", "add", "s", "-m", "nobody", "--start", "2026-11-23T09:00"),
            "no person 'nobody'",
        ),
        (("oncall", "policy", "add", "loop", "--step", "policy:loop@5"), "hands over to itself"),
        (("page", "nobody-known", "why"), "nobody-known"),
        (("ack", "P-99"), "no page P-99"),
        (
            (
                "oncall",
                "person",
                "contact",
                "zoe",
                "hook",
                "--kind",
                "webhook",
                "--address",
                "https://x.example",
            ),
            "needs a secret",
        ),
    ],
)
def test_bad_input_is_one_line_and_stores_nothing(cli: Cli, args: tuple[str, ...], words: str) -> None:
    assert words in cli.refused(*args)


def test_overlapping_overrides_are_refused_on_the_command_line(cli: Cli) -> None:
    cli.ok("oncall", "apply", str(cli.home / "oncall.yaml"))
    base = ("oncall", "schedule", "override", "payments-primary")
    cli.ok(*base, "--person", "bob", "--start", "2026-11-26T18:00Z", "--end", "2026-11-27T06:00Z")
    line = cli.refused(
        *base, "--person", "ivan", "--start", "2026-11-27T05:00Z", "--end", "2026-11-27T08:00Z"
    )
    assert "overlaps the override of bob" in line
