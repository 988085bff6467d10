"""``warroom triage``, ``mitigate check`` and the gated ``resolve`` through Typer's runner.

The example catalog (``warroom init``) names checkout's indicators; the config points the
probe at a port where nothing listens, so every command meets a Prometheus that is down.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, make_cli

NOWHERE = "http://127.0.0.1:9"  # the discard port: connections are refused at once


@pytest.fixture
def cli(tmp_path: Path, sqlite_url: str) -> Iterator[Cli]:
    runner = make_cli(tmp_path, sqlite_url)
    runner.ok("init")
    config = tmp_path / "warroom.toml"
    text = config.read_text()
    assert '# prometheus_url = "http://127.0.0.1:9090"' in text
    config.write_text(
        text.replace('# prometheus_url = "http://127.0.0.1:9090"', f'prometheus_url = "{NOWHERE}"')
    )
    runner.ok("declare", "--title", "Checkout 5xx", "-s", "checkout")
    yield runner
    runner.close()


def test_triage_with_prometheus_down_says_so_in_one_line_and_exits_1(cli: Cli) -> None:
    started = time.monotonic()
    result = cli.run("triage", "INC-1")

    assert result.exit_code == 1
    assert result.stdout.startswith(f"impact probe blind: Prometheus at {NOWHERE} refused the connection")
    assert len(result.stdout.strip().splitlines()) == 1
    assert time.monotonic() - started < 5
    # ... and everything else keeps working.
    assert "INC-1" in cli.ok("show", "INC-1")
    cli.ok("note", "INC-1", "Prometheus is down; checking the RED dashboard by hand")


def test_triage_json_carries_the_status_and_the_last_measurement_is_shown_without_asking(cli: Cli) -> None:
    result = cli.run("triage", "INC-1", "--json")
    last = cli.ok("triage", "INC-1", "--last", "--json")

    assert result.exit_code == 1
    assert '"status": "unavailable"' in result.stdout
    assert last["status"] == "unavailable" and last["incident"] == "INC-1"


def test_the_probe_commands_refuse_a_bad_incident_id_in_one_line(cli: Cli) -> None:
    assert cli.refused("triage", "INC-404") == "error: no incident INC-404"
    assert cli.refused("mitigate", "check", "INC-x").startswith(
        "error: incident: 'INC-x' is not an incident id"
    )


def test_mitigate_check_with_nothing_applied_says_so(cli: Cli) -> None:
    assert cli.ok("mitigate", "check", "INC-1").strip() == "no applied mitigation awaits a check"
    assert cli.refused("mitigate", "check", "INC-1", "M9") == "error: no mitigation 'M9' on INC-1"


def test_resolve_needs_the_probe_or_force_with_a_reason(cli: Cli) -> None:
    base = ("resolve", "INC-1", "--impact-stopped", "--risk-controlled", "--summary", "rolled back")

    refused = cli.refused(*base)
    assert refused.startswith("error: INC-1: the indicators have not been back at baseline for 10m 00s: ")
    assert f"cannot check the indicators: Prometheus at {NOWHERE} refused" in refused
    assert cli.refused(*base, "--force") == (
        "error: why: --force needs --why: say why you resolve against the impact probe"
    )
    cli.ok(*base, "--force", "--why", "Prometheus is down; error ratio checked in the load balancer logs")

    room = cli.ok("show", "INC-1", "--json")
    assert room["status"] == "resolved"
    assert (
        room["resolution"]["forced_why"]
        == "Prometheus is down; error ratio checked in the load balancer logs"
    )
