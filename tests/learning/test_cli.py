"""The learning commands through the real CLI (Typer's CliRunner) on a per-test SQLite file:
readiness exit codes on good and broken playbooks, import then report, postmortem lint and
publish exit codes."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from warroom.cli.main import app as cli

FIXTURES = Path(__file__).parent / "fixtures"
GOOD_PLAYBOOK = Path(__file__).parents[2] / "src" / "warroom" / "examples" / "playbooks" / "checkout.yaml"

CATALOG = """
teams:
  - name: storefront
    members: [alice, bob, dana]
services:
  - name: checkout
    team: storefront
    playbook: playbooks/checkout.yaml
  - name: search
    team: storefront
    playbook:
      triage_questions: ["Which queries are slow?"]
      roles:
        commander: [alice]
      mitigations:
        - title: Rebuild the index
          kind: other
          expected_minutes: 45
          authority: alice
        - title: Restart search pods
          kind: restart
          expected_minutes: 3
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "checkout.yaml").write_text(GOOD_PLAYBOOK.read_text())
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    (tmp_path / "warroom.toml").write_text(
        'database_url = "sqlite:///warroom.db"\ncatalog = "catalog.yaml"\n'
    )
    monkeypatch.setenv("WARROOM_CONFIG", str(tmp_path / "warroom.toml"))
    monkeypatch.setenv("WARROOM_ACTOR", "sam")
    for name in ("WARROOM_URL", "WARROOM_TOKEN", "WARROOM_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_readiness_passes_a_ready_playbook(home: Path) -> None:
    result = run("readiness", "--service", "checkout", "--json")
    assert result.exit_code == 0, result.output
    view = json.loads(result.output)
    assert view["ok"] is True
    (checkout,) = view["services"]
    assert checkout["score"] == 100 and checkout["gaps"] == []


def test_readiness_fails_ci_on_a_broken_playbook_and_names_the_gaps(home: Path) -> None:
    result = run("readiness", "--json")
    assert result.exit_code == 1
    view = json.loads(result.output)
    assert view["below"] == ["search"]
    search = next(s for s in view["services"] if s["service"] == "search")
    assert search["score"] == 17  # one of six checks passes: a commander is named
    assert search["gaps"] == [
        "no declaration template: write one with scope, symptom and severity",
        "1 first triage question; the first minutes need at least 3 (how bad, how wide, how fast)",
        "nobody is named who may be comms lead",
        "nobody is named who may be scribe",
        "'Restart search pods' is quick but names no one who may authorize it",
    ]
    human = run("readiness")
    assert human.exit_code == 1
    assert "search" in human.output and "below 100: search" in human.output


def test_readiness_threshold_from_the_option_and_the_settings(home: Path) -> None:
    assert run("readiness", "--threshold", "15").exit_code == 0
    assert run("readiness", "--threshold", "20").exit_code == 1
    (home / "warroom.toml").write_text(
        'database_url = "sqlite:///warroom.db"\ncatalog = "catalog.yaml"\n[readiness]\nthreshold = 10\n'
    )
    assert run("readiness").exit_code == 0


def test_import_then_report(home: Path) -> None:
    imported = run("import", str(FIXTURES / "history.json"))
    assert imported.exit_code == 0, imported.output
    assert "Imported 4 of 4 incidents (json)" in imported.output
    report = run("report", "--json")
    assert report.exit_code == 0
    view = json.loads(report.output)
    assert view["incidents"] == 4
    assert view["overall"]["time_to_mitigate"]["median_seconds"] == 3300.0
    human = run("report", "--service", "checkout")
    assert human.exit_code == 0 and "By service" in human.output and "checkout" in human.output
    again = run("import", str(FIXTURES / "pagerduty.csv"), "--json")
    assert json.loads(again.output) == {"format": "pagerduty", "read": 3, "imported": 3, "skipped": 0}


def test_a_malformed_import_exits_non_zero_naming_the_line(home: Path) -> None:
    bad = home / "bad.csv"
    bad.write_text((FIXTURES / "history.csv").read_text().replace("SEV3", "urgent"))
    result = run("import", str(bad))
    assert result.exit_code == 1
    assert "line 5: severity: 'urgent' is not one of SEV1, SEV2, SEV3, SEV4" in result.output
    assert json.loads(run("report", "--json").output)["incidents"] == 0


def _resolved_incident() -> str:
    declared = json.loads(
        run(
            "declare", "--title", "Checkout 5xx", "-s", "checkout", "--customer-impact", "12%", "--json"
        ).output
    )
    ref = str(declared["id"])
    assert (
        run("resolve", ref, "--summary", "rolled back", "--impact-stopped", "--risk-controlled").exit_code
        == 0
    )
    return ref


def test_postmortem_lint_and_publish_exit_codes(home: Path) -> None:
    ref = _resolved_incident()
    assert run("postmortem", "draft", ref).exit_code == 0
    sections = home / "sections.yaml"
    sections.write_text(
        "trigger: A deploy changed the token format.\n"
        "contributing_factors:\n  - 'change: no canary stage'\n"
        "root_cause_chain: [new token format, old client]\n"
        "went_well: ['Obviously the rollback worked.']\n"
    )
    edited = run("postmortem", "edit", ref, "--file", str(sections))
    assert edited.exit_code == 0 and "1 blameless-lint finding(s)" in edited.output
    lint = run("postmortem", "lint", ref, "--json")
    assert lint.exit_code == 1
    assert [f["rule"] for f in json.loads(lint.output)["findings"]] == ["hindsight"]
    refused = run("postmortem", "publish", ref)
    assert refused.exit_code == 1 and "not published: 1 finding(s)" in refused.output
    no_reason = run("postmortem", "publish", ref, "--override")
    assert no_reason.exit_code == 1 and "why" in no_reason.output
    published = run("postmortem", "publish", ref, "--override", "--why", "the sentence is a quote", "--json")
    assert published.exit_code == 0, published.output
    assert json.loads(published.output)["override_why"] == "the sentence is a quote"
    markdown = run("postmortem", "show", ref, "--format", "md")
    assert markdown.output.startswith(f"# Postmortem {ref}: Checkout 5xx")
    assert "> Published over blameless-lint findings: the sentence is a quote" in markdown.output
    assert run("postmortem", "amend", ref).exit_code == 2  # --why is required
    amended = run("postmortem", "amend", ref, "--why", "a second trigger surfaced", "--json")
    assert amended.exit_code == 0, amended.output
    assert json.loads(amended.output)["status"] == "draft"
    again = run("postmortem", "amend", ref, "--why", "twice")
    assert again.exit_code == 1 and "is not published" in again.output


def test_followup_commands(home: Path) -> None:
    ref = _resolved_incident()
    added = run(
        "followup",
        "add",
        ref,
        "--title",
        "Canary stage",
        "--owner",
        "erin",
        "--due",
        "14d",
        "--kind",
        "prevent",
    )
    assert added.exit_code == 0 and "A1" in added.output
    missing = run("followup", "add", ref, "--title", "x", "--owner", "erin", "--due", "", "--kind", "prevent")
    assert missing.exit_code == 1 and "due" in missing.output
    listed = json.loads(run("followup", "list", "--json").output)
    assert [(r["incident"], r["ref"], r["owner"]) for r in listed] == [(ref, "A1", "erin")]
    assert run("followup", "wontdo", ref, "A1", "--why", "covered by the contract test").exit_code == 0
    assert json.loads(run("followup", "list", "--json").output) == []


def test_edit_in_the_editor_and_from_stdin(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ref = _resolved_incident()
    editor = home / "editor.py"
    editor.write_text(
        "import pathlib, sys\n"
        "path = pathlib.Path(sys.argv[1])\n"
        "path.write_text(path.read_text().replace(\"trigger: ''\", 'trigger: A config push'))\n"
    )
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f"{sys.executable} {editor}")
    assert run("postmortem", "edit", ref).exit_code == 0
    shown = json.loads(run("postmortem", "show", ref, "--json").output)
    assert shown["document"]["trigger"] == "A config push"
    monkeypatch.setenv("EDITOR", "true")  # saves nothing
    unchanged = run("postmortem", "edit", ref)
    assert unchanged.exit_code == 0 and "No changes" in unchanged.output
    piped = CliRunner().invoke(
        cli,
        ["postmortem", "edit", ref, "--file", "-", "--format", "md"],
        input='{"late_signals": ["the alert"]}',
    )
    assert piped.exit_code == 0 and "## Signals that were late\n\n- the alert" in piped.output


def test_report_reads_sqlite_directly_when_records_are_current(home: Path) -> None:
    from warroom.cli import learning as commands

    assert run("import", str(FIXTURES / "history.json")).exit_code == 0
    ref = _resolved_incident()
    query = {"since": "2026-01-01", "until": None, "service": None, "severity": None}
    assert commands._fast_report(query) is None  # INC-1's record is not built yet
    full = json.loads(run("report", "--json", "--since", "2026-01-01").output)  # builds it
    fast = commands._fast_report(query)
    assert fast is not None and fast == full
    assert fast["incidents"] == 5
    for extra in ({"severity": "SEV2"}, {"service": "checkout"}, {"until": "2026-02-01"}):
        fast = commands._fast_report(query | extra)
        args = [arg for key, value in (query | extra).items() if value for arg in (f"--{key}", value)]
        assert fast == json.loads(run("report", "--json", *args).output)
    assert run("note", ref, "a later note").exit_code == 0  # the timeline moved on: stale again
    assert commands._fast_report(query) is None
