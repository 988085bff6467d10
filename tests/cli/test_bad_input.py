"""Bad input on every verb: one ``error:`` line on stderr, a non-zero exit, no traceback,
and nothing written (the database's fingerprint is unchanged).

The cases share one seeded database: since none of them may write, each one checks the
fingerprint before and after itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.cli.conftest import Cli, make_cli

LONG = "x" * 4001
NUL = "bad\x00text"


def future(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    """INC-1: SEV2 availability on checkout, commander alice, guess G1, M1 (needs approval),
    M2 applied. INC-2: SEV4, resolved. INC-3: data integrity."""
    home = tmp_path_factory.mktemp("bad-input")
    cli = make_cli(home, f"sqlite:///{home / 'warroom.db'}")
    cli.ok("init")
    cli.ok("declare", "--title", "Checkout 5xx", "-s", "checkout", "--customer-impact", "12%")
    cli.ok("role", "assign", "INC-1", "commander", "alice")
    cli.ok("guess", "INC-1", "the deploy")
    cli.ok("mitigate", "propose", "INC-1", "--title", "Roll back", "--authority", "alice")
    cli.ok("mitigate", "propose", "INC-1", "--title", "Flag off", "--kind", "feature_flag", "--risk", "low")
    cli.ok("mitigate", "apply", "INC-1", "M2")
    cli.ok("declare", "--title", "Search slow", "-s", "search")
    cli.ok("resolve", "INC-2", "--impact-stopped", "--risk-controlled", "--summary", "recovered")
    cli.ok("declare", "--title", "Orders written twice", "--kind", "data_integrity", "-s", "orders")
    yield cli
    cli.close()


# Every verb that names an incident, with otherwise valid arguments.
WITH_ID: dict[str, tuple[str, ...]] = {
    "show": ("show", "{id}"),
    "timeline": ("timeline", "{id}"),
    "assess": ("assess", "{id}", "--customer-impact", "1%"),
    "severity": ("severity", "{id}", "SEV1", "--why", "exec"),
    "role assign": ("role", "assign", "{id}", "comms", "dana"),
    "role handoff": ("role", "handoff", "{id}", "commander", "bob", "--note", "n"),
    "fact": ("fact", "{id}", "t", "--source", "s"),
    "guess": ("guess", "{id}", "t"),
    "confirm": ("confirm", "{id}", "G1"),
    "refute": ("refute", "{id}", "G1", "--why", "w"),
    "decide": ("decide", "{id}", "t", "--why", "w"),
    "note": ("note", "{id}", "t"),
    "changes": ("changes", "{id}"),
    "mitigate list": ("mitigate", "list", "{id}"),
    "mitigate propose": ("mitigate", "propose", "{id}", "--title", "t"),
    "mitigate approve": ("mitigate", "approve", "{id}", "M1"),
    "mitigate apply": ("mitigate", "apply", "{id}", "M2"),
    "mitigate outcome": ("mitigate", "outcome", "{id}", "M2", "effective"),
    "mitigate revert": ("mitigate", "revert", "{id}", "M2", "--why", "w"),
    "mitigated": ("mitigated", "{id}"),
    "update": ("update", "{id}", "text"),
    "update prefilled": ("update", "{id}"),
    "update draft": ("update", "{id}", "--draft"),
    "resolve": ("resolve", "{id}", "--impact-stopped", "--risk-controlled", "--summary", "s"),
    "reopen": ("reopen", "{id}", "--why", "w"),
    "close": ("close", "{id}"),
    "verify": ("verify", "{id}"),
}

BAD_IDS = {
    "unknown": ("INC-404", "error: no incident INC-404"),
    "malformed": ("INC-x", "error: incident: 'INC-x' is not an incident id such as INC-7"),
    "negative": ("INC--3", "is not an incident id"),
    "superscript digit": ("INC-²", "is not an incident id"),
    "huge": ("INC-99999999999999999999", "is not an incident id"),
}


@pytest.mark.parametrize("bad", sorted(BAD_IDS))
@pytest.mark.parametrize("verb", sorted(WITH_ID))
def test_every_verb_refuses_a_bad_incident_id(seeded: Cli, verb: str, bad: str) -> None:
    ref, expected = BAD_IDS[bad]
    args = [a.replace("{id}", ref) for a in WITH_ID[verb]]
    assert expected in seeded.refused(*args)


CASES: dict[str, tuple[tuple[str, ...], str]] = {
    # declare
    "declare empty title": (("declare", "--title", " "), "title: is empty"),
    "declare long title": (("declare", "--title", "x" * 201), "title: is 201 characters; the limit is 200"),
    "declare NUL title": (("declare", "--title", NUL), "title: contains a NUL character"),
    "declare bad kind": (("declare", "--title", "t", "--kind", "outage"), "kind: 'outage' is not one of"),
    "declare bad severity": (("declare", "--title", "t", "--severity", "SEV5"), "'SEV5' is not one of SEV1"),
    "declare override without why": (("declare", "--title", "t", "--severity", "SEV1"), "needs --why"),
    "declare share over 100%": (("declare", "--title", "t", "--customer-impact", "150%"), "customer_impact"),
    "declare negative share": (("declare", "--title", "t", "--customer-impact", "-5%"), "customer_impact"),
    "declare NaN share": (("declare", "--title", "t", "--customer-impact", "nan"), "customer_impact"),
    "declare garbage share": (("declare", "--title", "t", "--customer-impact", "lots"), "customer_impact"),
    "declare negative money": (
        ("declare", "--title", "t", "--financial-per-hour", "-1"),
        "financial_per_hour",
    ),
    "declare NaN money": (("declare", "--title", "t", "--financial-per-hour", "NaN"), "financial_per_hour"),
    "declare infinite money": (
        ("declare", "--title", "t", "--financial-per-hour", "inf"),
        "financial_per_hour",
    ),
    "declare bad data": (("declare", "--title", "t", "--data-integrity", "maybe"), "data_integrity: 'maybe'"),
    "declare bad security": (("declare", "--title", "t", "--security", "meh"), "security: 'meh'"),
    "declare detection in the future": (
        ("declare", "--title", "t", "--detected-at", future(hours=2)),
        "detected_at: ",
    ),
    "declare naive detection": (
        ("declare", "--title", "t", "--detected-at", "2026-11-26T10:00:00"),
        "timezone",
    ),
    "declare garbage detection": (
        ("declare", "--title", "t", "--detected-at", "the day before"),
        "is not a time; give an ISO 8601 time",
    ),
    "declare detection out of range": (
        ("declare", "--title", "t", "--detected-at", "0001-01-01T00:00:00+01:00"),
        "detected_at",
    ),
    "declare impact start in the future": (
        ("declare", "--title", "t", "--impact-started-at", future(days=1)),
        "impact_started_at: ",
    ),
    "declare long scope": (("declare", "--title", "t", "--scope", LONG), "scope: is 4001 characters"),
    "declare NUL symptom": (("declare", "--title", "t", "--symptom", NUL), "symptom: contains a NUL"),
    "declare empty service": (("declare", "--title", "t", "-s", " "), "services: is empty"),
    "declare long journey": (("declare", "--title", "t", "--critical-journey", LONG), "critical_journey"),
    "declare NUL journey": (("declare", "--title", "t", "--critical-journey", NUL), "critical_journey"),
    "declare long actor": (("--as", "x" * 121, "declare", "--title", "t"), "actor: is 121 characters"),
    "declare NUL actor": (("--as", NUL, "declare", "--title", "t"), "actor: contains a NUL"),
    "declare unknown option": (("declare", "--title", "t", "--colour", "red"), "No such option: --colour"),
    "declare missing title": (("declare",), "Missing option '--title'"),
    # list
    "list bad status": (("list", "--status", "opened"), "status: 'opened' is not one of open, all, triage"),
    "list bad severity": (("list", "--severity", "SEV9"), "'SEV9' is not one of"),
    "list zero limit": (("list", "--limit", "0"), "limit: must be between 1 and 1000"),
    "list negative limit": (("list", "--limit", "-5"), "limit: must be between 1 and 1000"),
    "list huge limit": (("list", "--limit", "5000"), "limit: must be between 1 and 1000"),
    "list garbage limit": (("list", "--limit", "lots"), "Invalid value for '--limit'"),
    "list NUL service": (("list", "--service", NUL), "service: contains a NUL"),
    # timeline
    "timeline zero limit": (("timeline", "INC-1", "--limit", "0"), "limit: must be between"),
    "timeline negative after": (("timeline", "INC-1", "--after", "-1"), "after: must be >= 0"),
    # assess and severity
    "assess nothing": (("assess", "INC-1"), "at least one dimension"),
    "assess share over 1": (("assess", "INC-1", "--customer-impact", "1.5"), "customer_impact"),
    "assess NaN money": (("assess", "INC-1", "--financial-per-hour", "nan"), "financial_per_hour"),
    "assess bad security": (("assess", "INC-1", "--security", "breached"), "security: 'breached'"),
    "assess long journey": (("assess", "INC-1", "--critical-journey", LONG), "critical_journey"),
    "severity unknown": (("severity", "INC-1", "SEV0"), "'SEV0' is not one of"),
    "severity empty": (("severity", "INC-1", ""), "is not one of SEV1"),
    "severity override without why": (("severity", "INC-1", "SEV1"), "needs --why"),
    "severity unchanged": (("severity", "INC-1", "SEV2"), "INC-1 is already SEV2"),
    "severity long why": (("severity", "INC-1", "SEV1", "--why", LONG), "why: is 4001 characters"),
    # roles
    "role unknown": (("role", "assign", "INC-1", "boss", "dana"), "role: 'boss' is not one of commander"),
    "role empty person": (("role", "assign", "INC-1", "comms", " "), "person: is empty"),
    "role long person": (("role", "assign", "INC-1", "comms", "x" * 121), "person: is 121 characters"),
    "role NUL person": (("role", "assign", "INC-1", "comms", NUL), "person: contains a NUL"),
    "role held": (("role", "assign", "INC-1", "commander", "bob"), "held by alice; hand it off instead"),
    "handoff of an empty role": (
        ("role", "handoff", "INC-1", "comms", "bob", "--note", "n"),
        "assign it instead",
    ),
    "handoff empty note": (("role", "handoff", "INC-1", "commander", "bob", "--note", ""), "note: is empty"),
    "handoff without note": (("role", "handoff", "INC-1", "commander", "bob"), "Missing option '--note'"),
    "handoff to the holder": (
        ("role", "handoff", "INC-1", "commander", "alice", "--note", "n"),
        "already holds",
    ),
    # ledger
    "fact empty": (("fact", "INC-1", "", "--source", "s"), "text: is empty"),
    "fact long": (("fact", "INC-1", LONG, "--source", "s"), "text: is 4001 characters; the limit is 4000"),
    "fact NUL": (("fact", "INC-1", NUL, "--source", "s"), "text: contains a NUL"),
    "fact empty source": (("fact", "INC-1", "t", "--source", " "), "source: is empty"),
    "fact without source": (("fact", "INC-1", "t"), "Missing option '--source'"),
    "guess empty": (("guess", "INC-1", "   "), "text: is empty"),
    "guess long": (("guess", "INC-1", LONG), "text: is 4001 characters"),
    "confirm unknown guess": (("confirm", "INC-1", "G9"), "no guess 'G9' on INC-1"),
    "refute unknown guess": (("refute", "INC-1", "G9", "--why", "w"), "no guess 'G9' on INC-1"),
    "refute empty why": (("refute", "INC-1", "G1", "--why", ""), "why: is empty"),
    "decide empty text": (("decide", "INC-1", "", "--why", "w"), "text: is empty"),
    "decide empty why": (("decide", "INC-1", "t", "--why", " "), "why: is empty"),
    "decide empty alternative": (
        ("decide", "INC-1", "t", "--why", "w", "--alternatives", ""),
        "alternatives",
    ),
    "note empty": (("note", "INC-1", ""), "text: is empty"),
    "note NUL": (("note", "INC-1", NUL), "text: contains a NUL"),
    "note long": (("note", "INC-1", LONG), "text: is 4001 characters"),
    # changes
    "change bad kind": (
        ("change", "add", "--service", "s", "--kind", "rename", "--summary", "x"),
        "kind: 'rename'",
    ),
    "change in the future": (
        ("change", "add", "--service", "s", "--kind", "deploy", "--summary", "x", "--at", future(hours=1)),
        "at: ",
    ),
    "change naive time": (
        ("change", "add", "--service", "s", "--kind", "deploy", "--summary", "x", "--at", "2026-11-26 10:00"),
        "timezone",
    ),
    "change garbage time": (
        ("change", "add", "--service", "s", "--kind", "deploy", "--summary", "x", "--at", "soon"),
        "is not a time; give an ISO 8601 time",
    ),
    "change time out of range": (
        (
            "change",
            "add",
            "--service",
            "s",
            "--kind",
            "deploy",
            "--summary",
            "x",
            "--at",
            "9999-12-31T23:59:59-01:00",
        ),
        "at",
    ),
    "change empty summary": (
        ("change", "add", "--service", "s", "--kind", "deploy", "--summary", ""),
        "summary",
    ),
    "change long summary": (
        ("change", "add", "--service", "s", "--kind", "deploy", "--summary", LONG),
        "summary",
    ),
    "change empty service": (
        ("change", "add", "--service", "", "--kind", "deploy", "--summary", "x"),
        "service",
    ),
    # mitigations
    "propose without title": (("mitigate", "propose", "INC-1"), "title: is empty"),
    "propose bad kind": (("mitigate", "propose", "INC-1", "--title", "t", "--kind", "pray"), "kind: 'pray'"),
    "propose bad risk": (
        ("mitigate", "propose", "INC-1", "--title", "t", "--risk", "extreme"),
        "risk: 'extreme'",
    ),
    "propose negative minutes": (
        ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "-1"),
        "expected_minutes",
    ),
    "propose NaN minutes": (
        ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "nan"),
        "expected_minutes",
    ),
    "propose zero minutes": (
        ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "0"),
        "expected_minutes",
    ),
    "propose garbage minutes": (
        ("mitigate", "propose", "INC-1", "--title", "t", "--expected-minutes", "soon"),
        "expected_minutes: 'soon' is not a duration such as 90s",
    ),
    "propose prepared zero": (("mitigate", "propose", "INC-1", "--prepared", "0"), "prepared"),
    "propose prepared too high": (("mitigate", "propose", "INC-1", "--prepared", "99"), "prepared"),
    "propose long title": (
        ("mitigate", "propose", "INC-1", "--title", "x" * 201),
        "title: is 201 characters",
    ),
    "approve unknown": (("mitigate", "approve", "INC-1", "M9"), "no mitigation 'M9' on INC-1"),
    "approve applied": (("mitigate", "approve", "INC-1", "M2"), "only a proposed mitigation is approved"),
    "apply unapproved": (("mitigate", "apply", "INC-1", "M1"), "M1 needs approval by alice"),
    "apply twice": (("mitigate", "apply", "INC-1", "M2"), "cannot be applied again"),
    "outcome unapplied": (("mitigate", "outcome", "INC-1", "M1", "effective"), "apply it before judging it"),
    "outcome unknown": (("mitigate", "outcome", "INC-1", "M2", "great"), "outcome: 'great' is not one of"),
    "revert unapplied": (("mitigate", "revert", "INC-1", "M1", "--why", "w"), "only an applied mitigation"),
    "revert empty why": (("mitigate", "revert", "INC-1", "M2", "--why", ""), "why: is empty"),
    "mitigated long evidence": (("mitigated", "INC-1", "--evidence", LONG), "evidence: is 4001 characters"),
    # updates and lifecycle
    "update bad audience": (("update", "INC-1", "t", "--audience", "everyone"), "audience: 'everyone'"),
    "update empty text": (("update", "INC-1", ""), "text: is empty"),
    "update long text": (("update", "INC-1", LONG), "text: is 4001 characters"),
    "update NUL text": (("update", "INC-1", NUL), "text: contains a NUL"),
    "resolve without impact stopped": (
        ("resolve", "INC-1", "--risk-controlled", "--summary", "s"),
        "impact_stopped: state that user impact has stopped",
    ),
    "resolve without risk controlled": (
        ("resolve", "INC-1", "--impact-stopped", "--summary", "s"),
        "risk_controlled: state that risk is controlled",
    ),
    "resolve empty summary": (
        ("resolve", "INC-1", "--impact-stopped", "--risk-controlled", "--summary", ""),
        "summary",
    ),
    "resolve data incident unverified": (
        ("resolve", "INC-3", "--impact-stopped", "--risk-controlled", "--summary", "s"),
        "--data-verified",
    ),
    "resolve resolved": (
        ("resolve", "INC-2", "--impact-stopped", "--risk-controlled", "--summary", "s"),
        "INC-2 is resolved",
    ),
    "reopen open incident": (("reopen", "INC-1", "--why", "w"), "only a resolved incident reopens"),
    "reopen empty why": (("reopen", "INC-2", "--why", " "), "why: is empty"),
    "close open incident": (("close", "INC-1"), "resolve it before closing"),
    # times outside their window, numbers that overflow (issue 12)
    "declare detection in year 1": (
        ("declare", "--title", "t", "--detected-at", "0001-01-01T00:00:01Z"),
        "detected_at: 0001-01-01T00:00:01.000000Z is before 1970-01-01",
    ),
    "declare detection in 1969": (
        ("declare", "--title", "t", "--detected-at", "1969-12-31T23:59:59Z"),
        "detected_at: ",
    ),
    "declare impact start in year 9999": (
        ("declare", "--title", "t", "--impact-started-at", "9999-12-31T23:59:59Z"),
        "impact_started_at: 9999-12-31T23:59:59.000000Z is in the future",
    ),
    "change in year 1": (
        (
            "change",
            "add",
            "--service",
            "s",
            "--kind",
            "deploy",
            "--summary",
            "x",
            "--at",
            "0001-01-01T00:00:01Z",
        ),
        "at: 0001-01-01T00:00:01.000000Z is before 1970-01-01",
    ),
    "timeline after overflows": (
        ("timeline", "INC-1", "--after", "99999999999999999999"),
        "after: must be at most 2147483647",
    ),
    "timeline limit overflows": (("timeline", "INC-1", "--limit", "99999999999999999999"), "limit: must be"),
    "list limit overflows": (
        ("list", "--limit", "99999999999999999999"),
        "limit: must be between 1 and 1000",
    ),
    "propose prepared overflows": (
        ("mitigate", "propose", "INC-1", "--prepared", "99999999999999999999"),
        "prepared",
    ),
    "followup due in year 9999": (
        (
            "followup",
            "add",
            "INC-1",
            "--title",
            "t",
            "--owner",
            "o",
            "--due",
            "9999-12-31",
            "--kind",
            "prevent",
        ),
        "due: 9999-12-31T23:59:59.000000Z is too far ahead",
    ),
    "followup due in 9999 weeks": (
        ("followup", "add", "INC-1", "--title", "t", "--owner", "o", "--due", "9999w", "--kind", "prevent"),
        "due: ",
    ),
    "followup due in year 1": (
        (
            "followup",
            "add",
            "INC-1",
            "--title",
            "t",
            "--owner",
            "o",
            "--due",
            "0001-01-01",
            "--kind",
            "prevent",
        ),
        "due: 0001-01-01T23:59:59.000000Z is in the past",
    ),
    "followup list limit overflows": (("followup", "list", "--limit", "99999999999999999999"), "limit"),
    "outbox retry id overflows": (("outbox", "retry", "99999999999999999999"), "Invalid value for '[ID]...'"),
    "outbox list limit overflows": (("outbox", "list", "--limit", "99999999999999999999"), "limit"),
    "worker interval overflows": (
        ("worker", "--once", "--interval", "1e400"),
        "Invalid value for '--interval'",
    ),
    "readiness threshold overflows": (("readiness", "--threshold", "99999999999999999999"), "threshold"),
    # the command line itself
    "unknown verb": (("frobnicate",), "No such command 'frobnicate'"),
    "init unknown option": (("init", "--bogus"), "No such option: --bogus"),
    "demo unknown option": (("demo", "--fast"), "No such option: --fast"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_clear_line_and_writes_nothing(seeded: Cli, case: str) -> None:
    args, expected = CASES[case]
    line = seeded.refused(*args)
    assert expected in line, line


def test_bad_input_with_json_is_the_same_refusal_as_a_problem(seeded: Cli) -> None:
    assert seeded.refused("show", "INC-404", "--json") == "error: no incident INC-404"
    assert "text: is empty" in seeded.refused("note", "INC-1", "", "--json")
