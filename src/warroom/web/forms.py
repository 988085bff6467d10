"""From HTML form fields to the operations' plain bodies, and the actions a room form can post.

Edges translate, they do not decide: this module only reshapes what a browser sends
(absent checkboxes, textarea lines, zone-less ``datetime-local`` values) into the bodies
``services.operations`` already validates for the CLI and the API.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from warroom.domain.learning.postmortem import EDITABLE, TEXT_SECTIONS
from warroom.domain.shared.errors import (
    ConcurrencyConflict,
    CorruptTimeline,
    DomainError,
    InvalidTransition,
    NotFound,
    RateLimited,
    ValidationError,
)
from warroom.services import operations as ops
from warroom.services.learning import operations as lops
from warroom.services.oncall import operations as oncall_ops
from warroom.services.shared.context import Context

Operation = Callable[[Context, str, str, Mapping[str, Any]], Any]


@dataclass(frozen=True)
class Action:
    """A room form: the operation it calls and the section the browser returns to."""

    operation: Operation
    anchor: str
    checkboxes: tuple[str, ...] = ()
    lines: tuple[str, ...] = ()
    page: str = ""  # under the incident's path: "" the room, "/postmortem" its postmortem
    anchor_of: Callable[[Mapping[str, Any]], str] | None = None  # the anchor depends on the form
    returns: tuple[str, ...] = ()  # other pages it may be posted from (``return_to``) and go back to


def _change(ctx: Context, actor: str, ref: str, body: Mapping[str, Any]) -> Any:
    """A change recorded from a room: the service's, not the incident's (the room shows
    it under "changes near impact start" when it falls in the window)."""
    data = dict(body)
    if data.get("at"):
        data["at"] = as_utc(str(data["at"]))
    return ops.add_change(ctx, actor, data | {"source": "web"})


def section_anchor(body: Mapping[str, Any]) -> str:
    """The postmortem section a section form saved (each form holds one), to return to it."""
    names = [name for name in body if name in EDITABLE]
    return f"pm-edit-{names[0]}" if len(names) == 1 else "pm-title"


FOLLOWUPS_PAGE = ("/follow-ups",)
ACTIONS: dict[str, Action] = {
    "fact": Action(ops.fact, "ledger"),
    "guess": Action(ops.guess, "ledger"),
    "confirm": Action(ops.confirm, "ledger"),
    "refute": Action(ops.refute, "ledger"),
    "decide": Action(ops.decide, "decisions", checkboxes=("irreversible",)),
    "note": Action(ops.note, "timeline", checkboxes=("pinned",)),
    "role-assign": Action(ops.assign_role, "summary"),
    "role-handoff": Action(ops.hand_off_role, "summary"),
    "propose": Action(ops.propose, "mitigations", checkboxes=("reversible",), lines=("steps",)),
    "approve": Action(ops.approve, "mitigations"),
    "apply": Action(ops.apply, "mitigations"),
    "outcome": Action(ops.outcome, "mitigations"),
    "revert": Action(ops.revert, "mitigations"),
    "mitigated": Action(ops.mitigated, "summary"),
    "update": Action(ops.update, "updates"),
    "stakeholder-add": Action(ops.stakeholder_add, "stakeholders"),
    "stakeholder-remove": Action(ops.stakeholder_remove, "stakeholders"),
    "resolve": Action(
        ops.resolve, "summary", checkboxes=("impact_stopped", "risk_controlled", "data_verified", "force")
    ),
    "reopen": Action(ops.reopen, "summary"),
    "severity": Action(ops.set_severity, "summary"),
    "assess": Action(ops.assess, "summary"),
    "page": Action(oncall_ops.page_from_room, "roles"),  # on call: "Page someone"
    "retitle": Action(ops.retitle, "summary"),
    "change": Action(_change, "changes"),
    "triage": Action(ops.triage, "impact"),
    "check": Action(ops.mitigation_check, "mitigations"),
    "close": Action(ops.close, "summary"),
    "followup-add": Action(lops.followup_add, "pm-followups", page="/postmortem"),
    "followup-done": Action(lops.followup_done, "pm-followups", page="/postmortem", returns=FOLLOWUPS_PAGE),
    "followup-wontdo": Action(
        lops.followup_wontdo, "pm-followups", page="/postmortem", returns=FOLLOWUPS_PAGE
    ),
    "postmortem-edit": Action(
        lops.postmortem_edit,
        "pm-title",
        lines=tuple(name for name in EDITABLE if name not in TEXT_SECTIONS),
        page="/postmortem",
        anchor_of=section_anchor,
    ),
    "postmortem-draft": Action(lops.postmortem_draft, "pm-title", page="/postmortem"),
    "postmortem-publish": Action(
        lops.postmortem_publish, "pm-title", checkboxes=("override",), page="/postmortem"
    ),
    "postmortem-amend": Action(lops.postmortem_amend, "pm-title", page="/postmortem"),
}

DECLARE_TIMES = ("detected_at", "impact_started_at")
_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")


def fields(form: Mapping[str, Any], *, drop: tuple[str, ...] = ("csrf_token", "return_to")) -> dict[str, str]:
    """The text fields of a submitted form (file parts and the CSRF token left out)."""
    return {key: value for key, value in form.items() if isinstance(value, str) and key not in drop}


def as_utc(value: str) -> str:
    """A ``datetime-local`` value carries no zone; the form labels it UTC, so say so."""
    text = value.strip()
    return text + "Z" if _LOCAL_TIME.match(text) else text


def declaration(form: Mapping[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = dict(form)
    for name in DECLARE_TIMES:
        if body.get(name):
            body[name] = as_utc(body[name])
    return body


def action_body(action: Action, form: Mapping[str, str]) -> dict[str, Any]:
    """An unchecked checkbox is absent from a form post: state it as false explicitly."""
    body: dict[str, Any] = dict(form)
    for name in action.checkboxes:
        body[name] = "true" if form.get(name) not in (None, "", "false", "off") else "false"
    for name in action.lines:
        if name in body:
            body[name] = [line.strip() for line in str(body[name]).splitlines() if line.strip()]
    return body


def return_path(action: Action, form: Mapping[str, Any]) -> str | None:
    """Where a form posted from another page (``return_to``) goes back to, with its query:
    only a page the action names, so the field cannot send the browser elsewhere."""
    value = form.get("return_to")
    if not isinstance(value, str) or len(value) > 500:
        return None
    path, _, query = value.partition("?")
    if path not in action.returns or any(ord(c) < 32 or c in "#\\" for c in query):
        return None
    return value


def status_of(error: DomainError) -> int:
    """The HTTP status a refusal is shown with (the API maps the same errors alike)."""
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, CorruptTimeline):
        return 500
    if isinstance(error, InvalidTransition | ConcurrencyConflict):
        return 409
    if isinstance(error, RateLimited):
        return 429
    if isinstance(error, ValidationError):
        return 422
    return 400
