"""The ledger: confirmed facts apart from open guesses, decisions with why and alternatives."""

from __future__ import annotations

import pytest

from tests.incidents.builders import POLICY, Incident
from warroom.domain.incidents import commands as rules
from warroom.domain.shared.errors import InvalidTransition, NotFound, ValidationError
from warroom.services.incidents.views import incident_view


def fact(incident: Incident, text: str, source: str = "Grafana") -> None:
    incident.do(lambda s, now: rules.record_fact(s, text, source, now=now, policy=POLICY))


def guess(incident: Incident, text: str) -> None:
    incident.do(lambda s, now: rules.record_guess(s, text, now=now, policy=POLICY))


def test_a_fact_carries_its_source() -> None:
    incident = Incident()
    fact(incident, "eu-west 5xx ratio is 37%", "checkout RED dashboard")
    (entry,) = incident.state.ledger
    assert (entry.ref, entry.status, entry.source) == ("F1", "fact", "checkout RED dashboard")
    assert entry.is_fact


def test_a_fact_without_a_source_is_refused() -> None:
    incident = Incident()
    with pytest.raises(ValidationError) as refused:
        rules.record_fact(incident.state, "x", "", now=incident.now, policy=POLICY)
    assert refused.value.field == "source"


def test_facts_and_guesses_are_numbered_apart() -> None:
    incident = Incident()
    fact(incident, "one")
    guess(incident, "maybe the deploy")
    fact(incident, "two")
    guess(incident, "maybe the flag")
    assert [e.ref for e in incident.state.ledger] == ["F1", "G1", "F2", "G2"]


def test_a_guess_is_open_until_decided() -> None:
    incident = Incident()
    guess(incident, "the v2.14 deploy broke payments")
    (entry,) = incident.state.ledger
    assert (entry.status, entry.is_fact, entry.source) == ("open", False, None)


def test_confirming_a_guess_makes_it_a_fact_with_its_source() -> None:
    incident = Incident()
    guess(incident, "the v2.14 deploy broke payments")
    incident.later(minutes=5)
    incident.do(
        lambda s, now: rules.confirm_guess(s, "G1", "5xx stopped with the flag off", now=now, policy=POLICY),
        by="bob",
    )
    (entry,) = incident.state.ledger
    assert entry.status == "confirmed" and entry.is_fact
    assert entry.source == "5xx stopped with the flag off"
    assert (entry.decided_by, entry.decided_at) == ("bob", incident.now)


def test_refuting_a_guess_needs_why_and_keeps_it_out_of_the_facts() -> None:
    incident = Incident()
    guess(incident, "the database is slow")
    with pytest.raises(ValidationError) as refused:
        rules.refute_guess(incident.state, "G1", " ", now=incident.now, policy=POLICY)
    assert refused.value.field == "why"
    incident.do(lambda s, now: rules.refute_guess(s, "G1", "p99 at baseline", now=now, policy=POLICY))
    (entry,) = incident.state.ledger
    assert (entry.status, entry.why, entry.is_fact) == ("refuted", "p99 at baseline", False)


def test_a_decided_guess_cannot_be_decided_again() -> None:
    incident = Incident()
    guess(incident, "g")
    incident.do(lambda s, now: rules.refute_guess(s, "G1", "no", now=now, policy=POLICY))
    with pytest.raises(InvalidTransition, match="G1 on INC-1 is already refuted"):
        rules.confirm_guess(incident.state, "G1", None, now=incident.now, policy=POLICY)


def test_a_fact_is_not_a_guess_to_confirm() -> None:
    incident = Incident()
    fact(incident, "f")
    with pytest.raises(InvalidTransition):
        rules.confirm_guess(incident.state, "F1", None, now=incident.now, policy=POLICY)


def test_an_unknown_guess_is_not_found() -> None:
    incident = Incident()
    with pytest.raises(NotFound, match="no guess 'G7' on INC-1"):
        rules.confirm_guess(incident.state, "G7", None, now=incident.now, policy=POLICY)


@pytest.mark.parametrize("ref", ["G2", "g2", " 2 "])
def test_a_guess_is_found_by_its_ref_or_number(ref: str) -> None:
    incident = Incident()
    guess(incident, "one")
    guess(incident, "two")
    (event,) = incident.do(lambda s, now: rules.confirm_guess(s, ref, None, now=now, policy=POLICY))
    assert event.payload["ref"] == "G2"


def test_the_room_shows_confirmed_facts_apart_from_open_and_refuted_guesses() -> None:
    incident = Incident()
    fact(incident, "f1")
    guess(incident, "g1")
    guess(incident, "g2")
    guess(incident, "g3")
    incident.do(lambda s, now: rules.confirm_guess(s, "G1", "log", now=now, policy=POLICY))
    incident.do(lambda s, now: rules.refute_guess(s, "G3", "no", now=now, policy=POLICY))
    view = incident_view(incident.state, now=incident.now, policy=POLICY)
    assert [e["ref"] for e in view["facts"]] == ["F1", "G1"]
    assert [e["ref"] for e in view["open_guesses"]] == ["G2"]
    assert [e["ref"] for e in view["refuted_guesses"]] == ["G3"]


def test_a_decision_records_what_why_alternatives_and_reversibility() -> None:
    incident = Incident()
    incident.do(
        lambda s, now: rules.record_decision(
            s,
            "Disable the new payment flow",
            "lowest-risk action removing the suspected trigger",
            ["roll back the release", "shift eu-west traffic"],
            reversible=False,
            now=now,
            policy=POLICY,
        ),
        by="alice",
    )
    (decision,) = incident.state.decisions
    assert decision.ref == "D1"
    assert decision.why == "lowest-risk action removing the suspected trigger"
    assert decision.alternatives == ["roll back the release", "shift eu-west traffic"]
    assert (decision.reversible, decision.by, decision.at) == (False, "alice", incident.now)


def test_a_decision_needs_a_why() -> None:
    incident = Incident()
    with pytest.raises(ValidationError) as refused:
        rules.record_decision(
            incident.state, "do it", "", [], reversible=True, now=incident.now, policy=POLICY
        )
    assert refused.value.field == "why"


def test_a_note_changes_nothing_but_the_version() -> None:
    incident = Incident()
    before = incident.state.ledger, incident.state.decisions
    incident.do(lambda s, now: rules.add_note(s, "bridge is open", pinned=True, now=now, policy=POLICY))
    assert (incident.state.ledger, incident.state.decisions) == before
    assert incident.state.version == 2
    assert incident.events[-1].payload == {"text": "bridge is open", "pinned": True}


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "is empty"), ("  \n ", "is empty"), ("x" * 4001, "limit is 4000"), ("a\x00b", "NUL")],
)
def test_bad_text_is_refused_naming_the_problem(text: str, problem: str) -> None:
    incident = Incident()
    with pytest.raises(ValidationError, match=problem):
        rules.record_guess(incident.state, text, now=incident.now, policy=POLICY)


def test_text_at_the_limit_is_kept_and_stripped() -> None:
    incident = Incident()
    guess(incident, "  " + "x" * 4000 + "  ")
    assert incident.state.ledger[0].text == "x" * 4000
