"""The hash chain: every event links to the previous one, and any alteration is found and named."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.incidents.builders import POLICY, Incident
from tests.incidents.fakes import T0
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import GENESIS, event_hash, stamp, verify
from warroom.domain.incidents.events import Event, NewEvent
from warroom.domain.incidents.state import Role


def five_events() -> list[Event]:
    incident = Incident()
    incident.do(lambda s, now: rules.assign_role(s, Role.COMMANDER, "alice", now=now))
    incident.do(lambda s, now: rules.record_fact(s, "5xx at 37%", "Grafana", now=now, policy=POLICY))
    incident.do(lambda s, now: rules.add_note(s, "bridge open", pinned=False, now=now, policy=POLICY))
    incident.do(lambda s, now: rules.record_guess(s, "the deploy", now=now, policy=POLICY))
    return list(incident.events)


def test_an_untouched_chain_verifies() -> None:
    assert verify(five_events()) is None


def test_an_empty_chain_verifies() -> None:
    assert verify([]) is None


def test_stamping_links_each_event_to_the_previous_hash() -> None:
    events = five_events()
    assert events[0].prev_hash == GENESIS
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))


def test_stamping_several_events_at_once_chains_them_in_order() -> None:
    new = [NewEvent("note_added", {"text": str(i), "pinned": False}, T0) for i in range(3)]
    events = stamp(9, 4, "ab" * 32, new, actor="bob", recorded_at=T0)
    assert [e.seq for e in events] == [5, 6, 7]
    assert events[0].prev_hash == "ab" * 32
    assert events[2].prev_hash == events[1].hash


def test_the_hash_does_not_depend_on_payload_key_order() -> None:
    common = {
        "incident": 1,
        "seq": 1,
        "kind": "note_added",
        "actor": "a",
        "occurred_at": T0,
        "recorded_at": T0,
        "prev_hash": GENESIS,
    }
    first = event_hash(payload={"text": "x", "pinned": False}, **common)  # type: ignore[arg-type]
    second = event_hash(payload={"pinned": False, "text": "x"}, **common)  # type: ignore[arg-type]
    assert first == second


TAMPERING = {
    "payload": lambda e: replace(e, payload={**e.payload, "text": "5xx at 3%"}),
    "actor": lambda e: replace(e, actor="mallory"),
    "kind": lambda e: replace(e, kind="guess_recorded"),
    "occurred_at": lambda e: replace(e, occurred_at=e.occurred_at - timedelta(microseconds=1)),
    "recorded_at": lambda e: replace(e, recorded_at=e.recorded_at + timedelta(seconds=1)),
    "hash": lambda e: replace(e, hash="f" * 64),
}


@pytest.mark.parametrize("field", sorted(TAMPERING))
def test_an_altered_field_breaks_the_chain_at_that_event(field: str) -> None:
    events = five_events()
    events[2] = TAMPERING[field](events[2])
    broken = verify(events)
    assert broken is not None
    assert broken.seq == 3
    assert str(broken).startswith(f"INC-1 event #3 ({events[2].kind}): ")
    assert broken.problem == "content does not match its hash"


def test_a_rehashed_alteration_is_caught_at_the_next_link() -> None:
    events = five_events()
    altered = replace(events[2], payload={"text": "forged", "pinned": False})
    digest = event_hash(
        incident=altered.incident,
        seq=altered.seq,
        kind=altered.kind,
        payload=altered.payload,
        actor=altered.actor,
        occurred_at=altered.occurred_at,
        recorded_at=altered.recorded_at,
        prev_hash=altered.prev_hash,
    )
    events[2] = replace(altered, hash=digest)
    broken = verify(events)
    assert broken is not None
    assert (broken.seq, broken.problem) == (4, "does not link to the previous event")


def test_a_missing_event_is_named_as_a_sequence_gap() -> None:
    events = five_events()
    del events[1]
    broken = verify(events)
    assert broken is not None
    assert str(broken) == "INC-1 event #3 (fact_recorded): expected event #2"


def test_events_out_of_order_break_the_chain() -> None:
    events = five_events()
    events[1], events[2] = events[2], events[1]
    broken = verify(events)
    assert broken is not None and broken.seq == 3


def test_a_chain_that_does_not_start_at_genesis_is_broken() -> None:
    events = five_events()
    broken = verify(events[1:])
    assert broken is not None and broken.problem == "expected event #1"
