"""One whole incident through every verb of the CLI, in human or in ``--json`` mode.

Each step checks what the responder would look at: in JSON mode the document, in human
mode the words on the screen.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.cli.conftest import Cli


def ago(minutes: float) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).isoformat()


def play_every_verb(cli: Cli, as_json: bool) -> str:
    """Run the flow; returns the incident id it played on."""
    flag = ("--json",) if as_json else ()

    def step(*args: str) -> Any:
        return cli.ok(*args, *flag)

    added = step(
        "change",
        "add",
        "--service",
        "payments",
        "--kind",
        "deploy",
        "--at",
        ago(15),
        "--summary",
        "payments v9",
    )
    if as_json:
        assert (added["created"], added["service"], added["kind"]) == (True, "payments", "deploy")
    else:
        assert "Recorded deploy on payments" in added

    declared = step(
        "declare",
        "--title",
        "Checkout returns 5xx for eu-west",
        "-s",
        "checkout",
        "--customer-impact",
        "12%",
        "--scope",
        "eu-west",
        "--symptom",
        "HTTP 500 on pay",
        "--detected-at",
        ago(6),
        "--impact-started-at",
        ago(11),
    )
    if as_json:
        ref = declared["id"]
        assert declared["severity"] == "SEV2"
        assert declared["severity_explanation"] == "SEV2: customer impact 12% >= 5%"
        assert declared["milestones"]["detected_at"]["at"] < declared["milestones"]["declared_at"]["at"]
    else:
        ref = declared.split()[1]
        assert declared.startswith(f"Declared {ref}")
        assert "SEV2: customer impact 12% >= 5%" in declared
    assert ref.startswith("INC-")

    listed = step("list", "--status", "triage", "--severity", "SEV2", "--service", "checkout", "--open")
    if as_json:
        assert ref in [row["id"] for row in listed]
    else:
        assert ref in listed
    plain = step("list")
    assert ref in ([row["id"] for row in plain] if as_json else plain)

    room = step("show", ref)
    if as_json:
        assert room["id"] == ref and room["status"] == "triage"
        assert {n["code"] for n in room["nudges"]} >= {"role_empty"}
        assert [c["summary"] for c in room["changes"]] == ["payments v9"]
    else:
        assert "Milestones" in room and "commander is empty on a SEV2 incident" in room

    events = step("timeline", ref)
    if as_json:
        assert [e["kind"] for e in events] == ["incident_declared"]
    else:
        assert "incident_declared" in events

    assessed = step("assess", ref, "--customer-impact", "30%")
    if as_json:
        assert assessed["severity"] == "SEV1"
    else:
        assert "SEV1: customer impact 30% >= 25%" in assessed

    overridden = step("severity", ref, "SEV2", "--why", "only the eu-west pilot cohort")
    if as_json:
        assert (overridden["severity"], overridden["override_why"]) == (
            "SEV2",
            "only the eu-west pilot cohort",
        )
    else:
        assert "override by a person (only the eu-west pilot cohort)" in overridden

    for role, person in (("commander", "alice"), ("comms", "dana"), ("scribe", "bob")):
        roles = step("role", "assign", ref, role, person)
    if as_json:
        assert {r: t["person"] for r, t in roles["roles"].items()} == {
            "commander": "alice",
            "comms": "dana",
            "scribe": "bob",
        }
        assert roles["milestones"]["acknowledged_at"] is not None
    else:
        assert "alice" in roles and "dana" in roles

    handed = step("role", "handoff", ref, "commander", "erin", "--note", "mitigating; watch eu-west")
    if as_json:
        assert handed["roles"]["commander"]["person"] == "erin"
    else:
        assert "alice -> erin" in handed

    fact = step("fact", ref, "eu-west 5xx ratio is 37%", "--source", "Grafana checkout RED")
    guess = step("guess", ref, "the payments v9 deploy broke eu-west")
    step("guess", ref, "the database is slow")
    confirmed = step("confirm", ref, "G1", "--source", "errors stop with the flag off")
    refuted = step("refute", ref, "G2", "--why", "p99 at baseline")
    if as_json:
        assert [f["ref"] for f in fact["facts"]] == ["F1"]
        assert [g["ref"] for g in guess["open_guesses"]] == ["G1"]
        assert [f["ref"] for f in confirmed["facts"]] == ["F1", "G1"]
        assert refuted["open_guesses"] == [] and [g["ref"] for g in refuted["refuted_guesses"]] == ["G2"]
    else:
        assert "Confirmed facts" in fact and "the payments v9 deploy" in guess
        assert " F1 " in confirmed and " G1 " in confirmed

    decided = step(
        "decide",
        ref,
        "Disable the new payment flow",
        "--why",
        "lowest-risk action",
        "--alternatives",
        "roll back",
        "--alternatives",
        "shift traffic",
        "--irreversible",
    )
    if as_json:
        (decision,) = decided["decisions"]
        assert (decision["reversible"], decision["alternatives"]) == (False, ["roll back", "shift traffic"])
    else:
        assert "Disable the new payment flow" in decided and "NO" in decided

    noted = step("note", ref, "bridge is open", "--pin")
    if as_json:
        assert noted["version"] >= 13
    else:
        assert f"Recorded on {ref} (event #" in noted

    nearby = step("changes", ref)
    if as_json:
        assert nearby["services"] == ["checkout", "payments", "inventory"]
        assert [c["summary"] for c in nearby["changes"]] == ["payments v9"]
    else:
        assert "payments v9" in nearby

    prepared = step("mitigate", "list", ref)
    if as_json:
        assert [p["index"] for p in prepared] == [1, 2, 3, 4]
        assert (prepared[0]["kind"], prepared[0]["risk"]) == ("feature_flag", "low")
        assert prepared[-1]["risk"] == "high"
    else:
        assert "Prepared mitigations (lowest risk first)" in prepared

    proposed = step("mitigate", "propose", ref, "--prepared", "1")
    if as_json:
        assert proposed["mitigations"][0]["authority"] == "storefront on-call"
    step("mitigate", "approve", ref, "M1")
    applied = step("mitigate", "apply", ref, "M1", "--changes", "flag off in eu-west")
    judged = step("mitigate", "outcome", ref, "M1", "effective", "--note", "5xx 37% -> 0.4%")
    if as_json:
        assert applied["status"] == "mitigating"
        assert judged["mitigations"][0]["state"] == "effective"
    else:
        assert "effective" in judged

    step(
        "mitigate",
        "propose",
        ref,
        "--title",
        "Roll back payments",
        "--kind",
        "rollback",
        "--risk",
        "medium",
        "--expected-minutes",
        "5",
        "--changes",
        "payments v9 -> v8",
    )
    step("mitigate", "apply", ref, "M2")
    reverted = step("mitigate", "revert", ref, "M2", "--why", "not needed after the flag")
    if as_json:
        assert reverted["mitigations"][1]["state"] == "reverted"
    else:
        assert "reverted" in reverted

    mitigated = step("mitigated", ref, "--evidence", "eu-west 5xx under SLO")
    assert (mitigated["status"] == "mitigated") if as_json else ("is mitigated" in mitigated)

    public = step("update", ref, "Some customers in Europe cannot pay.", "--audience", "public")
    prefilled = step("update", ref)
    draft = step("update", ref, "--draft")
    if as_json:
        assert public["updates"][-1]["audience"] == "public"
        assert prefilled["updates"][-1]["text"].startswith(f"{ref} [SEV2]")
        assert draft["text"].startswith(f"{ref} [SEV2]")
        assert len(prefilled["updates"]) == 2
    else:
        assert "Posted U1 (public)" in public and "Posted U2 (internal)" in prefilled
        assert draft.startswith(f"{ref} [SEV2]")

    resolved = step(
        "resolve",
        ref,
        "--impact-stopped",
        "--risk-controlled",
        "--summary",
        "flag off; fixed in v10",
        "--final-update",
        "Checkout works again.",
    )
    reopened = step("reopen", ref, "--why", "errors are back in eu-west")
    step(
        "resolve",
        ref,
        "--impact-stopped",
        "--risk-controlled",
        "--summary",
        "fixed for good",
        "--final-update",
        "Checkout works again, for good.",
    )
    if as_json:
        assert resolved["status"] == "resolved" and reopened["status"] == "mitigating"
    else:
        assert "is resolved" in resolved and "is mitigating" in reopened

    minor = step("declare", "--title", "Search suggestions slow", "-s", "search")
    minor_ref = minor["id"] if as_json else minor.split()[1]
    step("resolve", minor_ref, "--impact-stopped", "--risk-controlled", "--summary", "recovered")
    closed = step("close", minor_ref)
    assert (closed["status"] == "closed") if as_json else ("is closed" in closed)

    whole = step("timeline", ref)
    if as_json:
        assert any(None in e["payload"].values() for e in whole), whole  # empty fields exist...
    else:
        assert "=None" not in whole and "None" not in whole, whole  # ...and are left out for people
        assert "severity_changed" in whole and "mitigation_applied" in whole

    verified = step("verify")
    one = step("verify", ref)
    if as_json:
        assert verified["ok"] is True and verified["incidents_checked"] >= 2
        assert one == {"ok": True, "incidents_checked": 1, "broken": None, "breaks": []}
    else:
        assert "incident chain(s) verified" in verified and "ok: 1 incident" in one
    return str(ref)
