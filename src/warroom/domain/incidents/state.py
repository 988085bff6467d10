"""The folded state of an incident: what the room shows, derived from the timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from warroom.domain.incidents.chain import GENESIS, ChainBreak
from warroom.domain.incidents.severity import Impact, IncidentKind, Severity


class Status(StrEnum):
    TRIAGE = "triage"
    MITIGATING = "mitigating"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    CLOSED = "closed"

    @property
    def is_open(self) -> bool:
        return self in (Status.TRIAGE, Status.MITIGATING, Status.MITIGATED)


class Role(StrEnum):
    COMMANDER = "commander"
    COMMS = "comms"
    SCRIBE = "scribe"
    OPS = "ops"
    SME = "sme"
    LIAISON = "liaison"


CORE_ROLES = (Role.COMMANDER, Role.COMMS, Role.SCRIBE)

MILESTONES = (
    "impact_started_at",
    "detected_at",
    "declared_at",
    "acknowledged_at",
    "mitigated_at",
    "resolved_at",
    "closed_at",
)


@dataclass
class Milestone:
    """A milestone time with who set it and from what evidence."""

    at: datetime
    by: str
    evidence: str


@dataclass
class RoleTerm:
    """One person's interval in one role."""

    role: Role
    person: str
    since: datetime
    until: datetime | None = None
    note: str = ""


@dataclass
class LedgerEntry:
    """A fact (``F3``, confirmed, with its source) or a guess (``G2``, open until decided)."""

    ref: str
    text: str
    status: str  # fact | open | confirmed | refuted
    recorded_at: datetime
    by: str
    source: str | None = None
    decided_at: datetime | None = None
    decided_by: str | None = None
    why: str | None = None

    @property
    def is_fact(self) -> bool:
        return self.status in ("fact", "confirmed")


@dataclass
class Decision:
    ref: str
    text: str
    why: str
    alternatives: list[str]
    reversible: bool
    at: datetime
    by: str


@dataclass
class Mitigation:
    ref: str
    title: str
    kind: str
    risk: str
    reversible: bool
    expected_minutes: float
    changes: str
    authority: str | None
    steps: list[str]
    verification: str | None
    prepared: bool
    state: str
    proposed_at: datetime
    proposed_by: str
    risk_flag: str | None = None
    approved_by: str | None = None
    applied_at: datetime | None = None
    applied_by: str | None = None
    outcome_at: datetime | None = None
    outcome_note: str | None = None
    before: float | None = None
    after: float | None = None
    reverted_why: str | None = None


@dataclass
class StatusUpdate:
    ref: str
    text: str
    audience: str
    at: datetime
    by: str
    next_due: datetime | None
    stage: str | None = None  # public updates: investigating | identified | monitoring | resolved


@dataclass
class AlertLink:
    fingerprint: str
    source: str
    name: str
    service: str | None
    status: str
    starts_at: datetime | None
    ended_at: datetime | None = None


@dataclass
class Followup:
    ref: str
    title: str
    owner: str
    due: datetime
    kind: str
    status: str  # open | done | wontdo
    created_at: datetime
    closed_at: datetime | None = None
    why: str | None = None


@dataclass
class IncidentState:
    number: int
    title: str
    scope: str
    symptom: str
    trigger: str
    kind: IncidentKind
    services: list[str]
    impact: Impact
    severity: Severity
    severity_explanation: str
    policy_severity: Severity
    override_why: str | None = None
    status: Status = Status.TRIAGE
    milestones: dict[str, Milestone] = field(default_factory=dict)
    roles: dict[str, RoleTerm] = field(default_factory=dict)
    role_history: list[RoleTerm] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    mitigations: list[Mitigation] = field(default_factory=list)
    updates: list[StatusUpdate] = field(default_factory=list)
    alerts: dict[str, AlertLink] = field(default_factory=dict)
    # Scope label values (route, region, ...) the attached alerts named after the
    # declaration, each label's values in order; the scope text names them too.
    scope_named: dict[str, list[str]] = field(default_factory=dict)
    followups: list[Followup] = field(default_factory=list)
    measured: dict[str, Any] | None = None
    resolution: dict[str, Any] | None = None
    postmortem_published: bool = False
    counters: dict[str, int] = field(default_factory=dict)
    version: int = 0
    last_hash: str = GENESIS
    updated_at: datetime | None = None
    # Set on load when the events read do not verify: the state is shown with a warning
    # and nothing more is appended (warroom verify names every break).
    chain_break: ChainBreak | None = None

    @property
    def ref(self) -> str:
        return f"INC-{self.number}"

    def at(self, milestone: str) -> datetime | None:
        found = self.milestones.get(milestone)
        return found.at if found else None
