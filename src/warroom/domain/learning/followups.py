"""Follow-ups and publishing the postmortem: commands that return timeline events.

A follow-up turns a finding into an action with an owner and a due date (both
required), of a kind: *prevent* (it cannot happen again), *detect* (we see it sooner),
*mitigate* (we stop it faster) or *process* (how people work). It stays tracked until
it is done or explicitly will not be done (with why), after the incident closed too:
so these commands, unlike the room's, also work on a closed incident.

Publishing needs the sections that keep trigger, contributing factors and the
root-cause chain apart, and a clean blameless lint; with findings it is refused unless
the publisher overrides and says why, and the event records the override, the reason
and the findings.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.state import Followup, IncidentState, Status
from warroom.domain.learning.blameless import Finding
from warroom.domain.shared.errors import InvalidTransition, NotFound, ValidationError
from warroom.domain.shared.text import optional_text, require_text
from warroom.domain.shared.timefmt import iso, planned_time

FOLLOWUP_KINDS = ("prevent", "detect", "mitigate", "process")
MAX_FINDINGS_RECORDED = 20
TITLE_LIMIT = 300
TEXT_LIMIT = 4000


def find_followup(state: IncidentState, ref: str) -> Followup:
    """``A2``, ``a2`` or ``2``; NotFound names the incident."""
    wanted = ref.strip().upper()
    if wanted.isdecimal():
        wanted = f"A{wanted}"
    for item in state.followups:
        if item.ref == wanted:
            return item
    raise NotFound(f"no follow-up {ref!r} on {state.ref}")


def _next_ref(state: IncidentState) -> str:
    return f"A{state.counters.get('A', 0) + 1}"


def add_followup(
    state: IncidentState, *, title: str, owner: str, due: datetime | None, kind: str, now: datetime
) -> list[NewEvent]:
    """A new open follow-up; owner and due date are required, the due date between now and
    about ten years ahead (``timefmt.planned_time``)."""
    text = require_text(title, "title", limit=TITLE_LIMIT)
    who = require_text(owner, "owner", limit=120)
    if due is None:
        raise ValidationError("due", "is required: when should it be done? (e.g. 2026-12-01)")
    when = planned_time(due, "due", now)
    category = (kind or "").strip().lower()
    if category not in FOLLOWUP_KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(FOLLOWUP_KINDS)}")
    payload = {
        "ref": _next_ref(state),
        "title": text,
        "owner": who,
        "due": iso(when),
        "kind": category,
        "created_at": iso(now),
    }
    return [NewEvent("followup_added", payload, now)]


def _open(state: IncidentState, ref: str) -> Followup:
    item = find_followup(state, ref)
    if item.status != "open":
        raise InvalidTransition(f"follow-up {item.ref} on {state.ref} is already {item.status}")
    return item


def complete_followup(state: IncidentState, ref: str, *, now: datetime) -> list[NewEvent]:
    item = _open(state, ref)
    return [NewEvent("followup_updated", {"ref": item.ref, "status": "done", "why": None}, now)]


def decline_followup(state: IncidentState, ref: str, why: str | None, *, now: datetime) -> list[NewEvent]:
    """It will not be done: the reason is required, so the decision is visible later."""
    item = _open(state, ref)
    reason = require_text(why, "why", limit=TEXT_LIMIT)
    return [NewEvent("followup_updated", {"ref": item.ref, "status": "wontdo", "why": reason}, now)]


class LintRefused(InvalidTransition):
    """Publishing was refused because of lint findings; they travel with the error."""

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


def amend_postmortem(state: IncidentState, *, why: str | None, now: datetime) -> list[NewEvent]:
    """Reopen a published postmortem for amendment (new facts, a correction); it is then
    edited and published again through the same checks. A closed incident's is final."""
    if not state.postmortem_published:
        raise InvalidTransition(f"the postmortem of {state.ref} is not published; edit it as it is")
    if state.status is Status.CLOSED:
        raise InvalidTransition(f"{state.ref} is closed; its postmortem is final")
    reason = require_text(why, "why", limit=TEXT_LIMIT)
    return [NewEvent("postmortem_amended", {"why": reason}, now)]


def publish_postmortem(
    state: IncidentState,
    *,
    missing: Sequence[str],
    findings: Sequence[Finding],
    override: bool,
    why: str | None,
    now: datetime,
) -> list[NewEvent]:
    """The ``postmortem_published`` event, or a refusal that says what to do."""
    if state.postmortem_published:
        raise InvalidTransition(f"the postmortem of {state.ref} is already published")
    if state.status.is_open:
        raise InvalidTransition(
            f"{state.ref} is {state.status.value}; resolve it before publishing its postmortem"
        )
    if missing:
        raise InvalidTransition(
            f"the postmortem of {state.ref} is incomplete: write {', '.join(missing)} "
            "(warroom postmortem edit)"
        )
    reason = optional_text(why, "why", limit=TEXT_LIMIT)
    if findings and not override:
        first = findings[0]
        raise LintRefused(
            f"the postmortem of {state.ref} has {len(findings)} blameless-lint finding(s), first at "
            f"{first.location}: {first.text!r}; rewrite them (warroom postmortem lint) or publish "
            "with --override --why ...",
            findings,
        )
    if override and findings and not reason:
        raise ValidationError("why", "publishing over lint findings needs a recorded reason (--why)")
    payload: dict[str, Any] = {
        "findings": len(findings),
        "rules": dict(sorted(Counter(f.rule for f in findings).items())),
        "locations": [f"{f.location}: {f.text}" for f in findings[:MAX_FINDINGS_RECORDED]],
        "override": bool(override and findings),
        "why": reason or None,
    }
    return [NewEvent("postmortem_published", payload, now)]
