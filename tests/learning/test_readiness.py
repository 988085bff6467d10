"""Playbook readiness: good and broken playbooks, check by check."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from warroom.domain.learning.readiness import (
    PlaybookFacts,
    PreparedMitigation,
    Readiness,
    assess_readiness,
)
from warroom.domain.shared.errors import ValidationError

GOOD = PlaybookFacts(
    service="checkout",
    has_declaration_template=True,
    triage_questions=3,
    commander_candidates=("Alice", "Bob"),
    comms_candidates=("Carol",),
    scribe_candidates=("Dan",),
    mitigations=(
        PreparedMitigation("Shift traffic to eu-west", 15.0, "the checkout on-call"),
        PreparedMitigation("Roll back the last deploy", 4.0, "the checkout on-call"),
    ),
)


def check(readiness: Readiness, name: str) -> tuple[bool, str]:
    (found,) = [c for c in readiness.checks if c.name == name]
    return found.passed, found.detail


def test_a_complete_playbook_is_ready_with_a_full_score() -> None:
    readiness = assess_readiness(GOOD)

    assert readiness.service == "checkout"
    assert readiness.score == 100
    assert readiness.gaps == ()
    assert readiness.ready
    assert [c.name for c in readiness.checks] == [
        "declaration template",
        "first triage questions",
        "commander candidates",
        "comms candidates",
        "scribe candidates",
        "five-minute mitigation",
    ]
    assert check(readiness, "five-minute mitigation") == (
        True,
        "'Roll back the last deploy' takes 4 min, authorized by the checkout on-call",
    )
    assert check(readiness, "commander candidates") == (True, "incident commander (IC): Alice, Bob")


def test_an_empty_playbook_fails_every_check_and_names_each_gap() -> None:
    readiness = assess_readiness(
        PlaybookFacts(service="search", has_declaration_template=False, triage_questions=0)
    )

    assert readiness.score == 0
    assert not readiness.ready
    assert readiness.gaps == (
        "no declaration template: write one with scope, symptom and severity",
        "0 first triage questions; the first minutes need at least 3 (how bad, how wide, how fast)",
        "nobody is named who may be incident commander (IC)",
        "nobody is named who may be comms lead",
        "nobody is named who may be scribe",
        "no prepared mitigation",
    )


@pytest.mark.parametrize(
    ("broken", "failed_check"),
    [
        (replace(GOOD, has_declaration_template=False), "declaration template"),
        (replace(GOOD, triage_questions=2), "first triage questions"),
        (replace(GOOD, commander_candidates=()), "commander candidates"),
        (replace(GOOD, comms_candidates=["  "]), "comms candidates"),
        (replace(GOOD, scribe_candidates=()), "scribe candidates"),
        (replace(GOOD, mitigations=()), "five-minute mitigation"),
    ],
)
def test_one_missing_piece_costs_one_sixth_of_the_score(broken: PlaybookFacts, failed_check: str) -> None:
    readiness = assess_readiness(broken)

    assert readiness.score == 83  # 5 of 6 checks, rounded
    assert [c.name for c in readiness.checks if not c.passed] == [failed_check]
    assert len(readiness.gaps) == 1


def test_the_score_is_the_rounded_share_of_checks_passed() -> None:
    readiness = assess_readiness(
        replace(GOOD, has_declaration_template=False, triage_questions=1, scribe_candidates=())
    )

    assert readiness.score == 50  # 3 of 6
    assert check(readiness, "first triage questions") == (
        False,
        "1 first triage question; the first minutes need at least 3 (how bad, how wide, how fast)",
    )


def test_a_mitigation_of_exactly_five_minutes_counts() -> None:
    facts = replace(GOOD, mitigations=[("Disable recommendations", 5, "the search lead")])

    assert check(assess_readiness(facts), "five-minute mitigation")[0]


def test_a_quick_mitigation_without_an_authority_does_not_count() -> None:
    facts = replace(
        GOOD,
        mitigations=[("Flip the kill switch", 1.0, None), ("Purge the CDN", 2.0, "   ")],
    )

    assert check(assess_readiness(facts), "five-minute mitigation") == (
        False,
        "'Flip the kill switch' is quick but names no one who may authorize it",
    )


def test_a_slow_mitigation_does_not_count_and_the_fastest_is_named() -> None:
    facts = replace(
        GOOD,
        mitigations=[("Fail over the database", 30.0, "the DBA"), ("Scale out", 5.5, "the SRE")],
    )

    assert check(assess_readiness(facts), "five-minute mitigation") == (
        False,
        "no prepared mitigation works within five minutes (fastest: 'Scale out', 5.5 min)",
    )


def test_a_mitigation_without_an_expected_time_does_not_count() -> None:
    facts = replace(GOOD, mitigations=[("Restart the workers", None, "the on-call")])

    assert check(assess_readiness(facts), "five-minute mitigation") == (
        False,
        "no prepared mitigation says how long it takes to work",
    )


def test_plain_tuples_and_lists_are_accepted_and_stored_as_tuples() -> None:
    facts = PlaybookFacts(
        service="api",
        has_declaration_template=True,
        triage_questions=4,
        commander_candidates=["Alice"],
        mitigations=[("Roll back", 3.0, "Alice")],
    )

    assert facts.commander_candidates == ("Alice",)
    assert facts.mitigations == (PreparedMitigation("Roll back", 3.0, "Alice"),)
    hash(facts)


def test_a_negative_number_of_triage_questions_is_refused() -> None:
    with pytest.raises(ValidationError, match="triage_questions"):
        PlaybookFacts(service="api", has_declaration_template=True, triage_questions=-1)


def test_readiness_is_json_ready() -> None:
    data = json.loads(json.dumps(assess_readiness(replace(GOOD, scribe_candidates=())).to_dict()))

    assert data["service"] == "checkout"
    assert data["score"] == 83
    assert data["ready"] is False
    assert data["gaps"] == ["nobody is named who may be scribe"]
    assert data["checks"][4] == {
        "name": "scribe candidates",
        "passed": False,
        "detail": "nobody is named who may be scribe",
    }
