"""Pages: a small state machine that tells people, waits, and tells the next ones.

::

    triggered --acknowledge--> acknowledged --resolve--> resolved
        ^                           |
        +------ ack timeout --------+      (triggered --resolve--> resolved too)

A triggered page has a due time. When it passes, :func:`advance` fires the policy's next
step: it returns whom to notify through which contact method and when (each person's
notification rules spread their methods over minutes), the timeline events to record,
and the page with its next due time. A step that reaches nobody (a gap in a schedule, a
person without contact methods) goes straight on to the next. After the last step the
policy repeats, then falls back once to the organization-wide fallback policy, then the
page is *exhausted*: it stays open and on the timeline, but nobody more is told.

An acknowledgement stops the escalation. If the page is still not resolved when the
policy's ack timeout passes, it is triggered again and escalates from the first step.

Nothing here reads a clock or stores anything; the caller persists the page it gets
back, writes the notifications to the outbox and appends the events to the incident.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from warroom.domain.incidents.events import NewEvent
from warroom.domain.oncall.people import ContactMethod
from warroom.domain.oncall.policies import Directory, EscalationPolicy, Step, Target
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.domain.shared.text import require_text
from warroom.domain.shared.timefmt import iso

DIRECT_WAIT = timedelta(minutes=5)
DIRECT_REPEAT = 2
_GUARD = 500  # steps one advance may walk through without reaching anyone


class PageStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Page:
    """One page. ``policy`` is the policy it escalates through now (None: a direct page
    to ``targets``); ``step`` is the index of the next step to fire and ``round`` the
    repetition of the policy; ``trigger`` counts (re-)triggers from 1. ``due_at`` is when
    the next step fires (triggered) or the ack times out (acknowledged)."""

    id: int
    title: str
    status: PageStatus
    opened_at: datetime
    opened_by: str
    triggered_at: datetime
    due_at: datetime | None
    policy: str | None = None
    first_policy: str | None = None
    targets: tuple[Target, ...] = ()
    reason: str = ""
    incident: int | None = None
    team: str | None = None
    dedup: str | None = None
    step: int = 0
    round: int = 0
    trigger: int = 1
    fell_back: bool = False
    acked_at: datetime | None = None
    acked_by: str | None = None
    ack_step: int | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None

    @property
    def ref(self) -> str:
        return f"P-{self.id}"

    @property
    def open(self) -> bool:
        return self.status is not PageStatus.RESOLVED


@dataclass(frozen=True)
class Notify:
    """Tell ``person`` through ``method`` at ``due_at``, unless the page was acknowledged."""

    person: str
    method: ContactMethod
    due_at: datetime
    step: int
    round: int
    trigger: int
    policy: str

    def key(self, page: int) -> str:
        """Unique per page, trigger, round, step, person and method: the outbox dedups on it."""
        return f"page-{page}-t{self.trigger}-r{self.round}-s{self.step}-{self.person}-{self.method.name}"


@dataclass(frozen=True)
class Outcome:
    page: Page
    events: list[NewEvent] = field(default_factory=list)
    notify: list[Notify] = field(default_factory=list)


def direct_policy(targets: tuple[Target, ...]) -> EscalationPolicy:
    """A page to a person, schedule or team without a policy: tell them, again twice."""
    return EscalationPolicy("direct", (Step(targets, DIRECT_WAIT),), repeat=DIRECT_REPEAT)


def open_page(
    *,
    title: str,
    by: str,
    now: datetime,
    policy: str | None = None,
    targets: tuple[Target, ...] = (),
    reason: str = "",
    incident: int | None = None,
    team: str | None = None,
    dedup: str | None = None,
) -> Page:
    """A new triggered page, due at once (its first step fires on the next advance)."""
    if policy is None and not targets:
        raise ValidationError("target", "a page needs a policy or someone to page")
    return Page(
        id=0,
        title=require_text(title, "title", limit=200),
        status=PageStatus.TRIGGERED,
        opened_at=now,
        opened_by=by,
        triggered_at=now,
        due_at=now,
        policy=policy,
        first_policy=policy,
        targets=targets,
        reason=reason,
        incident=incident,
        team=team,
        dedup=dedup,
    )


def opened_event(page: Page) -> NewEvent:
    via = f"policy {page.policy}" if page.policy else ", ".join(t.label for t in page.targets)
    return NewEvent(
        "page_opened",
        {
            "page": page.ref,
            "title": page.title,
            "reason": page.reason,
            "policy": page.policy,
            "targets": [t.label for t in page.targets],
            "text": f"{page.ref} opened through {via}" + (f": {page.reason}" if page.reason else ""),
        },
        page.opened_at,
    )


def _policy_of(page: Page, directory: Directory) -> EscalationPolicy | None:
    if page.policy is None:
        return direct_policy(page.targets)
    return directory.policies.get(page.policy)


def advance(page: Page, directory: Directory, now: datetime) -> Outcome:
    """What is due on ``page`` at ``now``: fire steps, or re-trigger after the ack timeout."""
    if page.due_at is None or page.due_at > now or page.status is PageStatus.RESOLVED:
        return Outcome(page)
    events: list[NewEvent] = []
    if page.status is PageStatus.ACKNOWLEDGED:
        events.append(
            NewEvent(
                "page_retriggered",
                {
                    "page": page.ref,
                    "acknowledged_by": page.acked_by,
                    "text": f"{page.ref} was acknowledged by {page.acked_by} but not resolved in time; "
                    "it escalates again from the first step",
                },
                now,
            )
        )
        page = replace(
            page,
            status=PageStatus.TRIGGERED,
            trigger=page.trigger + 1,
            triggered_at=now,
            policy=page.first_policy,
            step=0,
            round=0,
            fell_back=False,
            acked_at=None,
            acked_by=None,
            ack_step=None,
            due_at=now,
        )
    return _fire(page, directory, now, events)


def _fire(page: Page, directory: Directory, now: datetime, events: list[NewEvent]) -> Outcome:
    notify: list[Notify] = []
    for _ in range(_GUARD):
        current = _policy_of(page, directory)
        if current is None or page.step >= len(current.steps):
            if current is not None and page.round < current.repeat:
                page = replace(page, step=0, round=page.round + 1)
                continue
            fallback = directory.fallback
            if (
                fallback is not None
                and not page.fell_back
                and (current is None or fallback.name != current.name)
            ):
                events.append(_event(page, now, "page_fell_back", fallback.name))
                page = replace(page, policy=fallback.name, step=0, round=0, fell_back=True)
                continue
            events.append(_event(page, now, "page_exhausted", None))
            return Outcome(replace(page, due_at=None), events, notify)
        item = current.steps[page.step]
        reached, unreachable, nobody, told = _tell(page, item, current, directory, now)
        notify.extend(told)
        number = page.step + 1
        events.append(
            NewEvent(
                "page_escalated",
                {
                    "page": page.ref,
                    "policy": current.name,
                    "step": number,
                    "round": page.round + 1,
                    "targets": [t.label for t in item.targets],
                    "notified": reached,
                    "unreachable": unreachable,
                    "nobody_on": nobody,
                    "next_at": iso(now + item.wait),
                    "text": _step_text(page.ref, number, reached, nobody, unreachable),
                },
                now,
            )
        )
        page = replace(page, step=number, due_at=now + item.wait)
        if item.hands_over:
            events.append(_event(page, now, "page_handed_over", item.hands_over))
            page = replace(page, policy=item.hands_over, step=0, round=0)
            if not reached:
                page = replace(page, due_at=now)
        if reached:
            return Outcome(page, events, notify)
    raise InvalidTransition(f"{page.ref}: the escalation did not settle; check the policies for loops")


def _tell(
    page: Page, item: Step, current: EscalationPolicy, directory: Directory, now: datetime
) -> tuple[list[str], list[str], list[str], list[Notify]]:
    people: list[str] = []
    nobody: list[str] = []
    for t in item.targets:
        if t.kind == "policy":
            continue
        found = directory.people_for(t, now)
        if not found:
            nobody.append(t.label)
        people.extend(p for p in found if p not in people)
    reached, unreachable, told = [], [], []
    for handle in people:
        plan = directory.people[handle].plan()
        if not plan:
            unreachable.append(handle)
            continue
        reached.append(handle)
        for method, delay in plan:
            told.append(
                Notify(handle, method, now + delay, page.step + 1, page.round + 1, page.trigger, current.name)
            )
    return reached, unreachable, nobody, told


def _step_text(ref: str, number: int, reached: list[str], nobody: list[str], unreachable: list[str]) -> str:
    text = f"{ref} step {number}: " + (f"notified {', '.join(reached)}" if reached else "reached nobody")
    if nobody:
        text += f"; nobody on call for {', '.join(nobody)}"
    if unreachable:
        text += f"; no contact method for {', '.join(unreachable)}"
    return text


def _event(page: Page, now: datetime, kind: str, policy: str | None) -> NewEvent:
    texts = {
        "page_fell_back": f"{page.ref}: nobody acknowledged; it goes to the fallback policy {policy}",
        "page_handed_over": f"{page.ref} was handed over to policy {policy}",
        "page_exhausted": f"{page.ref}: every step was tried and nobody acknowledged; it stays open",
    }
    return NewEvent(kind, {"page": page.ref, "policy": policy, "text": texts[kind]}, now)


def ack_text(after: timedelta) -> str:
    """``2 min 10 s``, ``45 s``, ``1 h 3 min``."""
    seconds = max(0, int(after.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h"] if hours else []
    if minutes or hours:
        parts.append(f"{minutes} min")
    if secs or not parts:
        parts.append(f"{secs} s")
    return " ".join(parts)


def acknowledge(page: Page, by: str, now: datetime, directory: Directory) -> Outcome:
    """``by`` takes the page: escalation stops until the ack timeout. Acknowledging again
    by the same person changes nothing; by someone else it is refused."""
    if page.status is PageStatus.RESOLVED:
        raise InvalidTransition(f"{page.ref} is already resolved")
    if page.status is PageStatus.ACKNOWLEDGED:
        if page.acked_by == by:
            return Outcome(page)
        raise InvalidTransition(
            f"{page.ref} was already acknowledged by {page.acked_by} at {iso(page.acked_at or now)}"
        )
    current = _policy_of(page, directory)
    timeout = current.ack_timeout if current is not None else None
    after = now - page.triggered_at
    number = max(page.step, 1)
    acked = replace(
        page,
        status=PageStatus.ACKNOWLEDGED,
        acked_at=now,
        acked_by=by,
        ack_step=number,
        due_at=now + timeout if timeout else None,
    )
    payload: dict[str, Any] = {
        "page": page.ref,
        "by": by,
        "after_seconds": round(after.total_seconds(), 3),
        "step": number,
        "round": page.round + 1,
        "policy": page.policy,
        "text": f"{by} acknowledged after {ack_text(after)}, step {number}",
    }
    return Outcome(acked, [NewEvent("page_acknowledged", payload, now)])


def resolve(page: Page, by: str, now: datetime, why: str = "") -> Outcome:
    if page.status is PageStatus.RESOLVED:
        raise InvalidTransition(f"{page.ref} is already resolved")
    done = replace(page, status=PageStatus.RESOLVED, resolved_at=now, resolved_by=by, due_at=None)
    text = f"{page.ref} resolved by {by}" + (f": {why}" if why else "")
    return Outcome(
        done, [NewEvent("page_resolved", {"page": page.ref, "by": by, "why": why, "text": text}, now)]
    )
