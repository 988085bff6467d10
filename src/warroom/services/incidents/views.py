"""JSON views of incidents, events and changes: the one shape every interface prints.

The CLI's ``--json``, the REST API and the web room all render these dicts, so embedded
and remote mode print the same document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from warroom.domain.incidents.actors import ActorNames, payload_people, split_actor
from warroom.domain.incidents.chain import chain_view
from warroom.domain.incidents.changes import Change
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.policy import ResponsePolicy
from warroom.domain.incidents.room import intervals, next_update_due, nudges
from warroom.domain.incidents.state import IncidentState
from warroom.domain.shared.serial import to_data
from warroom.domain.shared.timefmt import iso
from warroom.services.incidents.describe import describe
from warroom.services.ports.incidents import IncidentSummary

NO_NAMES = ActorNames()


def incident_view(state: IncidentState, *, now: datetime, policy: ResponsePolicy) -> dict[str, Any]:
    """The room as data: the folded state plus what derives from it at ``now``."""
    data: dict[str, Any] = to_data(state)
    data.pop("counters", None)
    data.pop("chain_break", None)
    data["chain"] = chain_view(state.chain_break)
    data["id"] = state.ref
    due = next_update_due(state, policy)
    data["next_update_due"] = iso(due) if due else None
    data["update_overdue"] = bool(due and now > due)
    data["intervals"] = intervals(state)
    data["nudges"] = [to_data(n) for n in nudges(state, now=now, policy=policy)]
    # the ledger is already serialised above: split it rather than serialise it twice
    entries = list(zip(state.ledger, data["ledger"], strict=True))
    data["facts"] = [view for entry, view in entries if entry.is_fact]
    data["open_guesses"] = [view for entry, view in entries if entry.status == "open"]
    data["refuted_guesses"] = [view for entry, view in entries if entry.status == "refuted"]
    return data


def summary_view(row: IncidentSummary) -> dict[str, Any]:
    data: dict[str, Any] = to_data(row)
    data["id"] = f"INC-{row.number}"
    return data


def event_view(event: Event, names: ActorNames | None = None) -> dict[str, Any]:
    """An event as data: ``actor`` the person (or service) recorded, ``via`` the service
    token that acted for them, ``actor_name`` the label people read (``Alice Ng (alice)``),
    ``description`` one line for people, naming the people the payload names the same way."""
    person, via = split_actor(event.actor)
    names = names or NO_NAMES
    view: dict[str, Any] = {
        "incident": f"INC-{event.incident}",
        "seq": event.seq,
        "kind": event.kind,
        "payload": event.payload,
        "actor": person,
        "via": via,
        "actor_name": names.label(event.actor),
        "occurred_at": iso(event.occurred_at),
        "recorded_at": iso(event.recorded_at),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }
    people = {handle: names.person(handle) for handle in payload_people(event.kind, event.payload)}
    view["description"] = describe(view, people)
    return view


def change_view(change: Change) -> dict[str, Any]:
    data: dict[str, Any] = to_data(change)
    return data
