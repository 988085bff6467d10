"""The status page's data: service states from open incidents, public updates only."""

from __future__ import annotations

from datetime import UTC, datetime

from warroom.domain.incidents.severity import Impact, IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState, Status, StatusUpdate
from warroom.web.public import derive

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def incident(
    number: int,
    severity: Severity,
    services: list[str],
    *,
    status: Status = Status.TRIAGE,
    kind: IncidentKind = IncidentKind.AVAILABILITY,
    updates: list[tuple[str, str]] = (),  # type: ignore[assignment]
) -> IncidentState:
    state = IncidentState(
        number=number,
        title=f"secret title {number}",
        scope="",
        symptom="",
        trigger="",
        kind=kind,
        services=services,
        impact=Impact(),
        severity=severity,
        severity_explanation="",
        policy_severity=severity,
        status=status,
    )
    state.updates = [
        StatusUpdate(f"U{i}", text, audience, T0, "alice", None) for i, (text, audience) in enumerate(updates)
    ]
    return state


def states(result: object) -> dict[str, str]:
    return {s.name: s.state for s in result.services}  # type: ignore[attr-defined]


def test_severity_decides_each_service_state_and_the_worst_incident_wins() -> None:
    result = derive(
        ["api", "checkout", "search"],
        [incident(1, Severity.SEV2, ["checkout"]), incident(2, Severity.SEV1, ["checkout", "api"])],
    )
    assert states(result) == {"api": "outage", "checkout": "outage", "search": "operational"}
    assert result.overall == "outage"


def test_mitigated_incidents_degrade_at_most_and_resolved_ones_not_at_all() -> None:
    result = derive(
        ["a", "b"],
        [
            incident(1, Severity.SEV1, ["a"], status=Status.MITIGATED),
            incident(2, Severity.SEV1, ["b"], status=Status.RESOLVED),
        ],
    )
    assert states(result) == {"a": "degraded", "b": "operational"}


def test_a_sev4_leaves_the_public_state_alone() -> None:
    assert states(derive(["a"], [incident(1, Severity.SEV4, ["a"])])) == {"a": "operational"}


def test_a_security_incident_shows_only_once_comms_published_on_it() -> None:
    quiet = incident(1, Severity.SEV1, ["auth"], kind=IncidentKind.SECURITY, updates=[("probe", "internal")])
    assert states(derive(["auth"], [quiet])) == {"auth": "operational"}
    told = incident(2, Severity.SEV1, ["auth"], kind=IncidentKind.SECURITY, updates=[("we know", "public")])
    assert states(derive(["auth"], [told])) == {"auth": "outage"}


def test_services_outside_the_catalog_appear_while_an_incident_is_open() -> None:
    result = derive(
        [], [incident(1, Severity.SEV2, ["ghost"]), incident(2, Severity.SEV2, ["old"], status=Status.CLOSED)]
    )
    assert states(result) == {"ghost": "degraded"}


def test_only_public_updates_are_carried_and_without_names_or_titles() -> None:
    result = derive(
        ["a"],
        [
            incident(
                1, Severity.SEV2, ["a"], updates=[("internal words", "internal"), ("public words", "public")]
            )
        ],
    )
    (published,) = result.incidents
    assert [u.text for u in published.updates] == ["public words"]
    assert "alice" not in repr(result) and "secret title" not in repr(result)
    assert "internal words" not in repr(result)


def test_an_incident_without_public_updates_is_not_listed() -> None:
    assert derive(["a"], [incident(1, Severity.SEV1, ["a"], updates=[("x", "internal")])]).incidents == []
