"""Lifecycle invariants that must hold after every command, whatever came before."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from warroom.domain.incidents.chain import verify
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.fold import fold
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import assess
from warroom.domain.incidents.state import IncidentState, Status
from warroom.domain.shared.serial import from_data, to_data


def check_invariants(state: IncidentState, events: Sequence[Event], policy: ResponsePolicy) -> None:
    # the timeline is complete, numbered and intact
    assert state.version == len(events) == events[-1].seq
    broken = verify(events)
    assert broken is None, str(broken)
    assert state.last_hash == events[-1].hash

    # folding from scratch, and from a snapshot taken half-way, equal the incremental state
    assert to_data(fold(events)) == to_data(state)
    cut = len(events) // 2
    if cut:
        snapshot = from_data(IncidentState, to_data(fold(events[:cut])))
        assert to_data(fold(events[cut:], snapshot)) == to_data(state)

    # one holder per role: the current holder is the one open interval of that role
    for role, term in state.roles.items():
        open_terms = [t for t in state.role_history if t.role.value == role and t.until is None]
        assert [(t.person, t.since) for t in open_terms] == [(term.person, term.since)]
    for role in {t.role for t in state.role_history}:
        terms = [t for t in state.role_history if t.role is role]
        for before, after in itertools.pairwise(terms):
            assert before.until == after.since, f"{role}: intervals must follow each other"
    assert ("acknowledged_at" in state.milestones) == any(
        t.role.value == "commander" for t in state.role_history
    )

    # the status agrees with the milestones
    assert (state.status is Status.RESOLVED) == (
        "resolved_at" in state.milestones and "closed_at" not in state.milestones
    )
    assert ("resolved_at" in state.milestones) == (state.status in (Status.RESOLVED, Status.CLOSED))
    assert ("closed_at" in state.milestones) == (state.status is Status.CLOSED)
    if state.status is Status.MITIGATED:
        assert "mitigated_at" in state.milestones
    if state.status is Status.MITIGATING:
        assert any(m.applied_at is not None for m in state.mitigations)
    declared = state.at("declared_at")
    detected = state.at("detected_at")
    assert declared is not None and detected is not None and detected <= declared

    # the severity follows the policy unless a person overrode it, with a reason
    policy_says = assess(state.impact, state.kind, policy.severity).severity
    assert state.policy_severity == policy_says
    if state.override_why is None:
        assert state.severity == policy_says
