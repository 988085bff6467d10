"""Stakeholders: who hears an incident's status updates.

The list is the playbooks' stakeholders of the affected services plus per-incident
additions, minus per-incident removals. A stakeholder is a notification channel's name
(``support-leads``, configured under ``[[notify.channels]]``) or an email address. Its
audience says which updates it gets: ``internal`` stakeholders get every update (a public
update is news to them too), ``public`` ones (a bridge to an external status page) only
public updates. Playbook stakeholders are internal.

Adding and removing are timeline events (``stakeholder_added``, ``stakeholder_removed``),
so the room's history shows who was told what.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from warroom.domain.incidents.commands import ensure_writable
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.errors import InvalidTransition, ValidationError

AUDIENCES = ("internal", "public")
CHANNEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,119}")
_EMAIL = re.compile(r"[^@\s<>,;:\"]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z0-9-]{2,63}")


@dataclass(frozen=True)
class Stakeholder:
    target: str
    audience: str
    source: str  # playbook | incident


@dataclass(frozen=True)
class StakeholderChange:
    """A per-incident addition (``excluded`` False) or removal of a playbook stakeholder."""

    target: str
    audience: str
    excluded: bool


def is_email(target: str) -> bool:
    return _EMAIL.fullmatch(target) is not None


def parse_target(value: str) -> str:
    """A channel name or an email address, stripped; anything else is a clear error."""
    target = (value or "").strip()
    if is_email(target):
        return target.lower()
    if CHANNEL_NAME.fullmatch(target):
        return target
    raise ValidationError(
        "stakeholder", f"{value!r} is neither an email address nor a channel name such as support-leads"
    )


def parse_audience(value: str) -> str:
    audience = (value or "").strip().lower()
    if audience not in AUDIENCES:
        raise ValidationError("audience", f"{value!r} is not one of {', '.join(AUDIENCES)}")
    return audience


def merged(playbook: Iterable[str], changes: Sequence[StakeholderChange]) -> list[Stakeholder]:
    """The incident's stakeholders: playbook ones not removed, then additions, each once."""
    excluded = {c.target for c in changes if c.excluded}
    found: dict[str, Stakeholder] = {}
    for target in playbook:
        if target not in excluded and target not in found:
            found[target] = Stakeholder(target, "internal", "playbook")
    for change in changes:
        if not change.excluded:
            found[change.target] = Stakeholder(change.target, change.audience, "incident")
    return list(found.values())


def recipients(stakeholders: Iterable[Stakeholder], audience: str) -> list[str]:
    """Who gets an update for ``audience``: internal updates go to internal stakeholders,
    public updates to everyone."""
    return [s.target for s in stakeholders if audience == "public" or s.audience == "internal"]


def add(
    state: IncidentState,
    current: Sequence[Stakeholder],
    target: str,
    audience: str,
    *,
    now: datetime,
) -> list[NewEvent]:
    ensure_writable(state)
    who = parse_target(target)
    aud = parse_audience(audience)
    existing = next((s for s in current if s.target == who), None)
    if existing is not None and existing.audience == aud:
        raise InvalidTransition(f"{who} is already a stakeholder of {state.ref} ({aud})")
    return [NewEvent("stakeholder_added", {"target": who, "audience": aud}, now)]


def remove(
    state: IncidentState, current: Sequence[Stakeholder], target: str, *, now: datetime
) -> list[NewEvent]:
    ensure_writable(state)
    who = parse_target(target)
    existing = next((s for s in current if s.target == who), None)
    if existing is None:
        raise InvalidTransition(f"{who} is not a stakeholder of {state.ref}")
    return [NewEvent("stakeholder_removed", {"target": who, "source": existing.source}, now)]
