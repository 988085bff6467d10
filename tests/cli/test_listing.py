"""``warroom list --status open|all|<status>`` and ``--severity P1..P5``: on the full CLI,
on the cold-start fast path, and against hostile values."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, make_cli
from warroom.cli.entry import SEVERITIES
from warroom.domain.alerts.signals import normalize_severity
from warroom.domain.incidents.severity import PRIORITIES, Severity

WARROOM = str(Path(sys.executable).with_name("warroom"))


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """INC-1 SEV1 in triage, INC-2 SEV4 resolved, INC-3 SEV3 mitigating."""
    home = tmp_path_factory.mktemp("listing")
    cli = make_cli(home, f"sqlite:///{home / 'warroom.db'}")
    cli.ok("init")
    cli.ok("declare", "--title", "Checkout down", "-s", "checkout", "--severity", "P1", "--why", "all of eu")
    cli.ok("declare", "--title", "Search slow", "-s", "search")
    cli.ok("resolve", "INC-2", "--impact-stopped", "--risk-controlled", "--summary", "recovered")
    cli.ok("declare", "--title", "Cart flaky", "-s", "cart", "--severity", "SEV3", "--why", "one region")
    cli.ok("mitigate", "propose", "INC-3", "--title", "Restart cart", "--risk", "low")
    cli.ok("mitigate", "apply", "INC-3", "M1")
    yield cli
    cli.close()


def _ids(cli: Cli, *args: str) -> set[str]:
    return {row["id"] for row in cli.ok("list", *args, "--json")}


@pytest.mark.parametrize(
    ("status", "ids"),
    [
        ("open", {"INC-1", "INC-3"}),
        ("OPEN", {"INC-1", "INC-3"}),
        ("all", {"INC-1", "INC-2", "INC-3"}),
        ("triage", {"INC-1"}),
        ("mitigating", {"INC-3"}),
        ("mitigated", set()),
        ("resolved", {"INC-2"}),
        ("closed", set()),
    ],
)
def test_list_by_status_word(three: Cli, status: str, ids: set[str]) -> None:
    assert _ids(three, "--status", status) == ids


@pytest.mark.parametrize(
    ("severity", "ids"),
    [
        ("P1", {"INC-1"}),
        ("p1", {"INC-1"}),
        ("SEV1", {"INC-1"}),
        ("P2", set()),
        ("P3", {"INC-3"}),
        ("P4", {"INC-2"}),
        ("P5", {"INC-2"}),
        ("4", {"INC-2"}),
    ],
)
def test_list_by_severity_or_priority(three: Cli, severity: str, ids: set[str]) -> None:
    assert _ids(three, "--severity", severity) == ids


def test_declare_and_override_take_priorities_too(three: Cli) -> None:
    assert three.ok("show", "INC-1", "--json")["severity"] == "SEV1"  # declared with P1
    shown = three.ok("severity", "INC-3", "P2", "--why", "spreading", "--json")
    assert shown["severity"] == "SEV2"
    three.ok("severity", "INC-3", "SEV3", "--why", "contained again")


def test_priorities_mean_what_they_mean_in_webhooks() -> None:
    """One table: P1..P5 as a severity, and as an alert's severity, agree level for level."""
    alert_of_severity = {Severity.SEV1: "critical", Severity.SEV2: "error", Severity.SEV3: "warning"}
    for name, severity in PRIORITIES.items():
        assert Severity.parse(name) is severity
        assert normalize_severity(name) == alert_of_severity.get(severity, "info")
        assert SEVERITIES[name] == int(severity)  # the fast path reads them the same way


def _fast(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WARROOM, *args], env=env, capture_output=True, text=True, timeout=60)


def test_the_fast_path_answers_the_same(three: Cli) -> None:
    env = os.environ | three.env
    for args in (
        ["--status", "open"],
        ["--status", "all"],
        ["--severity", "P5"],
        ["--status", "open", "--open"],
    ):
        done = _fast(["list", *args, "--json"], env)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == three.ok("list", *args, "--json"), args


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--status", "opened"), "status: 'opened' is not one of open, all, triage"),
        (("--status", "open\x00"), "status: 'open\\x00' is not one of"),
        (("--status", "x" * 5000), "is not one of open, all"),
        (("--status", " "), "is not one of"),
        (("--severity", "P0"), "'P0' is not one of SEV1, SEV2, SEV3, SEV4 (or P1..P5)"),
        (("--severity", "P6"), "'P6' is not one of"),
        (("--severity", "SEV5"), "'SEV5' is not one of"),
        (("--severity", "P" + "9" * 40), "is not one of"),
        (("--severity", "9" * 40), "is not one of"),
        (("--severity", "P1\x00"), "is not one of"),
        (("--severity", "\u202eP1"), "is not one of"),
    ],
)
def test_hostile_filters_are_one_line(three: Cli, args: tuple[str, ...], words: str) -> None:
    assert words in three.refused("list", *args)
    assert words in three.refused("list", *args, "--json")


def test_the_fast_path_hands_bad_filters_to_the_full_cli(three: Cli) -> None:
    done = _fast(["list", "--status", "opened", "--severity", "P6"], os.environ | three.env)
    assert (done.returncode, done.stdout) == (1, ""), done.stderr
    assert (
        done.stderr
        == "error: status: 'opened' is not one of open, all, triage, mitigating, mitigated, resolved, closed\n"
    )
