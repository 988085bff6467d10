"""Tampering: a row altered behind warroom's back makes ``warroom verify`` exit 1 naming the
event; an untouched database verifies with exit 0. On SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.cli.conftest import Cli, make_cli


@pytest.fixture
def two_incidents(tmp_path: Path, database_url: str) -> Iterator[Cli]:
    """INC-1 with five events (#3 is a fact), INC-2 with one."""
    (tmp_path / "warroom.toml").write_text("# defaults\n")
    cli = make_cli(tmp_path, database_url)
    cli.ok("declare", "--title", "Checkout 5xx", "-s", "checkout", "--customer-impact", "12%")
    cli.ok("role", "assign", "INC-1", "commander", "alice")
    cli.ok("fact", "INC-1", "eu-west 5xx ratio is 37%", "--source", "Grafana")
    cli.ok("guess", "INC-1", "the deploy")
    cli.ok("note", "INC-1", "bridge open")
    cli.ok("declare", "--title", "Search slow", "-s", "search")
    yield cli
    cli.close()


def tamper(cli: Cli, statement: str, **params: Any) -> None:
    """What someone with database access could do: change a row directly."""
    with cli.engine().begin() as connection:
        assert connection.execute(text(statement), params).rowcount == 1


def verify(cli: Cli, *args: str) -> tuple[int, str]:
    result = cli.run("verify", *args)
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout


def test_an_untouched_database_verifies(two_incidents: Cli) -> None:
    assert verify(two_incidents) == (0, "ok: 2 incident chain(s) verified\n")
    assert verify(two_incidents, "INC-1") == (0, "ok: 1 incident chain(s) verified\n")
    assert json.loads(verify(two_incidents, "--json")[1]) == {
        "ok": True,
        "incidents_checked": 2,
        "broken": None,
        "breaks": [],
    }


def test_an_altered_payload_fails_verify_naming_the_event(two_incidents: Cli) -> None:
    tamper(
        two_incidents,
        "UPDATE events SET payload = :p WHERE incident = 1 AND seq = 3",
        p=json.dumps(
            {"ref": "F1", "source": "Grafana", "text": "eu-west 5xx ratio is 3%"}, separators=(",", ":")
        ),
    )
    code, shown = verify(two_incidents)
    assert code == 1
    assert "INC-1 event #3 (fact_recorded): content does not match its hash" in shown
    code, shown = verify(two_incidents, "INC-1", "--json")
    assert code == 1
    broken = json.loads(shown)["broken"]
    assert (broken["incident"], broken["seq"], broken["kind"]) == ("INC-1", 3, "fact_recorded")
    assert verify(two_incidents, "INC-2")[0] == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [("actor", "mallory"), ("kind", "note_added"), ("hash", "0" * 64)],
)
def test_an_altered_column_fails_verify(two_incidents: Cli, column: str, value: str) -> None:
    tamper(two_incidents, f"UPDATE events SET {column} = :v WHERE incident = 1 AND seq = 2", v=value)
    code, shown = verify(two_incidents, "INC-1")
    assert code == 1
    assert "INC-1 event #2 (" in shown


def test_a_payload_that_no_longer_folds_still_fails_verify_cleanly(two_incidents: Cli) -> None:
    tamper(two_incidents, "UPDATE events SET payload = '{}' WHERE incident = 1 AND seq = 3")
    code, shown = verify(two_incidents, "INC-1")
    assert code == 1
    assert "INC-1 event #3 (fact_recorded)" in shown


def test_a_deleted_last_event_fails_verify(two_incidents: Cli) -> None:
    tamper(two_incidents, "DELETE FROM events WHERE incident = 1 AND seq = 5")
    code, shown = verify(two_incidents)
    assert code == 1
    assert "INC-1 event #5 (missing): the incident records 5 events; only 4 remain" in shown


def test_a_deleted_middle_event_fails_verify(two_incidents: Cli) -> None:
    tamper(two_incidents, "DELETE FROM events WHERE incident = 1 AND seq = 2")
    code, shown = verify(two_incidents)
    assert code == 1
    assert "INC-1 event #3 (fact_recorded): expected event #2" in shown


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET payload = '{}' WHERE incident = 1 AND seq = 3",
        "UPDATE events SET payload = 'not json' WHERE incident = 1 AND seq = 3",
        "UPDATE events SET payload = '[1, 2]' WHERE incident = 1 AND seq = 3",
        "UPDATE events SET kind = 'bogus' WHERE incident = 1 AND seq = 3",
    ],
)
def test_a_timeline_that_no_longer_folds_is_one_clear_error_everywhere(
    two_incidents: Cli, statement: str
) -> None:
    tamper(two_incidents, statement)
    for args in (("show", "INC-1"), ("show", "INC-1", "--json"), ("note", "INC-1", "still here?")):
        line = two_incidents.refused(*args)
        assert line.startswith("error: INC-1 event #3 (") and "warroom verify" in line, line
    assert two_incidents.ok("show", "INC-2", "--json")["id"] == "INC-2"  # the other incident is fine
    assert {i["id"] for i in two_incidents.ok("list", "--json")} == {"INC-1", "INC-2"}
    code, shown = verify(two_incidents, "INC-1")
    assert code == 1 and "INC-1 event #3" in shown


def test_a_snapshot_that_no_longer_loads_is_rebuilt_from_the_events(two_incidents: Cli) -> None:
    from warroom.bootstrap import build
    from warroom.services import operations as ops
    from warroom.settings import Settings

    app = build(Settings(database_url=two_incidents.url))
    for n in range(120):  # past the first snapshot
        ops.note(app.context, "sam", "INC-1", {"text": f"note {n}"})
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
    before = two_incidents.ok("show", "INC-1", "--json")
    tamper(two_incidents, "UPDATE snapshots SET state = '{\"broken\": true}' WHERE number = 1")
    assert two_incidents.ok("show", "INC-1", "--json") == before


FORGED_FACT = json.dumps(
    {"ref": "F1", "source": "Grafana", "text": "eu-west 5xx ratio is 3%"}, separators=(",", ":")
)


def test_show_says_the_timeline_is_tampered_and_names_the_event(two_incidents: Cli) -> None:
    tamper(two_incidents, "UPDATE events SET payload = :p WHERE incident = 1 AND seq = 3", p=FORGED_FACT)
    shown = two_incidents.ok("show", "INC-1", "--json")
    assert shown["chain"]["intact"] is False
    assert (shown["chain"]["broken_at"], shown["chain"]["kind"]) == (3, "fact_recorded")
    assert "warroom verify" in shown["chain"]["message"]
    human = two_incidents.run("show", "INC-1").stdout
    assert "TIMELINE TAMPERED" in human and "event #3 (fact_recorded)" in human
    assert two_incidents.ok("show", "INC-2", "--json")["chain"] == {"intact": True}


def test_nothing_is_appended_to_a_broken_chain(two_incidents: Cli) -> None:
    tamper(two_incidents, "UPDATE events SET payload = :p WHERE incident = 1 AND seq = 3", p=FORGED_FACT)
    for args in (
        ("note", "INC-1", "still here?"),
        ("fact", "INC-1", "more", "--source", "Grafana"),
        ("guess", "INC-1", "dns"),
    ):
        line = two_incidents.refused(*args)
        assert "INC-1's timeline is broken at event #3" in line and "warroom verify" in line, line
    assert two_incidents.ok("show", "INC-1", "--json")["version"] == 5
    two_incidents.ok("note", "INC-2", "the other incident still takes notes")


def test_a_tampered_event_behind_a_snapshot_shows_when_it_is_displayed(two_incidents: Cli) -> None:
    from warroom.bootstrap import build
    from warroom.services import operations as ops
    from warroom.settings import Settings

    app = build(Settings(database_url=two_incidents.url))
    for n in range(110):  # the snapshot now covers every event
        ops.note(app.context, "sam", "INC-1", {"text": f"note {n}"})
    app.context.uow.args[0].dispose()  # type: ignore[attr-defined]
    last = two_incidents.ok("show", "INC-1", "--json")["version"]
    forged = json.dumps({"text": "forged", "pinned": False}, separators=(",", ":"))
    tamper(two_incidents, f"UPDATE events SET payload = :p WHERE incident = 1 AND seq = {last - 1}", p=forged)
    chain = two_incidents.ok("show", "INC-1", "--json")["chain"]
    assert (chain["intact"], chain["broken_at"]) == (False, last - 1)


def test_verify_reports_every_broken_incident_and_the_true_count(two_incidents: Cli) -> None:
    tamper(two_incidents, "UPDATE events SET payload = :p WHERE incident = 1 AND seq = 3", p=FORGED_FACT)
    tamper(two_incidents, "UPDATE events SET actor = 'mallory' WHERE incident = 2 AND seq = 1")
    code, shown = verify(two_incidents, "--json")
    result = json.loads(shown)
    assert code == 1 and result["ok"] is False
    assert result["incidents_checked"] == 2
    assert [(b["incident"], b["seq"]) for b in result["breaks"]] == [("INC-1", 3), ("INC-2", 1)]
    code, shown = verify(two_incidents)
    assert (
        "INC-1 event #3" in shown and "INC-2 event #1" in shown and "2 of 2 incident chain(s) broken" in shown
    )
