"""Mitigations: approval when authority is named, data-integrity risk flags, lowest risk first."""

from __future__ import annotations

import math

import pytest

from tests.incidents.builders import POLICY, Incident, declaration
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk, rank_plans
from warroom.domain.incidents.severity import IncidentKind
from warroom.domain.shared.errors import InvalidTransition, NotFound, ValidationError

FLAG = MitigationPlan(
    "Turn the new flow off", MitigationKind.FEATURE_FLAG, Risk.LOW, changes="flag on -> off"
)


def propose(incident: Incident, plan: MitigationPlan = FLAG) -> str:
    incident.do(lambda s, now: mitigations.propose(s, plan, now=now, policy=POLICY))
    return incident.state.mitigations[-1].ref


def apply(incident: Incident, ref: str, changes: str | None = None) -> None:
    incident.do(lambda s, now: mitigations.apply(s, ref, changes, now=now, policy=POLICY))


def test_a_proposed_mitigation_records_what_it_changes() -> None:
    incident = Incident()
    ref = propose(incident)
    item = incident.state.mitigations[0]
    assert (ref, item.state, item.kind, item.risk, item.changes) == (
        "M1",
        "proposed",
        "feature_flag",
        "low",
        "flag on -> off",
    )


def test_a_mitigation_without_authority_is_applied_directly() -> None:
    incident = Incident()
    ref = propose(incident)
    apply(incident, ref)
    item = incident.state.mitigations[0]
    assert (item.state, item.applied_by, item.applied_at) == ("applied", "alice", incident.now)


def test_a_mitigation_naming_an_authority_needs_approval_before_it_is_applied() -> None:
    incident = Incident()
    ref = propose(
        incident, MitigationPlan("Roll back", MitigationKind.ROLLBACK, Risk.MEDIUM, authority="alice")
    )
    with pytest.raises(InvalidTransition, match="M1 needs approval by alice"):
        mitigations.apply(incident.state, ref, None, now=incident.now, policy=POLICY)
    incident.do(lambda s, now: mitigations.approve(s, ref, now=now), by="alice")
    assert incident.state.mitigations[0].approved_by == "alice"
    apply(incident, ref)
    assert incident.state.mitigations[0].state == "applied"


def test_only_a_proposed_mitigation_is_approved() -> None:
    incident = Incident()
    ref = propose(incident)
    apply(incident, ref)
    with pytest.raises(InvalidTransition, match="only a proposed mitigation is approved"):
        mitigations.approve(incident.state, ref, now=incident.now)


def test_a_mitigation_is_applied_once() -> None:
    incident = Incident()
    ref = propose(incident)
    apply(incident, ref)
    with pytest.raises(InvalidTransition, match="cannot be applied again"):
        mitigations.apply(incident.state, ref, None, now=incident.now, policy=POLICY)


def test_applying_records_what_it_actually_changed() -> None:
    incident = Incident()
    ref = propose(incident)
    apply(incident, ref, "flag off in eu-west only")
    assert incident.state.mitigations[0].changes == "flag off in eu-west only"


def test_an_unknown_mitigation_is_not_found() -> None:
    incident = Incident()
    with pytest.raises(NotFound, match="no mitigation 'M4'"):
        mitigations.approve(incident.state, "M4", now=incident.now)


@pytest.mark.parametrize("kind", [MitigationKind.RESTART, MitigationKind.CACHE_FLUSH])
def test_restarts_and_cache_flushes_are_flagged_high_risk_on_data_integrity_incidents(
    kind: MitigationKind,
) -> None:
    incident = Incident(declaration(kind=IncidentKind.DATA_INTEGRITY))
    propose(incident, MitigationPlan("Flush it", kind, Risk.LOW))
    item = incident.state.mitigations[0]
    assert item.risk == "high"
    assert item.risk_flag == f"{kind.value} on a data-integrity incident can widen damage"


def test_a_restart_keeps_its_risk_on_an_availability_incident() -> None:
    incident = Incident()
    propose(incident, MitigationPlan("Restart pods", MitigationKind.RESTART, Risk.LOW))
    item = incident.state.mitigations[0]
    assert (item.risk, item.risk_flag) == ("low", None)


def plans() -> list[MitigationPlan]:
    return [
        MitigationPlan("Restart pods", MitigationKind.RESTART, Risk.LOW, expected_minutes=1),
        MitigationPlan("Roll back", MitigationKind.ROLLBACK, Risk.MEDIUM, expected_minutes=5),
        MitigationPlan("Shift traffic", MitigationKind.TRAFFIC_SHIFT, Risk.MEDIUM, expected_minutes=3),
        MitigationPlan("Fail closed", MitigationKind.FAIL_CLOSED, Risk.LOW, expected_minutes=4),
        MitigationPlan("Flag off", MitigationKind.FEATURE_FLAG, Risk.LOW, expected_minutes=1),
        MitigationPlan("Scale up", MitigationKind.SCALE, Risk.HIGH, expected_minutes=2),
    ]


def test_prepared_mitigations_rank_lowest_risk_first_then_fastest() -> None:
    ranked = [p.title for p in rank_plans(plans(), IncidentKind.AVAILABILITY)]
    assert ranked == ["Flag off", "Restart pods", "Fail closed", "Shift traffic", "Roll back", "Scale up"]


def test_on_data_integrity_incidents_fail_closed_leads_and_restarts_sink() -> None:
    ranked = [p.title for p in rank_plans(plans(), IncidentKind.DATA_INTEGRITY)]
    assert ranked == ["Fail closed", "Flag off", "Shift traffic", "Roll back", "Restart pods", "Scale up"]


@pytest.mark.parametrize("minutes", [0.0, -1.0, 1441.0, math.nan, math.inf])
def test_an_impossible_time_to_effect_is_refused(minutes: float) -> None:
    incident = Incident()
    plan = MitigationPlan("x", MitigationKind.OTHER, Risk.LOW, expected_minutes=minutes)
    with pytest.raises(ValidationError) as refused:
        mitigations.propose(incident.state, plan, now=incident.now, policy=POLICY)
    assert refused.value.field == "expected_minutes"


def test_an_outcome_needs_the_mitigation_applied() -> None:
    incident = Incident()
    ref = propose(incident)
    with pytest.raises(InvalidTransition, match="apply it before judging it"):
        mitigations.record_outcome(
            incident.state, ref, "effective", note=None, now=incident.now, policy=POLICY
        )


def test_an_outcome_is_recorded_with_before_and_after() -> None:
    incident = Incident()
    ref = propose(incident)
    apply(incident, ref)
    incident.do(
        lambda s, now: mitigations.record_outcome(
            s, ref, "Effective", note="37% -> 0.4%", before=0.37, after=0.004, now=now, policy=POLICY
        )
    )
    item = incident.state.mitigations[0]
    assert (item.state, item.outcome_note, item.before, item.after) == (
        "effective",
        "37% -> 0.4%",
        0.37,
        0.004,
    )


def test_an_unknown_outcome_is_refused_naming_the_choices() -> None:
    incident = Incident()
    ref = propose(incident)
    apply(incident, ref)
    with pytest.raises(ValidationError, match="effective, ineffective, worse, inconclusive"):
        mitigations.record_outcome(incident.state, ref, "great", note=None, now=incident.now, policy=POLICY)


def test_reverting_needs_an_applied_reversible_mitigation_and_a_why() -> None:
    incident = Incident()
    ref = propose(incident)
    with pytest.raises(InvalidTransition, match="only an applied mitigation is reverted"):
        mitigations.revert(incident.state, ref, "why", now=incident.now, policy=POLICY)
    apply(incident, ref)
    with pytest.raises(ValidationError):
        mitigations.revert(incident.state, ref, "", now=incident.now, policy=POLICY)
    incident.do(lambda s, now: mitigations.revert(s, ref, "made it worse", now=now, policy=POLICY))
    item = incident.state.mitigations[0]
    assert (item.state, item.reverted_why) == ("reverted", "made it worse")
    with pytest.raises(InvalidTransition):
        mitigations.revert(incident.state, ref, "again", now=incident.now, policy=POLICY)
    with pytest.raises(InvalidTransition, match="was reverted"):
        mitigations.record_outcome(incident.state, ref, "worse", note=None, now=incident.now, policy=POLICY)


def test_an_irreversible_mitigation_cannot_be_reverted() -> None:
    incident = Incident()
    ref = propose(
        incident, MitigationPlan("Drop the queue", MitigationKind.OTHER, Risk.HIGH, reversible=False)
    )
    apply(incident, ref)
    with pytest.raises(InvalidTransition, match="not reversible"):
        mitigations.revert(incident.state, ref, "oops", now=incident.now, policy=POLICY)
