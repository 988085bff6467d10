"""What the room derives at a moment: nudges, the update cadence, durations, the draft update."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.incidents.builders import POLICY, Incident, declaration
from tests.incidents.fakes import T0
from warroom.domain.comms.updates import draft_update
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.room import milestone_gaps, next_update_due, nudges
from warroom.domain.incidents.severity import Impact
from warroom.domain.incidents.state import Role
from warroom.domain.shared.errors import ValidationError
from warroom.services.incidents.views import incident_view

SHARES = {"SEV1": 0.4, "SEV2": 0.1, "SEV3": 0.01, "SEV4": None}


def at_severity(name: str, policy: ResponsePolicy = POLICY) -> Incident:
    incident = Incident(declaration(impact=Impact(customer_share=SHARES[name])), policy=policy)
    assert incident.state.severity.name == name
    return incident


def codes(incident: Incident, *, after: timedelta = timedelta(0)) -> list[str]:
    return [n.code for n in nudges(incident.state, now=incident.now + after, policy=incident.policy)]


def staff(incident: Incident, **people: str) -> None:
    for role, person in people.items():
        incident.do(lambda s, now, r=Role(role), p=person: rules.assign_role(s, r, p, now=now))


# --- empty core roles ------------------------------------------------------------------------


@pytest.mark.parametrize("severity", ["SEV1", "SEV2"])
def test_empty_core_roles_are_nudged_on_sev1_and_sev2(severity: str) -> None:
    incident = at_severity(severity)
    found = nudges(incident.state, now=incident.now, policy=POLICY)
    empty = [n.message for n in found if n.code == "role_empty"]
    assert empty == [
        f"{role} is empty on a {severity} incident: assign it" for role in ("commander", "comms", "scribe")
    ]


def test_filling_a_core_role_removes_its_nudge() -> None:
    incident = at_severity("SEV1")
    staff(incident, commander="alice", comms="dana")
    messages = [
        n.message for n in nudges(incident.state, now=incident.now, policy=POLICY) if n.code == "role_empty"
    ]
    assert messages == ["scribe is empty on a SEV1 incident: assign it"]


@pytest.mark.parametrize("severity", ["SEV3", "SEV4"])
def test_empty_roles_are_not_nudged_below_sev2(severity: str) -> None:
    assert "role_empty" not in codes(at_severity(severity))


def test_optional_roles_are_never_nudged_when_empty() -> None:
    incident = at_severity("SEV1")
    staff(incident, commander="alice", comms="dana", scribe="bob")
    assert "role_empty" not in codes(incident)


# --- rotation ----------------------------------------------------------------------------------


def test_a_role_held_longer_than_four_hours_is_nudged_to_rotate() -> None:
    incident = at_severity("SEV3")
    staff(incident, commander="alice")
    assert "rotation_due" not in codes(incident, after=timedelta(hours=4))
    found = nudges(incident.state, now=incident.now + timedelta(hours=4, seconds=1), policy=POLICY)
    rotation = [n.message for n in found if n.code == "rotation_due"]
    assert rotation == [
        "alice has held commander for 4h 00m (rotation after 4h 00m): hand off to a fresh person"
    ]


def test_a_handoff_restarts_the_rotation_clock() -> None:
    incident = at_severity("SEV3")
    staff(incident, commander="alice")
    incident.later(hours=5)
    incident.do(lambda s, now: rules.hand_off_role(s, Role.COMMANDER, "bob", "tired", now=now, policy=POLICY))
    assert "rotation_due" not in codes(incident, after=timedelta(hours=3))


def test_the_rotation_period_is_configurable() -> None:
    policy = ResponsePolicy(rotation=timedelta(hours=1))
    incident = at_severity("SEV3", policy)
    staff(incident, ops="frank")
    assert "rotation_due" in codes(incident, after=timedelta(minutes=61))


# --- commander doing hands-on work ---------------------------------------------------------


def test_a_commander_also_holding_another_role_is_nudged() -> None:
    incident = at_severity("SEV3")
    staff(incident, commander="alice", ops="alice")
    found = [
        n.message
        for n in nudges(incident.state, now=incident.now, policy=POLICY)
        if n.code == "commander_doubling"
    ]
    assert found == ["alice is commander and also ops: keep the commander out of hands-on work"]


def test_distinct_people_in_roles_are_not_nudged_for_doubling() -> None:
    incident = at_severity("SEV3")
    staff(incident, commander="alice", ops="frank", scribe="bob")
    assert "commander_doubling" not in codes(incident)


# --- update cadence ------------------------------------------------------------------------------


@pytest.mark.parametrize(("severity", "minutes"), [("SEV1", 15), ("SEV2", 30), ("SEV3", 60)])
def test_the_next_update_is_due_after_the_severitys_cadence(severity: str, minutes: int) -> None:
    incident = at_severity(severity)
    due = T0 + timedelta(minutes=minutes)
    assert next_update_due(incident.state, POLICY) == due
    assert "update_overdue" not in codes(incident, after=timedelta(minutes=minutes))
    assert "update_overdue" in codes(incident, after=timedelta(minutes=minutes, seconds=1))


def test_a_sev4_has_no_update_cadence() -> None:
    incident = at_severity("SEV4")
    assert next_update_due(incident.state, POLICY) is None
    assert "update_overdue" not in codes(incident, after=timedelta(days=3))


def test_the_cadence_counts_from_the_last_update() -> None:
    incident = at_severity("SEV2")
    incident.later(minutes=20)
    incident.do(lambda s, now: rules.post_update(s, "still on it", "internal", now=now, policy=POLICY))
    assert next_update_due(incident.state, POLICY) == T0 + timedelta(minutes=50)
    assert incident.state.updates[-1].next_due == T0 + timedelta(minutes=50)
    assert "update_overdue" not in codes(incident, after=timedelta(minutes=29))


def test_the_overdue_nudge_says_by_how_much() -> None:
    incident = at_severity("SEV1")
    found = nudges(incident.state, now=T0 + timedelta(minutes=22), policy=POLICY)
    (overdue,) = [n.message for n in found if n.code == "update_overdue"]
    assert overdue.startswith("status update overdue by 7m 00s")


def test_a_severity_change_changes_the_cadence() -> None:
    incident = at_severity("SEV3")
    incident.do(lambda s, now: rules.reassess(s, {"customer_share": 0.5}, now=now, policy=POLICY))
    assert next_update_due(incident.state, POLICY) == T0 + timedelta(minutes=15)


def test_a_resolved_incident_has_no_due_update_and_no_nudges() -> None:
    incident = at_severity("SEV1")
    incident.do(
        lambda s, now: rules.resolve(
            s, "done", impact_stopped=True, risk_controlled=True, data_verified=False, now=now, policy=POLICY
        )
    )
    assert next_update_due(incident.state, POLICY) is None
    assert codes(incident, after=timedelta(hours=9)) == []


def test_an_update_needs_a_known_audience_and_text() -> None:
    incident = at_severity("SEV2")
    with pytest.raises(ValidationError, match="audience"):
        rules.post_update(incident.state, "x", "everyone", now=incident.now, policy=POLICY)
    with pytest.raises(ValidationError, match="text"):
        rules.post_update(incident.state, "", "public", now=incident.now, policy=POLICY)


# --- the room view and the draft update ----------------------------------------------------


def test_the_room_view_says_when_the_next_update_is_due_and_if_it_is_overdue() -> None:
    incident = at_severity("SEV1")
    on_time = incident_view(incident.state, now=T0 + timedelta(minutes=10), policy=POLICY)
    late = incident_view(incident.state, now=T0 + timedelta(minutes=16), policy=POLICY)
    assert on_time["next_update_due"] == "2026-11-26T10:15:00.000000Z"
    assert (on_time["update_overdue"], late["update_overdue"]) == (False, True)
    assert "update_overdue" in [n["code"] for n in late["nudges"]]


def test_milestone_gaps_follow_the_lifecycle_order() -> None:
    incident = Incident(declaration(detected_at=T0 - timedelta(minutes=5)))
    incident.later(minutes=2)
    staff(incident, commander="alice")
    gaps = [(a, b, d.total_seconds()) for a, b, d in milestone_gaps(incident.state)]
    assert gaps == [("detected_at", "declared_at", 300.0), ("declared_at", "acknowledged_at", 120.0)]


def test_the_draft_update_is_prefilled_from_the_state() -> None:
    incident = at_severity("SEV2")
    plan = MitigationPlan("Turn the new flow off", MitigationKind.FEATURE_FLAG, Risk.LOW)
    incident.do(lambda s, now: mitigations.propose(s, plan, now=now, policy=POLICY))
    incident.do(lambda s, now: mitigations.apply(s, "M1", None, now=now, policy=POLICY))
    text = draft_update(incident.state, now=T0 + timedelta(minutes=5), policy=POLICY)
    assert "INC-1 [SEV2] Checkout returns 5xx - mitigating for 5m 00s." in text
    assert "Impact: 10% of users or requests affected." in text
    assert "Mitigation: Turn the new flow off - applied, effect being verified." in text
    assert "Next update by 10:35 UTC." in text
