"""What people are told about an incident: the notification each event or reminder makes.

Pure: it turns a recorded ``Event`` (with the incident's state after it) or a
``Reminder`` into a channel-neutral ``Notification``. Which channels it goes to is the
routes' business (``warroom.domain.comms.notifications.route``), when it is sent the outbox's.

An event's notification key is derived from the event itself (incident, sequence number
and the start of its chain hash), so it is the same on every delivery and unique across
installations; a reminder's key is its period's dedup key.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from warroom.domain.comms.notifications import DIRECT_KINDS, NOTIFICATION_KINDS, Notification
from warroom.domain.comms.reminders import REMINDER_KINDS, Reminder
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.state import IncidentState, Mitigation, Role

# Timeline events that notify: every notification kind but the reminders and the
# subscribers' own kinds, each named after the event that causes it.
NOTIFYING_EVENTS: frozenset[str] = NOTIFICATION_KINDS - frozenset(REMINDER_KINDS) - (DIRECT_KINDS - {"page"})

_TEXT_LIMIT = 3000


def one_line(text: str, limit: int = 200) -> str:
    """Collapse whitespace (a title may not hold a newline) and clip."""
    flat = " ".join(text.split()) or "untitled"
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def event_key(event: Event) -> str:
    return f"INC-{event.incident}.{event.seq}.{event.hash[:16]}"


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def _mitigation(state: IncidentState, ref: str) -> Mitigation | None:
    return next((m for m in state.mitigations if m.ref == ref), None)


def _declared(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    lines = [f"Declared {state.severity}: {state.severity_explanation}"]
    if state.scope:
        lines.append(f"Scope: {state.scope}")
    if state.symptom:
        lines.append(f"Symptom: {state.symptom}")
    return "\n".join(lines), [("Kind", state.kind.value.replace("_", " "))]


def _severity(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    p = event.payload
    text = f"Severity changed from {p['from']} to {p['to']}: {p['explanation']}"
    return text, [("Previous severity", p["from"])]


def _role_assigned(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    p = event.payload
    text = f"{p['person']} is now {p['role']} on {state.ref}."
    return text, [("Role", p["role"]), ("Holder", p["person"])]


def _role_handed_off(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    p = event.payload
    text = f"{p['role']} handed off from {p['from']} to {p['to']}: {p.get('note', '')}".rstrip(": ")
    return text, [("Role", p["role"]), ("From", p["from"]), ("To", p["to"])]


def _update(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    p = event.payload
    fields = [("Audience", p["audience"])]
    if p.get("next_due"):
        fields.append(("Next update", _hhmm(datetime.fromisoformat(p["next_due"]))))
    return p["text"], fields


def _applied(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    item = _mitigation(state, event.payload["ref"])
    if item is None:
        return f"Mitigation {event.payload['ref']} applied.", []
    text = f"Mitigation {item.ref} applied: {item.title}."
    if item.changes:
        text += f"\nChanges: {item.changes}"
    fields = [
        ("Mitigation", f"{item.ref} ({item.kind})"),
        ("Risk", item.risk),
        ("Effect expected within", f"{item.expected_minutes:g} min"),
    ]
    return text, fields


def _outcome(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    p = event.payload
    item = _mitigation(state, p["ref"])
    title = item.title if item is not None else p["ref"]
    text = f"Mitigation {p['ref']} ({title}) was {p['outcome']}."
    if p.get("note"):
        text += f"\n{p['note']}"
    fields = [("Outcome", p["outcome"])]
    if p.get("before") is not None and p.get("after") is not None:
        fields.append(("Before / after", f"{p['before']:g} / {p['after']:g}"))
    return text, fields


def _mitigated(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    return f"User impact is mitigated: {event.payload.get('evidence', '')}".rstrip(": "), []


def _resolved(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    return f"Resolved: {event.payload['summary']}", []


def _reopened(event: Event, state: IncidentState) -> tuple[str, list[tuple[str, str]]]:
    return f"Reopened: {event.payload['why']}", []


_RENDER: dict[str, Callable[[Event, IncidentState], tuple[str, list[tuple[str, str]]]]] = {
    "incident_declared": _declared,
    "severity_changed": _severity,
    "role_assigned": _role_assigned,
    "role_handed_off": _role_handed_off,
    "status_update_posted": _update,
    "mitigation_applied": _applied,
    "mitigation_outcome_recorded": _outcome,
    "incident_mitigated": _mitigated,
    "incident_resolved": _resolved,
    "incident_reopened": _reopened,
}


def _common_fields(state: IncidentState) -> list[tuple[str, str]]:
    fields = [("Status", state.status.value)]
    commander = state.roles.get(Role.COMMANDER.value)
    if commander is not None:
        fields.append(("Commander", commander.person))
    return fields


def event_notification(event: Event, state: IncidentState, *, team: str | None) -> Notification | None:
    """The notification ``event`` makes (None for events that notify nobody).

    ``state`` is the incident after the event (or after the batch it was appended with).
    """
    render = _RENDER.get(event.kind)
    if render is None:
        return None
    text, fields = render(event, state)
    return Notification(
        key=event_key(event),
        kind=event.kind,
        incident=state.ref,
        severity=int(state.severity),
        services=tuple(state.services),
        team=team,
        title=one_line(state.title),
        text=text[:_TEXT_LIMIT],
        url=None,
        fields=tuple(fields + _common_fields(state)),
        occurred_at=event.occurred_at,
    )


def reminder_notification(reminder: Reminder, state: IncidentState, *, team: str | None) -> Notification:
    return Notification(
        key=reminder.key,
        kind=reminder.kind,
        incident=state.ref,
        severity=int(state.severity),
        services=tuple(state.services),
        team=team,
        title=one_line(state.title),
        text=reminder.text[:_TEXT_LIMIT],
        url=None,
        fields=reminder.fields,
        occurred_at=reminder.due_at,
    )
