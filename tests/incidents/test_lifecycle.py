"""The lifecycle: triage -> mitigating -> mitigated -> resolved -> closed, reopen from resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.incidents.builders import POLICY, Incident, declaration
from tests.incidents.fakes import T0
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.commands import CLOCK_SKEW
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk
from warroom.domain.incidents.room import intervals
from warroom.domain.incidents.severity import IncidentKind, Severity
from warroom.domain.incidents.state import Role, Status
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.domain.shared.timefmt import parse_time

PLAN = MitigationPlan("Turn the new flow off", MitigationKind.FEATURE_FLAG, Risk.LOW)


def resolve(incident: Incident, **overrides: bool) -> None:
    flags = {"impact_stopped": True, "risk_controlled": True, "data_verified": False} | overrides
    incident.do(lambda s, now: rules.resolve(s, "flag off; fixed", now=now, policy=POLICY, **flags))


def propose_and_apply(incident: Incident) -> None:
    incident.do(lambda s, now: mitigations.propose(s, PLAN, now=now, policy=POLICY))
    ref = incident.state.mitigations[-1].ref
    incident.do(lambda s, now: mitigations.apply(s, ref, None, now=now, policy=POLICY))


# --- declaration and milestone times -------------------------------------------------------


def test_a_declared_incident_is_in_triage_with_declaration_and_detection_now() -> None:
    incident = Incident()
    state = incident.state
    assert state.status is Status.TRIAGE
    assert state.at("declared_at") == T0
    assert state.at("detected_at") == T0
    assert state.at("impact_started_at") is None
    assert state.version == 1


def test_detection_and_impact_start_are_stored_apart_from_declaration() -> None:
    detected, started = T0 - timedelta(minutes=6), T0 - timedelta(minutes=11)
    incident = Incident(declaration(detected_at=detected, impact_started_at=started))
    assert incident.state.at("declared_at") == T0
    assert incident.state.at("detected_at") == detected
    assert incident.state.at("impact_started_at") == started
    assert intervals(incident.state)["time_to_detect"] == 300
    assert intervals(incident.state)["time_to_declare"] == 360


def test_times_in_another_zone_are_stored_as_utc() -> None:
    cet = timezone(timedelta(hours=1))
    incident = Incident(declaration(detected_at=datetime(2026, 11, 26, 10, 30, tzinfo=cet)))
    detected = incident.state.at("detected_at")
    assert detected == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    assert detected is not None and detected.utcoffset() == timedelta(0)


def test_detection_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationError, match="in the future") as refused:
        rules.declare(declaration(detected_at=T0 + timedelta(hours=1)), now=T0, policy=POLICY)
    assert refused.value.field == "detected_at"


def test_detection_a_few_seconds_ahead_is_clock_skew_and_never_follows_declaration() -> None:
    incident = Incident(declaration(detected_at=T0 + CLOCK_SKEW - timedelta(seconds=1)))
    assert incident.state.at("detected_at") == incident.state.at("declared_at")


def test_impact_start_in_the_future_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        rules.declare(declaration(impact_started_at=T0 + timedelta(days=1)), now=T0, policy=POLICY)
    assert refused.value.field == "impact_started_at"


def test_a_naive_detection_time_is_refused() -> None:
    with pytest.raises(ValidationError, match="timezone"):
        rules.declare(declaration(detected_at=datetime(2026, 11, 26, 9, 0)), now=T0, policy=POLICY)


@pytest.mark.parametrize("title", ["", "   ", "x" * 201, "a\x00b"])
def test_a_bad_title_is_refused(title: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules.declare(declaration(title=title), now=T0, policy=POLICY)
    assert refused.value.field == "title"


# --- mitigating and mitigated --------------------------------------------------------------


def test_proposing_a_mitigation_leaves_the_incident_in_triage() -> None:
    incident = Incident()
    incident.do(lambda s, now: mitigations.propose(s, PLAN, now=now, policy=POLICY))
    assert incident.state.status is Status.TRIAGE


def test_the_first_mitigation_applied_moves_the_incident_to_mitigating() -> None:
    incident = Incident()
    propose_and_apply(incident)
    assert incident.state.status is Status.MITIGATING
    propose_and_apply(incident)
    assert incident.state.status is Status.MITIGATING


def test_marking_mitigated_sets_mitigated_at_with_its_evidence() -> None:
    incident = Incident()
    propose_and_apply(incident)
    incident.later(minutes=3)
    incident.do(lambda s, now: rules.mark_mitigated(s, "5xx under SLO", now=now, policy=POLICY))
    assert incident.state.status is Status.MITIGATED
    assert incident.state.at("mitigated_at") == T0 + timedelta(minutes=3)
    assert incident.state.milestones["mitigated_at"].evidence == "5xx under SLO"
    assert intervals(incident.state)["time_to_mitigate"] == 180


def test_marking_mitigated_twice_is_refused() -> None:
    incident = Incident()
    incident.do(lambda s, now: rules.mark_mitigated(s, None, now=now, policy=POLICY))
    with pytest.raises(InvalidTransition, match="already mitigated"):
        rules.mark_mitigated(incident.state, None, now=incident.now, policy=POLICY)


def test_applying_a_mitigation_after_mitigated_keeps_the_status() -> None:
    incident = Incident()
    incident.do(lambda s, now: rules.mark_mitigated(s, None, now=now, policy=POLICY))
    propose_and_apply(incident)
    assert incident.state.status is Status.MITIGATED


# --- resolve ---------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["impact_stopped", "risk_controlled"])
def test_resolving_needs_both_statements(missing: str) -> None:
    incident = Incident()
    flags = {"impact_stopped": True, "risk_controlled": True, missing: False}
    with pytest.raises(ValidationError) as refused:
        rules.resolve(incident.state, "done", data_verified=False, now=incident.now, policy=POLICY, **flags)
    assert refused.value.field == missing
    assert incident.state.status is Status.TRIAGE


def test_resolving_needs_a_summary() -> None:
    incident = Incident()
    with pytest.raises(ValidationError) as refused:
        rules.resolve(
            incident.state,
            " ",
            impact_stopped=True,
            risk_controlled=True,
            data_verified=False,
            now=incident.now,
            policy=POLICY,
        )
    assert refused.value.field == "summary"


def test_a_data_integrity_incident_needs_the_data_verified_before_resolve() -> None:
    incident = Incident(declaration(kind=IncidentKind.DATA_INTEGRITY))
    with pytest.raises(ValidationError, match="--data-verified"):
        resolve(incident)
    resolve(incident, data_verified=True)
    assert incident.state.status is Status.RESOLVED
    assert incident.state.resolution is not None and incident.state.resolution["data_verified"] is True


def test_resolving_records_resolved_at_and_both_statements() -> None:
    incident = Incident()
    incident.later(minutes=42)
    resolve(incident)
    assert incident.state.status is Status.RESOLVED
    assert incident.state.at("resolved_at") == T0 + timedelta(minutes=42)
    assert incident.state.resolution is not None
    assert incident.state.resolution["impact_stopped"] and incident.state.resolution["risk_controlled"]
    assert intervals(incident.state)["time_to_resolve"] == 42 * 60


def test_a_resolved_incident_cannot_be_resolved_again() -> None:
    incident = Incident()
    resolve(incident)
    with pytest.raises(InvalidTransition, match="reopen it"):
        resolve(incident)


# --- reopen ----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["triage", "mitigating", "mitigated"])
def test_only_a_resolved_incident_reopens(status: str) -> None:
    incident = Incident()
    if status != "triage":
        propose_and_apply(incident)
    if status == "mitigated":
        incident.do(lambda s, now: rules.mark_mitigated(s, None, now=now, policy=POLICY))
    assert incident.state.status.value == status
    with pytest.raises(InvalidTransition, match="only a resolved incident reopens"):
        rules.reopen(incident.state, "impact is back", now=incident.now, policy=POLICY)


def test_reopening_needs_a_why() -> None:
    incident = Incident()
    resolve(incident)
    with pytest.raises(ValidationError) as refused:
        rules.reopen(incident.state, "", now=incident.now, policy=POLICY)
    assert refused.value.field == "why"


def test_reopening_clears_resolved_at_and_returns_to_triage() -> None:
    incident = Incident()
    resolve(incident)
    incident.do(lambda s, now: rules.reopen(s, "errors are back", now=now, policy=POLICY))
    assert incident.state.status is Status.TRIAGE
    assert incident.state.at("resolved_at") is None
    assert incident.state.resolution is None


def test_a_reopened_incident_is_no_longer_mitigated_and_can_be_mitigated_again() -> None:
    incident = Incident()
    incident.do(lambda s, now: rules.mark_mitigated(s, None, now=now, policy=POLICY))
    resolve(incident)
    incident.do(lambda s, now: rules.reopen(s, "errors are back", now=now, policy=POLICY))
    assert incident.state.status is Status.TRIAGE
    assert incident.state.at("mitigated_at") is None
    incident.do(lambda s, now: rules.mark_mitigated(s, "flag off again", now=now, policy=POLICY))
    assert incident.state.status is Status.MITIGATED


# --- close -----------------------------------------------------------------------------------


def sev3() -> Incident:
    return Incident(declaration(impact=declaration().impact.merged({"customer_share": 0.01})))


def test_only_a_resolved_incident_closes() -> None:
    incident = sev3()
    with pytest.raises(InvalidTransition, match="resolve it before closing"):
        rules.close(incident.state, now=incident.now)


def test_a_resolved_sev3_closes_and_records_closed_at() -> None:
    incident = sev3()
    assert incident.state.severity is Severity.SEV3
    resolve(incident)
    incident.later(days=2)
    incident.do(lambda s, now: rules.close(s, now=now))
    assert incident.state.status is Status.CLOSED
    assert incident.state.at("closed_at") == T0 + timedelta(days=2)


def followup(incident: Incident, ref: str = "A1") -> None:
    due = (incident.now + timedelta(days=14)).isoformat()
    incident.record(
        "followup_added",
        {"ref": ref, "title": "alert on eu-west 5xx", "owner": "erin", "due": due, "kind": "detection"},
    )


@pytest.mark.parametrize("severity", [Severity.SEV1, Severity.SEV2])
def test_a_sev1_or_sev2_needs_a_published_postmortem_and_a_followup_to_close(severity: Severity) -> None:
    share = 0.4 if severity is Severity.SEV1 else 0.1
    incident = Incident(declaration(impact=declaration().impact.merged({"customer_share": share})))
    assert incident.state.severity is severity
    resolve(incident)
    with pytest.raises(InvalidTransition, match="publish its postmortem"):
        rules.close(incident.state, now=incident.now)
    incident.record("postmortem_published", {})
    with pytest.raises(InvalidTransition, match="at least one follow-up"):
        rules.close(incident.state, now=incident.now)
    followup(incident)
    incident.do(lambda s, now: rules.close(s, now=now))
    assert incident.state.status is Status.CLOSED


def test_a_followup_without_an_owner_blocks_closing() -> None:
    incident = sev3()
    resolve(incident)
    due = (incident.now + timedelta(days=3)).isoformat()
    incident.record("followup_added", {"ref": "A1", "title": "t", "owner": "", "due": due, "kind": "process"})
    with pytest.raises(InvalidTransition, match="A1 needs an owner"):
        rules.close(incident.state, now=incident.now)


CLOSED_WRITES = {
    "fact": lambda s, now: rules.record_fact(s, "x", "log", now=now, policy=POLICY),
    "guess": lambda s, now: rules.record_guess(s, "x", now=now, policy=POLICY),
    "note": lambda s, now: rules.add_note(s, "x", pinned=False, now=now, policy=POLICY),
    "decide": lambda s, now: rules.record_decision(s, "x", "y", [], reversible=True, now=now, policy=POLICY),
    "assign": lambda s, now: rules.assign_role(s, Role.SME, "zoe", now=now),
    "update": lambda s, now: rules.post_update(s, "x", "internal", now=now, policy=POLICY),
    "reassess": lambda s, now: rules.reassess(s, {"customer_share": 0.5}, now=now, policy=POLICY),
    "severity": lambda s, now: rules.override_severity(s, Severity.SEV1, "why", now=now, policy=POLICY),
    "reopen": lambda s, now: rules.reopen(s, "why", now=now, policy=POLICY),
    "close": lambda s, now: rules.close(s, now=now),
    "mitigated": lambda s, now: rules.mark_mitigated(s, None, now=now, policy=POLICY),
    "propose": lambda s, now: mitigations.propose(s, PLAN, now=now, policy=POLICY),
    "revert": lambda s, now: mitigations.revert(s, "M1", "why", now=now, policy=POLICY),
    "outcome": lambda s, now: mitigations.record_outcome(
        s, "M1", "effective", note=None, now=now, policy=POLICY
    ),
    "resolve": lambda s, now: rules.resolve(
        s, "x", impact_stopped=True, risk_controlled=True, data_verified=True, now=now, policy=POLICY
    ),
}


@pytest.mark.parametrize("write", sorted(CLOSED_WRITES))
def test_a_closed_incident_refuses_every_write(write: str) -> None:
    incident = sev3()
    propose_and_apply(incident)
    resolve(incident)
    incident.do(lambda s, now: rules.close(s, now=now))
    with pytest.raises(InvalidTransition, match="is closed"):
        CLOSED_WRITES[write](incident.state, incident.now)


def test_a_resolved_incident_still_takes_facts_but_not_new_roles() -> None:
    incident = Incident()
    resolve(incident)
    incident.do(
        lambda s, now: rules.record_fact(s, "root cause found", "postmortem draft", now=now, policy=POLICY)
    )
    with pytest.raises(InvalidTransition, match="reopen it"):
        rules.assign_role(incident.state, Role.COMMANDER, "bob", now=incident.now)


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_a_time_without_a_utc_equivalent_is_refused(text: str) -> None:
    with pytest.raises(ValidationError, match="out of range") as refused:
        parse_time(text, "detected_at")
    assert refused.value.field == "detected_at"


@pytest.mark.parametrize("text", ["", "yesterday", "2026-13-01T00:00:00Z", "2026-11-26T10:00:00"])
def test_a_time_that_is_not_iso_8601_with_a_zone_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as refused:
        parse_time(text, "at")
    assert refused.value.field == "at"


def test_a_time_before_the_year_1000_round_trips_through_the_timeline() -> None:
    """The canonical time text keeps four-digit years, so folding can read it back: a
    detection that old is refused now, but a timeline an older version stored holds one
    (here stamped by a clock set to year 526) and must still fold."""
    long_ago = datetime(526, 11, 26, 10, 0, tzinfo=UTC)
    with pytest.raises(ValidationError) as refused:
        Incident(declaration(detected_at=long_ago))
    assert refused.value.field == "detected_at" and "before 1970-01-01" in refused.value.detail
    incident = Incident(declaration(), at=long_ago)
    assert incident.events[0].payload["milestones"]["detected_at"]["at"] == "0526-11-26T10:00:00.000000Z"
    assert incident.state.at("detected_at") == long_ago


def test_resolving_after_public_updates_needs_a_last_public_word() -> None:
    incident = Incident()
    incident.do(
        lambda s, now: rules.post_update(s, "Checkout is failing for some.", "public", now=now, policy=POLICY)
    )
    with pytest.raises(ValidationError) as refused:
        resolve(incident)
    assert refused.value.field == "final_update"
    assert incident.state.status is not Status.RESOLVED
    incident.do(
        lambda s, now: rules.resolve(
            s,
            "flag off; fixed",
            impact_stopped=True,
            risk_controlled=True,
            data_verified=False,
            now=now,
            policy=POLICY,
            final_update="Resolved: checkout works again.",
        )
    )
    last = incident.state.updates[-1]
    assert (last.audience, last.text, last.next_due) == ("public", "Resolved: checkout works again.", None)
    assert incident.state.status is Status.RESOLVED
    assert [e.kind for e in incident.events[-2:]] == ["status_update_posted", "incident_resolved"]


def test_an_incident_only_told_internally_resolves_without_a_last_word() -> None:
    incident = Incident()
    incident.do(lambda s, now: rules.post_update(s, "bridge open", "internal", now=now, policy=POLICY))
    resolve(incident)
    assert incident.state.status is Status.RESOLVED and len(incident.state.updates) == 1
