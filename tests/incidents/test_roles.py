"""Roles: one holder at a time, explicit handoffs, the first commander acknowledges."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from tests.incidents.builders import POLICY, Incident
from tests.incidents.fakes import T0
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.state import Role
from warroom.domain.shared.errors import InvalidTransition, ValidationError


def assign(incident: Incident, role: Role, person: str) -> None:
    incident.do(lambda s, now: rules.assign_role(s, role, person, now=now))


def hand_off(incident: Incident, role: Role, person: str, note: str = "all yours") -> None:
    incident.do(lambda s, now: rules.hand_off_role(s, role, person, note, now=now, policy=POLICY))


def test_assigning_an_empty_role_gives_it_to_that_person() -> None:
    incident = Incident()
    assign(incident, Role.COMMS, "dana")
    term = incident.state.roles["comms"]
    assert (term.person, term.since, term.until) == ("dana", T0, None)


def test_a_held_role_cannot_be_assigned_and_the_refusal_says_to_hand_off() -> None:
    incident = Incident()
    assign(incident, Role.COMMANDER, "alice")
    with pytest.raises(InvalidTransition) as refused:
        rules.assign_role(incident.state, Role.COMMANDER, "bob", now=incident.now)
    message = refused.value.message
    assert "held by alice" in message
    assert "hand it off" in message
    assert "warroom role handoff INC-1 commander bob --note" in message
    assert incident.state.roles["commander"].person == "alice"


def test_assigning_a_role_to_its_holder_again_is_refused() -> None:
    incident = Incident()
    assign(incident, Role.SCRIBE, "bob")
    with pytest.raises(InvalidTransition, match="bob already holds scribe"):
        rules.assign_role(incident.state, Role.SCRIBE, "bob", now=incident.now)


def test_one_person_may_hold_two_roles() -> None:
    incident = Incident()
    assign(incident, Role.COMMANDER, "alice")
    assign(incident, Role.SCRIBE, "alice")
    assert {r: t.person for r, t in incident.state.roles.items()} == {"commander": "alice", "scribe": "alice"}


def test_the_first_commander_sets_acknowledged_at() -> None:
    incident = Incident()
    incident.later(minutes=4)
    assign(incident, Role.COMMANDER, "alice")
    assert incident.state.at("acknowledged_at") == T0 + timedelta(minutes=4)
    assert incident.events[-1].payload["acknowledges"] is True


def test_other_roles_do_not_acknowledge() -> None:
    incident = Incident()
    assign(incident, Role.COMMS, "dana")
    assert incident.state.at("acknowledged_at") is None


def test_a_later_commander_keeps_the_first_acknowledgement() -> None:
    incident = Incident()
    assign(incident, Role.COMMANDER, "alice")
    incident.later(hours=1)
    hand_off(incident, Role.COMMANDER, "bob")
    assert incident.state.at("acknowledged_at") == T0
    assert incident.state.roles["commander"].person == "bob"


def test_a_handoff_keeps_both_intervals_and_the_note() -> None:
    incident = Incident()
    assign(incident, Role.COMMANDER, "alice")
    incident.later(hours=2)
    hand_off(incident, Role.COMMANDER, "bob", "mitigated; watch the error ratio")
    history = [(t.person, t.since, t.until) for t in incident.state.role_history if t.role is Role.COMMANDER]
    assert history == [("alice", T0, T0 + timedelta(hours=2)), ("bob", T0 + timedelta(hours=2), None)]
    payload = incident.events[-1].payload
    assert payload == {
        "role": "commander",
        "from": "alice",
        "to": "bob",
        "note": "mitigated; watch the error ratio",
    }


def test_three_holders_in_a_row_keep_three_intervals() -> None:
    incident = Incident()
    assign(incident, Role.SCRIBE, "bob")
    incident.later(hours=1)
    hand_off(incident, Role.SCRIBE, "erin")
    incident.later(hours=1)
    hand_off(incident, Role.SCRIBE, "bob")
    terms = [t for t in incident.state.role_history if t.role is Role.SCRIBE]
    assert [t.person for t in terms] == ["bob", "erin", "bob"]
    assert [t.until is None for t in terms] == [False, False, True]
    assert all(a.until == b.since for a, b in itertools.pairwise(terms))


def test_handing_off_an_empty_role_says_to_assign_it() -> None:
    incident = Incident()
    with pytest.raises(InvalidTransition, match="is empty; assign it instead"):
        rules.hand_off_role(incident.state, Role.COMMS, "dana", "note", now=incident.now, policy=POLICY)


def test_handing_a_role_to_its_holder_is_refused() -> None:
    incident = Incident()
    assign(incident, Role.COMMS, "dana")
    with pytest.raises(InvalidTransition, match="dana already holds comms"):
        rules.hand_off_role(incident.state, Role.COMMS, "dana", "note", now=incident.now, policy=POLICY)


def test_a_handoff_needs_a_note() -> None:
    incident = Incident()
    assign(incident, Role.COMMS, "dana")
    with pytest.raises(ValidationError) as refused:
        rules.hand_off_role(incident.state, Role.COMMS, "erin", "  ", now=incident.now, policy=POLICY)
    assert refused.value.field == "note"


@pytest.mark.parametrize("person", ["", "   ", "x" * 121, "a\x00b"])
def test_a_bad_person_is_refused(person: str) -> None:
    incident = Incident()
    with pytest.raises(ValidationError) as refused:
        rules.assign_role(incident.state, Role.OPS, person, now=incident.now)
    assert refused.value.field == "person"


def test_roles_cannot_change_on_a_resolved_incident() -> None:
    incident = Incident()
    assign(incident, Role.COMMANDER, "alice")
    incident.do(
        lambda s, now: rules.resolve(
            s, "done", impact_stopped=True, risk_controlled=True, data_verified=False, now=now, policy=POLICY
        )
    )
    with pytest.raises(InvalidTransition, match="is resolved"):
        rules.hand_off_role(incident.state, Role.COMMANDER, "bob", "n", now=incident.now, policy=POLICY)
