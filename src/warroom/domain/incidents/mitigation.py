"""Mitigations: proposed, approved when authority is needed, applied, verified or reverted.

Mitigation comes before perfect explanation: the lowest-risk action that reduces harm
quickly is suggested first, and on data-integrity incidents the actions that can widen
damage (restarts, cache flushes) are flagged high risk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from warroom.domain.incidents.commands import ensure_open, ensure_writable, find_mitigation
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.severity import IncidentKind, parse_enum
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.domain.shared.text import optional_text, require_text


class MitigationKind(StrEnum):
    ROLLBACK = "rollback"
    SHED_LOAD = "shed_load"
    FAIL_CLOSED = "fail_closed"
    DISABLE_PATH = "disable_path"
    FEATURE_FLAG = "feature_flag"
    TRAFFIC_SHIFT = "traffic_shift"
    DEPENDENCY_BYPASS = "dependency_bypass"
    SCALE = "scale"
    RESTART = "restart"
    CACHE_FLUSH = "cache_flush"
    OTHER = "other"


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return ("low", "medium", "high").index(self.value)


class Outcome(StrEnum):
    EFFECTIVE = "effective"
    INEFFECTIVE = "ineffective"
    WORSE = "worse"
    INCONCLUSIVE = "inconclusive"


WIDENING_KINDS = (MitigationKind.RESTART, MitigationKind.CACHE_FLUSH)
PREFERRED_FOR_DATA = (MitigationKind.FAIL_CLOSED, MitigationKind.DISABLE_PATH)


@dataclass(frozen=True)
class MitigationPlan:
    """A mitigation as prepared in a playbook or proposed ad hoc."""

    title: str
    kind: MitigationKind
    risk: Risk
    reversible: bool = True
    expected_minutes: float = 2.0
    changes: str = ""
    authority: str | None = None
    steps: Sequence[str] = field(default=())
    verification: str | None = None
    prepared: bool = False
    service: str | None = None


def effective_risk(plan: MitigationPlan, incident_kind: IncidentKind) -> tuple[Risk, str | None]:
    """The plan's risk on this incident, raised with a reason where it can widen damage."""
    if incident_kind is IncidentKind.DATA_INTEGRITY and plan.kind in WIDENING_KINDS:
        return Risk.HIGH, f"{plan.kind.value} on a data-integrity incident can widen damage"
    return plan.risk, None


def rank_plans(plans: Sequence[MitigationPlan], incident_kind: IncidentKind) -> list[MitigationPlan]:
    """Lowest risk first, then fastest; on data incidents fail-closed and stop-writes lead."""

    def key(plan: MitigationPlan) -> tuple[int, int, float, str]:
        risk, _ = effective_risk(plan, incident_kind)
        preferred = (
            0 if incident_kind is IncidentKind.DATA_INTEGRITY and plan.kind in PREFERRED_FOR_DATA else 1
        )
        return (risk.rank, preferred, plan.expected_minutes, plan.title)

    return sorted(plans, key=key)


def propose(
    state: IncidentState, plan: MitigationPlan, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    ensure_open(state, "propose mitigations")
    if not (0 < plan.expected_minutes <= 24 * 60):
        raise ValidationError("expected_minutes", "must be between 0 and 1440 minutes")
    risk, flag = effective_risk(plan, state.kind)
    payload = {
        "ref": f"M{state.counters.get('M', 0) + 1}",
        "title": require_text(plan.title, "title", limit=policy.max_title),
        "kind": plan.kind.value,
        "risk": risk.value,
        "reversible": plan.reversible,
        "expected_minutes": plan.expected_minutes,
        "changes": optional_text(plan.changes, "changes", limit=policy.max_text),
        "authority": optional_text(plan.authority, "authority", limit=120) or None,
        "steps": [require_text(step, "steps", limit=policy.max_text) for step in plan.steps],
        "verification": optional_text(plan.verification, "verification", limit=policy.max_text) or None,
        "prepared": plan.prepared,
        "service": plan.service,
        "risk_flag": flag,
    }
    return [NewEvent("mitigation_proposed", payload, now)]


def approve(state: IncidentState, ref: str, *, now: datetime) -> list[NewEvent]:
    ensure_open(state, "approve mitigations")
    item = find_mitigation(state, ref)
    if item.state != "proposed":
        raise InvalidTransition(f"{item.ref} is {item.state}; only a proposed mitigation is approved")
    return [NewEvent("mitigation_approved", {"ref": item.ref}, now)]


def apply(
    state: IncidentState, ref: str, changes: str | None, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    """Apply a mitigation; the first one applied moves the incident to ``mitigating``."""
    ensure_open(state, "apply mitigations")
    item = find_mitigation(state, ref)
    if item.state == "proposed" and item.authority:
        raise InvalidTransition(f"{item.ref} needs approval by {item.authority} before it is applied")
    if item.state not in ("proposed", "approved"):
        raise InvalidTransition(f"{item.ref} is {item.state}; it cannot be applied again")
    payload = {
        "ref": item.ref,
        "changes": optional_text(changes, "changes", limit=policy.max_text) or item.changes,
        "expected_minutes": item.expected_minutes,
        "verification": item.verification,
    }
    return [NewEvent("mitigation_applied", payload, now)]


def record_outcome(
    state: IncidentState,
    ref: str,
    outcome: str,
    *,
    note: str | None,
    before: float | None = None,
    after: float | None = None,
    now: datetime,
    policy: ResponsePolicy,
) -> list[NewEvent]:
    ensure_writable(state)
    item = find_mitigation(state, ref)
    verdict = parse_enum(Outcome, outcome, "outcome")
    if item.applied_at is None:
        raise InvalidTransition(f"{item.ref} has not been applied; apply it before judging it")
    if item.state == "reverted":
        raise InvalidTransition(f"{item.ref} was reverted")
    payload = {
        "ref": item.ref,
        "outcome": verdict.value,
        "note": optional_text(note, "note", limit=policy.max_text) or None,
        "before": before,
        "after": after,
    }
    return [NewEvent("mitigation_outcome_recorded", payload, now)]


def revert(
    state: IncidentState, ref: str, why: str, *, now: datetime, policy: ResponsePolicy
) -> list[NewEvent]:
    ensure_writable(state)
    item = find_mitigation(state, ref)
    if item.applied_at is None or item.state == "reverted":
        raise InvalidTransition(f"{item.ref} is {item.state}; only an applied mitigation is reverted")
    if not item.reversible:
        raise InvalidTransition(f"{item.ref} was recorded as not reversible")
    return [
        NewEvent(
            "mitigation_reverted",
            {"ref": item.ref, "why": require_text(why, "why", limit=policy.max_text)},
            now,
        )
    ]
