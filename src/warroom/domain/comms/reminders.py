"""Which reminders are due at a moment: overdue updates, due rotations, overdue follow-ups.

Pure: the caller passes the state, the time and the policy. Each reminder carries a
stable ``key`` that names its *period*: the update that was due at 10:15 is reminded
once for 10:15-10:30, once for 10:30-10:45 and so on (at the severity's cadence) until
an update is posted, which moves the due time and so starts new keys. The key is the
notification's idempotency key and the outbox's dedup key, so a reminder fires once per
period however many workers compute it, and a worker that was down for three periods
sends one reminder for the current period, not three.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from warroom.domain.comms.updates import draft_update
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.room import next_update_due
from warroom.domain.incidents.severity import Severity
from warroom.domain.incidents.state import IncidentState, Role
from warroom.domain.shared.timefmt import human_duration

REMINDER_KINDS = ("update_overdue", "rotation_due", "followup_overdue")


@dataclass(frozen=True)
class Reminder:
    """One reminder for one period. ``notify`` names who should act, e.g. ``lee (comms)``."""

    kind: str
    key: str
    incident: int
    due_at: datetime
    period: int
    notify: tuple[str, ...]
    text: str
    fields: tuple[tuple[str, str], ...]


def _stamp(moment: datetime) -> str:
    """A compact UTC time for keys: ``20261126T101500Z`` (microseconds only when present)."""
    moment = moment.astimezone(UTC)
    micro = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return moment.strftime("%Y%m%dT%H%M%S") + micro + "Z"


def _period(now: datetime, due: datetime, every: timedelta) -> int:
    """1 for the first ``every`` after ``due``, 2 for the next, ... (``now`` > ``due``)."""
    return int((now - due) / every) + 1


def _hhmm(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%H:%M UTC")


def update_overdue(state: IncidentState, *, now: datetime, policy: ResponsePolicy) -> Reminder | None:
    """The comms lead (and the commander on SEV1, or when comms is empty) is reminded
    once per cadence while the next stakeholder update is overdue."""
    due = next_update_due(state, policy)
    cadence = policy.cadence_for(state.severity)
    if due is None or cadence is None or now <= due:
        return None
    period = _period(now, due, cadence)
    notify: list[str] = []
    comms = state.roles.get(Role.COMMS.value)
    commander = state.roles.get(Role.COMMANDER.value)
    if comms is not None:
        notify.append(f"{comms.person} (comms)")
    wanted = state.severity is Severity.SEV1 or comms is None
    if commander is not None and wanted and (comms is None or commander.person != comms.person):
        notify.append(f"{commander.person} (commander)")
    late = now - due
    draft = draft_update(state, now=now, policy=policy)
    text = (
        f"The stakeholder update was due at {_hhmm(due)} ({human_duration(late)} ago). "
        f"Post one with `warroom update {state.ref}`; the draft below is prefilled.\n\n{draft}"
    )
    fields = (
        ("Remind", ", ".join(notify) or "nobody holds comms or commander: assign them"),
        ("Was due", _hhmm(due)),
        ("Overdue by", human_duration(late)),
        ("Cadence", human_duration(cadence)),
    )
    return Reminder(
        "update_overdue",
        f"{state.ref}.update_overdue.{_stamp(due)}.{period}",
        state.number,
        due,
        period,
        tuple(notify),
        text,
        fields,
    )


def rotations_due(state: IncidentState, *, now: datetime, policy: ResponsePolicy) -> list[Reminder]:
    """Every holder past the rotation time, reminded once per rotation period held."""
    found: list[Reminder] = []
    if not state.status.is_open or policy.rotation <= timedelta(0):
        return found
    for term in state.roles.values():
        held = now - term.since
        if held < policy.rotation:
            continue
        period = int(held / policy.rotation)
        due = term.since + policy.rotation * period
        text = (
            f"{term.person} has held {term.role.value} for {human_duration(held)} "
            f"(rotation after {human_duration(policy.rotation)}): hand off to a fresh person "
            f"with `warroom role handoff {state.ref} {term.role.value} NAME --note ...`."
        )
        found.append(
            Reminder(
                "rotation_due",
                f"{state.ref}.rotation_due.{term.role.value}.{_stamp(term.since)}.{period}",
                state.number,
                due,
                period,
                (f"{term.person} ({term.role.value})",),
                text,
                (
                    ("Role", term.role.value),
                    ("Holder", term.person),
                    ("Held for", human_duration(held)),
                ),
            )
        )
    return found


def followups_overdue(state: IncidentState, *, now: datetime, every: timedelta) -> list[Reminder]:
    """Open follow-ups past their due date, reminded to their owner once per ``every``,
    also after the incident closed: follow-ups are tracked until done."""
    found: list[Reminder] = []
    if every <= timedelta(0):
        return found
    for item in state.followups:
        if item.status != "open" or item.due is None or now <= item.due:
            continue
        period = _period(now, item.due, every)
        late = now - item.due
        text = (
            f"Follow-up {item.ref} of {state.ref} is {human_duration(late)} overdue: {item.title}. "
            f"Owner: {item.owner}."
        )
        found.append(
            Reminder(
                "followup_overdue",
                f"{state.ref}.followup_overdue.{item.ref}.{_stamp(item.due)}.{period}",
                state.number,
                item.due + every * (period - 1),
                period,
                (item.owner,),
                text,
                (
                    ("Follow-up", f"{item.ref}: {item.title}"),
                    ("Owner", item.owner),
                    ("Was due", item.due.astimezone(UTC).strftime("%Y-%m-%d")),
                    ("Overdue by", human_duration(late)),
                ),
            )
        )
    return found


def reminders_due(
    state: IncidentState, *, now: datetime, policy: ResponsePolicy, followup_every: timedelta
) -> list[Reminder]:
    """Everything to remind people of on this incident at ``now``."""
    found: list[Reminder] = []
    overdue = update_overdue(state, now=now, policy=policy)
    if overdue is not None:
        found.append(overdue)
    found.extend(rotations_due(state, now=now, policy=policy))
    found.extend(followups_overdue(state, now=now, every=followup_every))
    return found
