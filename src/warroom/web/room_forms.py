"""Where a refused room form sends the browser back to: the form itself, open, with the
message beside it (the Act panel's sections), or the section that holds the form."""

from __future__ import annotations

# action -> id of the element holding its form (room.html / room_live.html)
FORM_PLACES = {
    "fact": "act-fact",
    "guess": "act-fact",
    "decide": "act-decide",
    "role-assign": "act-roles",
    "role-handoff": "act-roles",
    "propose": "act-propose",
    "update": "act-update",
    "stakeholder-add": "stakeholders",
    "stakeholder-remove": "stakeholders",
    "mitigated": "act-resolve",
    "resolve": "act-resolve",
    "severity": "act-severity",
    "assess": "act-assess",
    "note": "act-note",
    "reopen": "act-reopen",
    "close": "act-close",
    "retitle": "act-retitle",
    "change": "act-change",
    "triage": "impact",
    "confirm": "ledger",
    "refute": "ledger",
    "approve": "mitigations",
    "apply": "mitigations",
    "outcome": "mitigations",
    "revert": "mitigations",
    "check": "mitigations",
    "followup-add": "pm-followups",
    "followup-done": "pm-followups",
    "followup-wontdo": "pm-followups",
    "postmortem-draft": "pm-title",
    "postmortem-publish": "pm-publish",
    "postmortem-amend": "pm-publish",
}


def failure_anchor(action: str) -> str:
    return FORM_PLACES.get(action, "main")
