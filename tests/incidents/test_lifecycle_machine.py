"""Random command sequences through the domain, then through the services on SQLite.

After every step: at most one holder per role, the status agrees with the milestones, the
hash chain verifies, folding from scratch equals the incremental state, and the version
counts the events. A refused command must leave the timeline untouched.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from tests.conftest import dispose
from tests.incidents.builders import POLICY, Incident, declaration
from tests.incidents.fakes import T0, FakeClock
from tests.incidents.invariants import check_invariants
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents import mitigation as mitigations
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk
from warroom.domain.incidents.severity import IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState, Role, Status
from warroom.domain.shared.errors import DomainError
from warroom.services.incidents import commands as cases
from warroom.services.ports.incidents import IncidentFilter

PEOPLE = st.sampled_from(["alice", "bob", "dana", "erin"])
ROLES = st.sampled_from(list(Role))
KINDS = st.sampled_from(list(IncidentKind))
SHARES = st.sampled_from([None, 0.0, 0.01, 0.05, 0.12, 0.25, 0.6])
SEVERITIES = st.sampled_from(list(Severity))
WHY = st.sampled_from([None, "", "exec escalation"])
REFS = st.integers(min_value=1, max_value=4)
OUTCOMES = st.sampled_from(["effective", "ineffective", "worse", "inconclusive"])
PLANS = st.builds(
    MitigationPlan,
    title=st.just("mitigate"),
    kind=st.sampled_from(list(MitigationKind)),
    risk=st.sampled_from(list(Risk)),
    reversible=st.booleans(),
    authority=st.sampled_from([None, "alice"]),
)

Decide = Callable[[IncidentState, datetime], list[NewEvent]]


class DomainLifecycle(RuleBasedStateMachine):
    """Drives the pure domain; every refused command must leave the timeline as it was."""

    incident: Incident

    @initialize(kind=KINDS, share=SHARES, severity=st.sampled_from([None, Severity.SEV1]))
    def declare(self, kind: IncidentKind, share: float | None, severity: Severity | None) -> None:
        impact = declaration().impact.merged({"customer_share": share})
        why = "exec escalation" if severity else None
        self.incident = Incident(declaration(kind=kind, impact=impact, severity=severity, why=why))

    def attempt(self, decide: Decide, by: str = "alice") -> None:
        version = self.incident.state.version
        try:
            self.incident.do(decide, by=by)
        except DomainError:
            assert self.incident.state.version == version
            assert len(self.incident.events) == version

    @rule(minutes=st.integers(min_value=1, max_value=300))
    def time_passes(self, minutes: int) -> None:
        self.incident.later(minutes=minutes)

    @rule(role=ROLES, person=PEOPLE)
    def assign_role(self, role: Role, person: str) -> None:
        self.attempt(lambda s, now: rules.assign_role(s, role, person, now=now))

    @rule(role=ROLES, person=PEOPLE)
    def hand_off_role(self, role: Role, person: str) -> None:
        self.attempt(
            lambda s, now: rules.hand_off_role(s, role, person, "over to you", now=now, policy=POLICY)
        )

    @rule(share=SHARES)
    def reassess(self, share: float | None) -> None:
        changes = {"customer_share": share}
        self.attempt(lambda s, now: rules.reassess(s, changes, now=now, policy=POLICY))

    @rule(severity=SEVERITIES, why=WHY)
    def override_severity(self, severity: Severity, why: str | None) -> None:
        self.attempt(lambda s, now: rules.override_severity(s, severity, why, now=now, policy=POLICY))

    @rule()
    def record_fact(self) -> None:
        self.attempt(lambda s, now: rules.record_fact(s, "fact", "log", now=now, policy=POLICY))

    @rule()
    def record_guess(self) -> None:
        self.attempt(lambda s, now: rules.record_guess(s, "guess", now=now, policy=POLICY))

    @rule(ref=REFS, confirm=st.booleans())
    def decide_guess(self, ref: int, confirm: bool) -> None:
        if confirm:
            self.attempt(lambda s, now: rules.confirm_guess(s, f"G{ref}", "log", now=now, policy=POLICY))
        else:
            self.attempt(lambda s, now: rules.refute_guess(s, f"G{ref}", "no", now=now, policy=POLICY))

    @rule(plan=PLANS)
    def propose(self, plan: MitigationPlan) -> None:
        self.attempt(lambda s, now: mitigations.propose(s, plan, now=now, policy=POLICY))

    @rule(ref=REFS)
    def approve(self, ref: int) -> None:
        self.attempt(lambda s, now: mitigations.approve(s, f"M{ref}", now=now))

    @rule(ref=REFS)
    def apply(self, ref: int) -> None:
        self.attempt(lambda s, now: mitigations.apply(s, f"M{ref}", None, now=now, policy=POLICY))

    @rule(ref=REFS, outcome=OUTCOMES)
    def judge(self, ref: int, outcome: str) -> None:
        self.attempt(
            lambda s, now: mitigations.record_outcome(
                s, f"M{ref}", outcome, note=None, now=now, policy=POLICY
            )
        )

    @rule(ref=REFS)
    def revert(self, ref: int) -> None:
        self.attempt(lambda s, now: mitigations.revert(s, f"M{ref}", "worse", now=now, policy=POLICY))

    @rule()
    def mark_mitigated(self) -> None:
        self.attempt(lambda s, now: rules.mark_mitigated(s, None, now=now, policy=POLICY))

    @rule(audience=st.sampled_from(["internal", "public"]))
    def post_update(self, audience: str) -> None:
        self.attempt(lambda s, now: rules.post_update(s, "update", audience, now=now, policy=POLICY))

    @rule(stopped=st.booleans(), controlled=st.booleans(), verified=st.booleans(), last_word=st.booleans())
    def resolve(self, stopped: bool, controlled: bool, verified: bool, last_word: bool) -> None:
        self.attempt(
            lambda s, now: rules.resolve(
                s,
                "done",
                impact_stopped=stopped,
                risk_controlled=controlled,
                data_verified=verified,
                now=now,
                policy=POLICY,
                final_update="back to normal" if last_word else None,
            )
        )

    @rule()
    def reopen(self) -> None:
        self.attempt(lambda s, now: rules.reopen(s, "impact is back", now=now, policy=POLICY))

    @precondition(lambda self: self.incident.state.status is Status.RESOLVED)
    @rule()
    def learn(self) -> None:
        """What the postmortem module records before closing (outside the core's commands)."""
        count = len(self.incident.state.followups)
        due = (self.incident.now + timedelta(days=7)).isoformat()
        followup = {"ref": f"A{count + 1}", "title": "t", "owner": "erin", "due": due, "kind": "process"}
        self.incident.record("postmortem_published", {})
        self.incident.record("followup_added", followup)

    @rule()
    def close(self) -> None:
        self.attempt(lambda s, now: rules.close(s, now=now))

    @invariant()
    def lifecycle_holds(self) -> None:
        check_invariants(self.incident.state, self.incident.events, POLICY)


DomainLifecycle.TestCase.settings = settings(
    max_examples=80, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestDomainLifecycle = DomainLifecycle.TestCase


# --- the same through the services, on a real SQLite file -------------------------------------

_TEMPLATE: dict[str, Path] = {}


def _migrated_template() -> Path:
    """One migrated database file, copied for each example (migrating costs more than copying)."""
    if "path" not in _TEMPLATE:
        from warroom.bootstrap import build
        from warroom.settings import Settings

        folder = Path(tempfile.mkdtemp(prefix="warroom-template-"))
        path = folder / "template.db"
        dispose(build(Settings(database_url=f"sqlite:///{path}")))
        _TEMPLATE["path"] = path
    return _TEMPLATE["path"]


Command = Callable[..., Any]


class ServiceLifecycle(RuleBasedStateMachine):
    """The use cases on SQLite: the stored timeline and the read model stay consistent."""

    def __init__(self) -> None:
        super().__init__()
        from warroom.bootstrap import build
        from warroom.settings import Settings

        self.folder = Path(tempfile.mkdtemp(prefix="warroom-machine-"))
        path = self.folder / "warroom.db"
        shutil.copy(_migrated_template(), path)
        self.clock = FakeClock(T0)
        self.app = build(Settings(database_url=f"sqlite:///{path}"), clock=self.clock)
        self.ctx = self.app.context
        self.ref = ""

    def teardown(self) -> None:
        dispose(self.app)
        shutil.rmtree(self.folder, ignore_errors=True)

    @initialize(kind=KINDS, share=SHARES)
    def declare(self, kind: IncidentKind, share: float | None) -> None:
        impact = declaration().impact.merged({"customer_share": share})
        self.ref = cases.declare_incident(self.ctx, declaration(kind=kind, impact=impact), "alice").ref

    def attempt(self, command: Command, *args: Any, **kwargs: Any) -> None:
        before = cases.incident_version(self.ctx, self.ref)
        try:
            command(self.ctx, self.ref, "alice", *args, **kwargs)
        except DomainError:
            assert cases.incident_version(self.ctx, self.ref) == before

    @rule(minutes=st.integers(min_value=1, max_value=300))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

    @rule(role=ROLES, person=PEOPLE)
    def assign_role(self, role: Role, person: str) -> None:
        self.attempt(cases.assign_role, role, person)

    @rule(role=ROLES, person=PEOPLE)
    def hand_off_role(self, role: Role, person: str) -> None:
        self.attempt(cases.hand_off_role, role, person, "over to you")

    @rule(count=st.integers(min_value=20, max_value=120))
    def chatter(self, count: int) -> None:
        """Many events in one command, so appends cross the snapshot interval."""
        notes = [NewEvent("note_added", {"text": f"n{i}", "pinned": False}, T0) for i in range(count)]
        cases.execute(self.ctx, self.ref, "scribe", lambda s, now: list(notes))

    @rule()
    def record_guess(self) -> None:
        self.attempt(cases.record_guess, "guess")

    @rule(ref=REFS)
    def confirm_guess(self, ref: int) -> None:
        self.attempt(cases.confirm_guess, f"G{ref}", "log")

    @rule(plan=PLANS)
    def propose(self, plan: MitigationPlan) -> None:
        self.attempt(cases.propose_mitigation, plan)

    @rule(ref=REFS)
    def approve(self, ref: int) -> None:
        self.attempt(cases.approve_mitigation, f"M{ref}")

    @rule(ref=REFS)
    def apply(self, ref: int) -> None:
        self.attempt(cases.apply_mitigation, f"M{ref}")

    @rule()
    def mark_mitigated(self) -> None:
        self.attempt(cases.mark_mitigated, None)

    @rule(share=SHARES)
    def reassess(self, share: float | None) -> None:
        self.attempt(cases.reassess, {"customer_share": share})

    @rule(severity=SEVERITIES, why=WHY)
    def override_severity(self, severity: Severity, why: str | None) -> None:
        self.attempt(cases.override_severity, severity, why)

    @rule(verified=st.booleans())
    def resolve(self, verified: bool) -> None:
        self.attempt(cases.resolve, "done", impact_stopped=True, risk_controlled=True, data_verified=verified)

    @rule()
    def reopen(self) -> None:
        self.attempt(cases.reopen, "impact is back")

    @rule()
    def close(self) -> None:
        self.attempt(cases.close)

    @invariant()
    def stored_timeline_holds(self) -> None:
        if not self.ref:
            return
        state = cases.get_incident(self.ctx, self.ref)  # the latest snapshot + later events
        events = cases.timeline(self.ctx, self.ref)
        check_invariants(state, events, self.ctx.policy)
        (row,) = cases.list_incidents(self.ctx, IncidentFilter())
        commander = state.roles.get("commander")
        assert (row.status, row.severity, row.version) == (
            state.status.value,
            state.severity.name,
            state.version,
        )
        assert row.commander == (commander.person if commander else None)
        assert cases.incident_version(self.ctx, self.ref) == len(events)


ServiceLifecycle.TestCase.settings = settings(
    max_examples=15, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestServiceLifecycle = ServiceLifecycle.TestCase
