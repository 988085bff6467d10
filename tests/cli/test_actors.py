"""Where the CLI shows who acted, it names them as people read them: ``Alice Ng (alice)``
for a person, ``deploy-bot (service, owner Alice Ng)`` for a service token acting for its
owner, never the raw ``alice via deploy-bot``; the JSON keeps the recorded actor."""

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


def test_timeline_changes_decisions_and_milestones_name_the_service_and_its_owner(cli: Cli) -> None:
    cli.ok("oncall", "person", "add", "alice", "--name", "Alice Ng")
    bot = ("--as", "alice via deploy-bot")
    cli.ok(*bot, "declare", "--title", "Checkout 5xx", "-s", "checkout", "--detected-at", "5m")
    cli.ok(
        *bot, "change", "add", "--service", "checkout", "--kind", "deploy", "--summary", "v2", "--at", "10m"
    )
    cli.ok(*bot, "decide", "INC-1", "roll back", "--why", "the deploy lines up")
    shown = "deploy-bot (service, owner Alice Ng)"
    timeline = cli.ok("timeline", "INC-1")
    assert shown in timeline and "alice via deploy-bot" not in timeline
    room = cli.ok("show", "INC-1")
    assert shown in room and "alice via deploy-bot" not in room
    changes = cli.ok("changes", "INC-1")
    assert shown in changes
    recorded = cli.ok("timeline", "INC-1", "--json")  # the JSON keeps the record, and adds the label
    assert {(e["actor"], e["via"], e["actor_name"]) for e in recorded} == {("alice", "deploy-bot", shown)}


def test_timeline_and_show_name_people_and_leave_others_as_recorded(cli: Cli) -> None:
    cli.ok("oncall", "person", "add", "alice", "--name", "Alice Ng")
    assert cli.run("token", "create", "--role", "responder", "--name", "release-bot").exit_code == 0
    cli.ok("--as", "alice", "declare", "--title", "Checkout 5xx", "-s", "checkout")
    cli.ok("--as", "alice", "role", "assign", "INC-1", "commander", "alice")
    cli.ok("--as", "release-bot", "fact", "INC-1", "errors began at the deploy", "--source", "grafana")
    cli.ok("--as", "bob", "fact", "INC-1", "only eu-west", "--source", "grafana")
    timeline = cli.ok("timeline", "INC-1")
    assert "Alice Ng (alice)" in timeline
    assert " release-bot " in timeline and "release-bot (" not in timeline  # nobody owns it
    assert " bob " in timeline  # not in the directory: as recorded
    room = cli.ok("show", "INC-1")
    assert "Alice Ng (alice):" in room  # who set the milestones
    assert "Alice Ng (alice)" in room.split("Roles")[1]  # the commander
    recorded = cli.ok("timeline", "INC-1", "--json")
    assert [e["actor"] for e in recorded][:2] == ["alice", "alice"]
    # the people an event names are named too, in the table and in the JSON's description
    assert recorded[1]["description"] == "Alice Ng (alice) took commander (acknowledged)"
    assert "Alice Ng (alice) took commander" in " ".join(timeline.split())


def test_text_people_wrote_is_shown_as_written_not_read_as_console_markup(cli: Cli) -> None:
    """Square brackets in a title or a name are text: Rich markup in them is not applied
    (it would drop "[red]" and restyle the terminal), and control characters stay escaped."""
    cli.ok("oncall", "person", "add", "alice", "--name", "Alice [bold]Ng[/bold]")
    cli.ok("--as", "alice", "declare", "--title", "pay [red]x[/red] \x1b[2J", "-s", "checkout")
    cli.ok("--as", "alice", "role", "assign", "INC-1", "commander", "alice")
    shown = cli.ok("timeline", "INC-1")
    assert "pay [red]x[/red]" in shown
    assert "Alice [bold]Ng[/bold] (alice) took commander" in shown
    assert "\x1b[2J" not in shown  # the escape sequence is shown escaped, never sent
    assert "pay [red]x[/red]" in cli.ok("show", "INC-1")
