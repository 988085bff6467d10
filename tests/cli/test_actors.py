"""Where the CLI shows who acted, it names the person first and the service that acted for
them after: ``alice (via deploy-bot)``, never the raw ``alice via deploy-bot``."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli
from warroom.cli.render import who


@pytest.mark.parametrize(
    ("actor", "via", "shown"),
    [
        ("alice", None, "alice"),
        ("alice via deploy-bot", None, "alice (via deploy-bot)"),
        ("alice", "deploy-bot", "alice (via deploy-bot)"),  # a view that split it already
        ("via", None, "via"),
        (" via deploy-bot", None, " via deploy-bot"),  # no person: shown as recorded
        (None, None, "-"),
    ],
)
def test_who_names_the_person_then_the_service(actor: str | None, via: str | None, shown: str) -> None:
    assert who(actor, via) == shown


def test_timeline_changes_decisions_and_milestones_name_the_person(cli: Cli) -> None:
    bot = ("--as", "alice via deploy-bot")
    cli.ok(*bot, "declare", "--title", "Checkout 5xx", "-s", "checkout", "--detected-at", "5m")
    cli.ok(
        *bot, "change", "add", "--service", "checkout", "--kind", "deploy", "--summary", "v2", "--at", "10m"
    )
    cli.ok(*bot, "decide", "INC-1", "roll back", "--why", "the deploy lines up")
    timeline = cli.ok("timeline", "INC-1")
    assert "alice (via deploy-bot)" in timeline and "alice via deploy-bot" not in timeline
    room = cli.ok("show", "INC-1")
    assert "alice (via deploy-bot)" in room and "alice via deploy-bot" not in room
    changes = cli.ok("changes", "INC-1")
    assert "alice (via deploy-bot)" in changes
    recorded = cli.ok("timeline", "INC-1", "--json")  # the JSON keeps the record (split or not)
    assert {(e["actor"], e.get("via")) for e in recorded} in (
        {("alice via deploy-bot", None)},
        {("alice", "deploy-bot")},
    )
