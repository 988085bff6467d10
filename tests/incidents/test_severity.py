"""The severity policy: shared criteria, the most severe dimension wins, overrides need a reason."""

from __future__ import annotations

import math

import pytest

from tests.incidents.builders import POLICY, Incident, declaration
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.severity import (
    DataIntegrity,
    Impact,
    IncidentKind,
    SecurityImpact,
    Severity,
    SeverityPolicy,
    assess,
)
from warroom.domain.shared.errors import InvalidTransition, ValidationError

DEFAULT = SeverityPolicy()
AVAIL = IncidentKind.AVAILABILITY


def verdict(kind: IncidentKind = AVAIL, policy: SeverityPolicy = DEFAULT, **impact: object):  # type: ignore[no-untyped-def]
    return assess(Impact(**impact), kind, policy)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("share", "expected"),
    [
        (1.0, Severity.SEV1),
        (0.25, Severity.SEV1),
        (0.2499, Severity.SEV2),
        (0.05, Severity.SEV2),
        (0.0499, Severity.SEV3),
        (0.0001, Severity.SEV3),
        (0.0, Severity.SEV4),
        (None, Severity.SEV4),
    ],
)
def test_customer_impact_thresholds_are_inclusive(share: float | None, expected: Severity) -> None:
    assert verdict(customer_share=share).severity is expected


@pytest.mark.parametrize(
    ("money", "expected"),
    [
        (250_000.0, Severity.SEV1),
        (100_000.0, Severity.SEV1),
        (99_999.99, Severity.SEV2),
        (10_000.0, Severity.SEV2),
        (9_999.99, Severity.SEV3),
        (1.0, Severity.SEV3),
        (0.0, Severity.SEV4),
    ],
)
def test_financial_thresholds_are_inclusive(money: float, expected: Severity) -> None:
    assert verdict(financial_per_hour=money).severity is expected


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (DataIntegrity.LOST, Severity.SEV1),
        (DataIntegrity.CORRUPTED, Severity.SEV1),
        (DataIntegrity.AT_RISK, Severity.SEV2),
        (DataIntegrity.NONE, Severity.SEV4),
    ],
)
def test_data_integrity_dimension(data: DataIntegrity, expected: Severity) -> None:
    assert verdict(data_integrity=data).severity is expected


@pytest.mark.parametrize(
    ("security", "expected"),
    [
        (SecurityImpact.CONFIRMED, Severity.SEV1),
        (SecurityImpact.SUSPECTED, Severity.SEV2),
        (SecurityImpact.NONE, Severity.SEV4),
    ],
)
def test_security_dimension(security: SecurityImpact, expected: Severity) -> None:
    assert verdict(security=security).severity is expected


def test_a_critical_journey_down_is_sev1_and_named() -> None:
    found = verdict(critical_journey="checkout")
    assert found.severity is Severity.SEV1
    assert "critical journey 'checkout' is down" in found.explanation


def test_the_explanation_names_the_dimension_and_its_threshold() -> None:
    assert verdict(customer_share=0.12).explanation == "SEV2: customer impact 12% >= 5%"
    assert verdict(financial_per_hour=150_000).explanation == "SEV1: financial loss 150,000/h >= 100,000/h"


def test_the_most_severe_dimension_wins_and_only_it_is_named() -> None:
    found = verdict(customer_share=0.12, financial_per_hour=500.0, security=SecurityImpact.CONFIRMED)
    assert found.severity is Severity.SEV1
    assert found.explanation == "SEV1: security breach confirmed"
    assert "customer impact" not in found.explanation
    assert "financial" not in found.explanation


def test_dimensions_tied_at_the_top_are_all_named() -> None:
    found = verdict(customer_share=0.30, data_integrity=DataIntegrity.LOST)
    assert found.severity is Severity.SEV1
    assert "customer impact 30% >= 25%" in found.explanation
    assert "data lost" in found.explanation


def test_no_measurable_impact_is_sev4_and_says_so() -> None:
    assert verdict().explanation == "SEV4: no measurable impact assessed"


def test_data_integrity_incidents_have_a_floor_of_sev2() -> None:
    floor = verdict(IncidentKind.DATA_INTEGRITY, customer_share=0.01)
    assert floor.severity is Severity.SEV2
    assert "floor of SEV2" in floor.explanation
    above = verdict(IncidentKind.DATA_INTEGRITY, data_integrity=DataIntegrity.CORRUPTED)
    assert above.severity is Severity.SEV1
    assert above.explanation == "SEV1: data corrupted"


def test_a_latency_incident_has_no_floor() -> None:
    assert verdict(IncidentKind.LATENCY, customer_share=0.01).severity is Severity.SEV3


def test_thresholds_are_configurable() -> None:
    strict = SeverityPolicy(sev1_customer_share=0.10, sev2_customer_share=0.01)
    found = verdict(policy=strict, customer_share=0.10)
    assert found.severity is Severity.SEV1
    assert found.explanation == "SEV1: customer impact 10% >= 10%"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("customer_share", 1.01),
        ("customer_share", -0.01),
        ("customer_share", math.nan),
        ("financial_per_hour", -1.0),
        ("financial_per_hour", math.nan),
        ("financial_per_hour", math.inf),
        ("critical_journey", "  "),
    ],
)
def test_impossible_impact_values_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        Impact(**{field: value})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "expected"), [("SEV2", Severity.SEV2), ("sev1", Severity.SEV1), ("3", Severity.SEV3)]
)
def test_severity_parses_its_names_and_numbers(text: str, expected: Severity) -> None:
    assert Severity.parse(text) is expected


@pytest.mark.parametrize("text", ["SEV5", "SEV0", "", "high", "-1", "²"])
def test_unknown_severities_are_refused_naming_the_choices(text: str) -> None:
    with pytest.raises(ValidationError, match="SEV1, SEV2, SEV3, SEV4"):
        Severity.parse(text)


# --- declaring and overriding ------------------------------------------------------------


def test_declaring_takes_the_policys_severity_with_its_explanation() -> None:
    incident = Incident(declaration())
    assert incident.state.severity is Severity.SEV2
    assert incident.state.severity_explanation == "SEV2: customer impact 12% >= 5%"
    assert incident.state.override_why is None


def test_declaring_with_the_policys_own_severity_needs_no_why() -> None:
    incident = Incident(declaration(severity=Severity.SEV2))
    assert incident.state.override_why is None


def test_a_declared_override_needs_a_why_that_names_the_policy() -> None:
    with pytest.raises(ValidationError, match="needs --why") as refused:
        rules.declare(declaration(severity=Severity.SEV1), now=Incident().now, policy=POLICY)
    assert refused.value.field == "why"
    assert "SEV2: customer impact 12% >= 5%" in refused.value.message


def test_a_declared_override_records_both_the_override_and_the_policy() -> None:
    incident = Incident(declaration(severity=Severity.SEV1, why="the CEO's demo is in an hour"))
    payload = incident.events[0].payload
    assert payload["severity"] == "SEV1"
    assert payload["policy_severity"] == "SEV2"
    assert payload["override_why"] == "the CEO's demo is in an hour"
    state = incident.state
    assert (state.severity, state.policy_severity) == (Severity.SEV1, Severity.SEV2)
    assert "override by a person (the CEO's demo is in an hour)" in state.severity_explanation
    assert "policy said SEV2: customer impact 12% >= 5%" in state.severity_explanation


def test_overriding_later_needs_a_why() -> None:
    incident = Incident()
    with pytest.raises(ValidationError) as refused:
        rules.override_severity(incident.state, Severity.SEV1, None, now=incident.now, policy=POLICY)
    assert refused.value.field == "why"


def test_an_override_is_recorded_with_its_reason_and_the_policys_view() -> None:
    incident = Incident()
    (event,) = incident.do(
        lambda s, now: rules.override_severity(
            s, Severity.SEV1, "payments partner escalated", now=now, policy=POLICY
        )
    )
    assert event.kind == "severity_changed"
    assert event.payload["from"] == "SEV2"
    assert event.payload["to"] == "SEV1"
    assert event.payload["override_why"] == "payments partner escalated"
    assert "policy said SEV2" in event.payload["explanation"]
    assert incident.state.severity is Severity.SEV1


def test_setting_the_policys_severity_again_clears_the_override() -> None:
    incident = Incident(declaration(severity=Severity.SEV1, why="exec escalation"))
    incident.do(lambda s, now: rules.override_severity(s, Severity.SEV2, None, now=now, policy=POLICY))
    assert incident.state.override_why is None
    assert incident.state.severity_explanation == "SEV2: customer impact 12% >= 5%"


def test_overriding_to_the_current_severity_is_refused() -> None:
    incident = Incident()
    with pytest.raises(InvalidTransition, match="already SEV2"):
        rules.override_severity(incident.state, Severity.SEV2, None, now=incident.now, policy=POLICY)


def test_reassessing_follows_the_policy() -> None:
    incident = Incident()
    events = incident.do(lambda s, now: rules.reassess(s, {"customer_share": 0.4}, now=now, policy=POLICY))
    assert [e.kind for e in events] == ["impact_assessed", "severity_changed"]
    assert incident.state.severity is Severity.SEV1
    assert incident.state.severity_explanation == "SEV1: customer impact 40% >= 25%"
    assert incident.state.impact.customer_share == 0.4


def test_reassessing_keeps_the_dimensions_not_named() -> None:
    incident = Incident(declaration(impact=Impact(customer_share=0.12, security=SecurityImpact.SUSPECTED)))
    incident.do(lambda s, now: rules.reassess(s, {"customer_share": 0.01}, now=now, policy=POLICY))
    assert incident.state.impact.security is SecurityImpact.SUSPECTED
    assert incident.state.severity is Severity.SEV2
    assert incident.state.severity_explanation == "SEV2: security breach suspected"


def test_reassessing_without_a_change_of_severity_records_only_the_assessment() -> None:
    incident = Incident()
    events = incident.do(lambda s, now: rules.reassess(s, {"customer_share": 0.2}, now=now, policy=POLICY))
    assert [e.kind for e in events] == ["impact_assessed"]


def test_reassessing_keeps_a_human_override() -> None:
    incident = Incident(declaration(severity=Severity.SEV1, why="regulator is watching"))
    events = incident.do(lambda s, now: rules.reassess(s, {"customer_share": 0.01}, now=now, policy=POLICY))
    assert [e.kind for e in events] == ["impact_assessed"]
    state = incident.state
    assert state.severity is Severity.SEV1
    assert state.policy_severity is Severity.SEV3
    assert state.override_why == "regulator is watching"
    assert "override by a person" in state.severity_explanation


def test_reassessing_nothing_is_refused() -> None:
    incident = Incident()
    with pytest.raises(ValidationError, match="at least one dimension"):
        rules.reassess(incident.state, {}, now=incident.now, policy=POLICY)


@pytest.mark.parametrize("journey", ["x" * 201, "pay\x00ment"])
def test_a_critical_journey_is_checked_like_any_text_a_person_types(journey: str) -> None:
    with pytest.raises(ValidationError) as refused:
        rules.declare(declaration(impact=Impact(critical_journey=journey)), now=Incident().now, policy=POLICY)
    assert refused.value.field == "critical_journey"
    incident = Incident()
    with pytest.raises(ValidationError):
        rules.reassess(incident.state, {"critical_journey": journey}, now=incident.now, policy=POLICY)


def test_no_override_takes_a_data_integrity_incident_below_its_floor() -> None:
    from datetime import UTC, datetime

    from warroom.domain.incidents import commands as rules
    from warroom.domain.incidents.commands import Declaration
    from warroom.domain.incidents.policy import ResponsePolicy
    from warroom.domain.incidents.severity import IncidentKind, Severity
    from warroom.domain.shared.errors import ValidationError as Refused

    decl = Declaration(
        title="orders written twice",
        kind=IncidentKind.DATA_INTEGRITY,
        services=["orders"],
        severity=Severity.SEV3,
        why="only a few rows",
    )
    with pytest.raises(Refused, match="floor of SEV2"):
        rules.declare(decl, now=datetime(2026, 11, 26, 10, tzinfo=UTC), policy=ResponsePolicy())
