"""JSON views of on call, the same for the CLI's ``--json``, the API and the web.

Contact methods appear redacted (their addresses hold credentials)."""

from __future__ import annotations

from typing import Any

from warroom.domain.oncall import documents as docs
from warroom.domain.oncall import schedules as sch
from warroom.domain.oncall.pages import Page
from warroom.domain.oncall.people import Person
from warroom.domain.oncall.policies import EscalationPolicy
from warroom.domain.shared.timefmt import iso
from warroom.services.ports.oncall import PlannedNotification

View = dict[str, Any]


def _t(value: Any) -> str | None:
    return iso(value) if value is not None else None


def person_view(person: Person) -> View:
    return docs.person_doc(person)


def schedule_view(schedule: sch.Schedule) -> View:
    view = docs.schedule_doc(schedule)
    view["overrides"] = [
        {
            "id": o.id,
            "person": o.person,
            "start": _t(o.start),
            "end": _t(o.end),
            "replaces": o.replaces,
            "note": o.note,
        }
        for o in schedule.overrides
    ]
    return view


def policy_view(policy: EscalationPolicy) -> View:
    return docs.policy_doc(policy)


def on_call_view(found: sch.OnCall | tuple[str, None]) -> View:
    if isinstance(found, tuple):
        return {"schedule": found[0], "person": None, "source": None, "since": None, "until": None}
    return {
        "schedule": found.schedule,
        "person": found.person,
        "source": found.source,
        "since": _t(found.since),
        "until": _t(found.until),
    }


def shift_view(shift: sch.Shift, schedule: str | None = None) -> View:
    view = shift.view()
    if schedule is not None:
        view["schedule"] = schedule
    return view


def page_view(page: Page, notifications: list[PlannedNotification] | None = None) -> View:
    view: View = {
        "id": page.ref,
        "title": page.title,
        "status": page.status.value,
        "reason": page.reason,
        "incident": f"INC-{page.incident}" if page.incident else None,
        "team": page.team,
        "policy": page.policy,
        "targets": [f"{t.kind}:{t.name}" for t in page.targets],
        "step": page.step,
        "round": page.round + 1,
        "trigger": page.trigger,
        "fell_back": page.fell_back,
        "due_at": _t(page.due_at),
        "opened_at": _t(page.opened_at),
        "opened_by": page.opened_by,
        "acknowledged_at": _t(page.acked_at),
        "acknowledged_by": page.acked_by,
        "resolved_at": _t(page.resolved_at),
        "resolved_by": page.resolved_by,
    }
    if notifications is not None:
        view["notifications"] = [
            {
                "person": n.person,
                "method": n.method,
                "kind": n.kind,
                "step": n.step,
                "round": n.round,
                "trigger": n.trigger,
                "status": n.status,
                "due_at": _t(n.due_at),
                "sent_at": _t(n.sent_at),
            }
            for n in notifications
        ]
    return view
