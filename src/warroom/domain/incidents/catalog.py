"""The service catalog: services, owning teams, dependencies and playbooks.

Loaded from ``catalog.yaml`` by an adapter; here it is plain data and the questions asked
of it (who owns this, what does it depend on, what is prepared).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from warroom.domain.incidents.mitigation import MitigationPlan


@dataclass(frozen=True)
class Playbook:
    """What a service's team prepared before the incident."""

    declaration_template: dict[str, str] = field(default_factory=dict)
    triage_questions: Sequence[str] = field(default=())
    commanders: Sequence[str] = field(default=())
    comms: Sequence[str] = field(default=())
    scribes: Sequence[str] = field(default=())
    rollback_authority: str | None = None
    mitigations: Sequence[MitigationPlan] = field(default=())
    stakeholders: Sequence[str] = field(default=())


INDICATOR_KINDS = ("error_ratio", "latency", "traffic", "other")


@dataclass(frozen=True)
class Indicator:
    """A PromQL indicator of a service's health, split by label dimensions.

    ``query`` may hold ``$by``, replaced by the labels to group by: nothing for the
    service as a whole, ``region`` for the split by region (write ``sum by ($by) (...)``).
    ``kind`` says how the impact probe uses it: an ``error_ratio`` (0..1) gives customer
    impact and financial loss, a ``latency`` breach counts the traffic it slows, and
    ``traffic`` (requests per second) weighs the slices of the others. ``deviation`` is
    how far from its baseline a value may stray and still count as "at baseline", in the
    indicator's units (None: a share of the gap between baseline and SLO).
    """

    name: str
    query: str
    slo: float
    higher_is_worse: bool = True
    split_by: Sequence[str] = field(default=())
    unit: str = ""
    kind: str = "other"
    deviation: float | None = None


@dataclass(frozen=True)
class StatusEntry:
    """How a service shows on the public status page: its public name and group."""

    name: str
    group: str = ""


@dataclass(frozen=True)
class Service:
    name: str
    team: str
    tier: int = 2
    depends_on: Sequence[str] = field(default=())
    matchers: Sequence[str] = field(default=())
    playbook: Playbook = field(default_factory=Playbook)
    indicators: Sequence[Indicator] = field(default=())
    prometheus_url: str | None = None
    revenue_per_minute: float | None = None
    user_share: float | None = None
    escalation_policy: str | None = None  # on call: who is paged when it breaks
    status_page: StatusEntry | None = None  # None: the service stays off the public page


@dataclass(frozen=True)
class Team:
    name: str
    members: Sequence[str] = field(default=())
    fallback: bool = False
    escalation_policy: str | None = None  # on call: the team's default policy


@dataclass(frozen=True)
class Catalog:
    services: Sequence[Service] = field(default=())
    teams: Sequence[Team] = field(default=())

    def service(self, name: str) -> Service | None:
        return next((s for s in self.services if s.name == name), None)

    def team(self, name: str) -> Team | None:
        return next((t for t in self.teams if t.name == name), None)

    @property
    def fallback_team(self) -> Team | None:
        return next((t for t in self.teams if t.fallback), None)

    def with_dependencies(self, names: Sequence[str]) -> list[str]:
        """The named services and everything they depend on, transitively, in discovery order."""
        seen: list[str] = []
        pending = list(names)
        while pending:
            name = pending.pop(0)
            if name in seen:
                continue
            seen.append(name)
            found = self.service(name)
            if found is not None:
                pending.extend(found.depends_on)
        return seen

    def prepared_mitigations(self, names: Sequence[str]) -> list[MitigationPlan]:
        plans: list[MitigationPlan] = []
        for name in names:
            found = self.service(name)
            if found is not None:
                plans.extend(found.playbook.mitigations)
        return plans
