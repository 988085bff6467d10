"""Timeline events: the single source of truth of an incident.

An incident's state is folded from its events; an event is never changed or deleted.
Event kinds are past tense; each has a one-line description (the docs are generated from
``EVENT_KINDS``, and a test fails when a kind is undocumented).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

EVENT_KINDS: dict[str, str] = {
    "incident_declared": "An incident was declared with its template, impact and severity.",
    "impact_assessed": "Impact dimensions were re-assessed; the policy's severity is recorded.",
    "retitled": "The incident's title changed (from, to), e.g. once its cause is known.",
    "severity_changed": "The severity changed, by policy or by a human override with a reason.",
    "role_assigned": "A person took an empty role (the first commander acknowledges).",
    "role_handed_off": "A role passed explicitly from one person to another, with a note.",
    "role_released": "A person left a role without a successor.",
    "fact_recorded": "A confirmed fact with its source.",
    "guess_recorded": "An open guess (hypothesis) to confirm or refute.",
    "guess_confirmed": "A guess was confirmed and became a fact.",
    "guess_refuted": "A guess was refuted, with why.",
    "decision_recorded": "A decision: what, why, alternatives, reversible or not.",
    "note_added": "Free-form note or chatter; left out of postmortems unless pinned.",
    "mitigation_proposed": "A mitigation was proposed (prepared from a playbook or ad hoc).",
    "mitigation_approved": "A mitigation needing authority was approved.",
    "mitigation_applied": "A mitigation was applied; what it changed is recorded.",
    "mitigation_outcome_recorded": "A mitigation's outcome: effective, ineffective, worse, inconclusive.",
    "mitigation_reverted": "An applied mitigation was reverted, with why.",
    "incident_mitigated": "User impact was reduced (mitigated_at).",
    "status_update_posted": "A stakeholder update, internal or public, with the next due time; a public one carries its `stage` (investigating, identified, monitoring, resolved); `final` marks the last public word posted with a resolve.",
    "incident_resolved": "User impact stopped and risk controlled, both stated explicitly.",
    "incident_reopened": "A resolved incident was reopened, with why.",
    "incident_closed": "Learning is done; the incident is closed.",
    "alert_attached": "A firing alert was attached to the incident.",
    "alert_resolved": "An attached alert resolved at its source.",
    "scope_widened": "Attached alerts named more scope (another route, region, ...): the scope now names every value the alerts name, and `added` says what grew.",
    "impact_measured": "The impact probe measured the affected services against baseline.",
    "postmortem_published": "The postmortem was published (with any lint override recorded).",
    "postmortem_amended": "A published postmortem was reopened for amendment, with the reason.",
    "followup_added": "A follow-up action with owner and due date.",
    "followup_updated": "A follow-up was done or will not be done (with why).",
    "stakeholder_added": "A stakeholder (channel or email) was added to the incident's update list.",
    "stakeholder_removed": "A stakeholder was removed from the incident's update list.",
    "page_opened": "A page opened for the incident: through which policy or to whom, and why.",
    "page_escalated": "An escalation step fired: whom it notified, who was unreachable, when the next step is due.",
    "page_notified": "A page's notification to one person was queued for one contact method.",
    "page_delivered": "A page's notification reached (or finally failed to reach) a contact method.",
    "page_acknowledged": "Someone acknowledged a page, after how long and at which step; escalation stops.",
    "page_retriggered": "An acknowledged page was not resolved before its ack timeout and escalates again.",
    "page_handed_over": "An escalation step handed the page over to another policy.",
    "page_fell_back": "Nobody acknowledged; the page went to the organization-wide fallback policy.",
    "page_exhausted": "Every step was tried and nobody acknowledged; nobody more is told.",
    "page_resolved": "A page was resolved (by hand, or because its incident resolved).",
}

# What an incident's pages did: recorded on its timeline, kept in the on-call tables.
PAGE_EVENT_KINDS: tuple[str, ...] = tuple(kind for kind in EVENT_KINDS if kind.startswith("page_"))


@dataclass(frozen=True)
class NewEvent:
    """An event the domain decided on, before it is stamped into the chain."""

    kind: str
    payload: dict[str, Any]
    occurred_at: datetime


@dataclass(frozen=True)
class Event:
    """A recorded event: one link of an incident's hash chain."""

    incident: int
    seq: int
    kind: str
    payload: dict[str, Any]
    actor: str
    occurred_at: datetime
    recorded_at: datetime
    prev_hash: str
    hash: str

    @property
    def ref(self) -> str:
        return f"INC-{self.incident} event #{self.seq} ({self.kind})"
