"""The SQL event store, read model and change log, each test on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text

from tests.incidents.builders import declaration
from tests.incidents.fakes import FakeClock
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.chain import stamp, verify
from warroom.domain.incidents.changes import Change, ChangeKind
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.fold import apply, fold
from warroom.domain.incidents.severity import Impact, IncidentKind
from warroom.domain.incidents.state import Role
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound, ValidationError
from warroom.domain.shared.serial import to_data
from warroom.services.incidents import changes as change_cases
from warroom.services.incidents import commands as cases
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context
from warroom.storage.incident_store import SNAPSHOT_EVERY, SNAPSHOT_FORMAT


def sql(ctx: Context, statement: str, **params: Any) -> list[Any]:
    """Run raw SQL in its own committed transaction (what an operator with psql could do)."""
    with ctx.uow() as uow:
        result = uow.connection.execute(text(statement), params)  # type: ignore[attr-defined]
        rows = list(result) if result.returns_rows else []
        uow.commit()
    return rows


def count_events(ctx: Context, number: int = 1) -> int:
    return int(sql(ctx, "SELECT count(*) FROM events WHERE incident = :n", n=number)[0][0])


def notes(ctx: Context, ref: str, count: int) -> None:
    """``count`` notes in one command (one transaction), the cheap way to grow a timeline."""
    new = [
        NewEvent("note_added", {"text": f"note {i}", "pinned": False}, ctx.clock.now()) for i in range(count)
    ]
    cases.execute(ctx, ref, "scribe", lambda s, now: list(new))


def declare(ctx: Context, **overrides: Any) -> str:
    return cases.declare_incident(ctx, declaration(**overrides), "alice").ref


# --- append and load ---------------------------------------------------------------------------


def test_appended_events_load_back_exactly(ctx: Context, clock: FakeClock) -> None:
    ref = declare(ctx, detected_at=clock.now() - timedelta(minutes=5))
    clock.advance(minutes=1)
    cases.assign_role(ctx, ref, "alice", Role.COMMANDER, "alice")
    cases.record_fact(ctx, ref, "bob", "eu-west 5xx at 37% — “quoted” ✓", "Grafana")
    cases.record_guess(ctx, ref, "bob", "the deploy")
    written = cases.get_incident(ctx, ref)
    events = cases.timeline(ctx, ref)
    assert [e.kind for e in events] == [
        "incident_declared",
        "role_assigned",
        "fact_recorded",
        "guess_recorded",
    ]
    assert events[2].payload["text"] == "eu-west 5xx at 37% — “quoted” ✓"
    assert events[2].actor == "bob"
    assert verify(events) is None
    assert to_data(fold(events)) == to_data(written)
    assert written.version == 4 == cases.incident_version(ctx, ref)


def test_an_unknown_incident_is_not_found(ctx: Context) -> None:
    with pytest.raises(NotFound, match="no incident INC-42"):
        cases.get_incident(ctx, "INC-42")
    with pytest.raises(NotFound):
        cases.record_guess(ctx, "INC-42", "bob", "x")
    assert cases.incident_version(ctx, 42) is None


def test_a_refused_declaration_allocates_no_number(ctx: Context) -> None:
    with pytest.raises(ValidationError):
        declare(ctx, title="")
    assert declare(ctx) == "INC-1"
    assert cases.list_incidents(ctx, IncidentFilter())[0].number == 1


def test_times_round_trip_as_aware_utc_with_microseconds(ctx: Context, clock: FakeClock) -> None:
    clock.current = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)
    india = timezone(timedelta(hours=5, minutes=30))
    detected = datetime(2026, 11, 26, 15, 25, 1, 654321, tzinfo=india)
    ref = declare(ctx, detected_at=detected)
    clock.advance(microseconds=7)
    cases.add_note(ctx, ref, "bob", "x")
    state = cases.get_incident(ctx, ref)
    stored = state.at("detected_at")
    assert stored == detected
    assert stored is not None and stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored.microsecond == 654321
    events = cases.timeline(ctx, ref)
    assert events[1].recorded_at == datetime(2026, 11, 26, 10, 0, 0, 123463, tzinfo=UTC)
    assert all(e.occurred_at.utcoffset() == timedelta(0) for e in events)
    (row,) = cases.list_incidents(ctx, IncidentFilter())
    assert row.declared_at == datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)
    assert row.updated_at == events[1].recorded_at
    assert row.detected_at.utcoffset() == timedelta(0)


# --- snapshots ---------------------------------------------------------------------------------


def test_loading_after_snapshots_equals_folding_every_event(ctx: Context, clock: FakeClock) -> None:
    ref = declare(ctx)
    cases.assign_role(ctx, ref, "alice", Role.COMMANDER, "alice")
    cases.record_guess(ctx, ref, "bob", "the deploy")
    for _ in range(5):
        clock.advance(minutes=1)
        notes(ctx, ref, 30)
    # changes to things recorded before the latest snapshot
    cases.hand_off_role(ctx, ref, "alice", Role.COMMANDER, "bob", "going off shift")
    cases.confirm_guess(ctx, ref, "bob", "G1", "log")
    loaded = cases.get_incident(ctx, ref)
    events = cases.timeline(ctx, ref, limit=None)
    assert len(events) == 155 == loaded.version
    assert to_data(loaded) == to_data(fold(events))
    history = [(t.person, t.until is None) for t in loaded.role_history]
    assert history == [("alice", False), ("bob", True)]
    (snapshot_version,) = sql(ctx, "SELECT version FROM snapshots WHERE number = 1")[0]
    assert SNAPSHOT_EVERY <= snapshot_version < len(events)


def test_a_snapshot_in_an_unknown_format_is_ignored(ctx: Context) -> None:
    ref = declare(ctx)
    cases.assign_role(ctx, ref, "alice", Role.SCRIBE, "bob")
    notes(ctx, ref, 120)
    sql(
        ctx, "UPDATE snapshots SET format = :f, state = :s", f=SNAPSHOT_FORMAT + 1, s='{"from": "the future"}'
    )
    loaded = cases.get_incident(ctx, ref)
    assert to_data(loaded) == to_data(fold(cases.timeline(ctx, ref, limit=None)))
    cases.add_note(ctx, ref, "bob", "still writable")
    assert cases.get_incident(ctx, ref).version == 123


# --- the read model --------------------------------------------------------------------------------


def incidents_of_every_kind(ctx: Context) -> None:
    """INC-1 SEV2 checkout triage; INC-2 SEV1 payments mitigating; INC-3 SEV3 checkout,search resolved;
    INC-4 SEV2 search triage."""
    declare(ctx)
    two = declare(ctx, services=["payments"], impact=Impact(customer_share=0.4))
    cases.propose_mitigation(
        ctx,
        two,
        "alice",
        rules_plan(),
    )
    cases.apply_mitigation(ctx, two, "alice", "M1")
    three = declare(ctx, services=["checkout", "search"], impact=Impact(customer_share=0.01))
    cases.resolve(ctx, three, "alice", "done", impact_stopped=True, risk_controlled=True)
    declare(ctx, services=["search"])


def rules_plan() -> Any:
    from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk

    return MitigationPlan("flag off", MitigationKind.FEATURE_FLAG, Risk.LOW)


def numbers(ctx: Context, **filters: Any) -> list[int]:
    return [row.number for row in cases.list_incidents(ctx, IncidentFilter(**filters))]


def test_the_list_puts_open_incidents_first_then_the_most_severe_then_the_newest(ctx: Context) -> None:
    incidents_of_every_kind(ctx)
    assert numbers(ctx) == [2, 4, 1, 3]


LIST_FILTERS: list[tuple[dict[str, Any], list[int]]] = [
    ({"status": "triage"}, [4, 1]),
    ({"status": "mitigating"}, [2]),
    ({"status": "resolved"}, [3]),
    ({"status": "closed"}, []),
    ({"severity": 2}, [4, 1]),
    ({"severity": 1}, [2]),
    ({"service": "checkout"}, [1, 3]),
    ({"service": "search"}, [4, 3]),
    ({"service": "nope"}, []),
    ({"open_only": True}, [2, 4, 1]),
    ({"open_only": True, "service": "search", "severity": 2}, [4]),
    ({"limit": 2}, [2, 4]),
]


def test_the_list_filters_by_status_severity_service_and_openness(ctx: Context) -> None:
    incidents_of_every_kind(ctx)
    found = [(filters, numbers(ctx, **filters)) for filters, _ in LIST_FILTERS]
    assert found == LIST_FILTERS


def test_the_read_model_follows_every_append(ctx: Context) -> None:
    ref = declare(ctx)
    cases.assign_role(ctx, ref, "alice", Role.COMMANDER, "alice")
    cases.reassess(ctx, ref, "alice", {"customer_share": 0.5})
    (row,) = cases.list_incidents(ctx, IncidentFilter())
    assert (row.commander, row.severity, row.status, row.version) == ("alice", "SEV1", "triage", 4)
    assert (row.title, row.kind, row.services) == ("Checkout returns 5xx", "availability", ["checkout"])


# --- optimistic concurrency ----------------------------------------------------------------------


def test_an_append_with_a_stale_version_conflicts_and_writes_nothing(ctx: Context, clock: FakeClock) -> None:
    ref = declare(ctx)
    stale = cases.get_incident(ctx, ref)
    cases.assign_role(ctx, ref, "alice", Role.COMMANDER, "alice")  # someone else wins
    new = rules.assign_role(stale, Role.COMMANDER, "bob", now=clock.now())
    events = stamp(1, stale.version, stale.last_hash, new, actor="bob", recorded_at=clock.now())
    for event in events:
        apply(stale, event)
    with ctx.uow() as uow, pytest.raises(ConcurrencyConflict) as conflict:
        uow.incidents.append(events, stale)
    assert str(conflict.value) == (
        "INC-1 changed while you were working on it (now at event #2, you had #1); look again and retry"
    )
    assert count_events(ctx) == 2
    state = cases.get_incident(ctx, ref)
    assert state.roles["commander"].person == "alice"
    assert cases.list_incidents(ctx, IncidentFilter())[0].commander == "alice"
    assert verify(cases.timeline(ctx, ref)) is None


def test_a_second_append_on_the_same_version_conflicts_even_inside_one_transaction(ctx: Context) -> None:
    ref = declare(ctx)
    state = cases.get_incident(ctx, ref)
    now = ctx.clock.now()
    events = stamp(
        1,
        state.version,
        state.last_hash,
        [NewEvent("note_added", {"text": "a", "pinned": False}, now)],
        actor="a",
        recorded_at=now,
    )
    for event in events:
        apply(state, event)
    with ctx.uow() as uow:
        uow.incidents.append(events, state)
        with pytest.raises(ConcurrencyConflict):
            uow.incidents.append(events, state)
    assert count_events(ctx) == 1, "leaving without commit rolls the first append back too"


# --- the change log ----------------------------------------------------------------------------


def change(
    at: datetime, service: str = "checkout", dedup: str | None = None, summary: str = "v2.14.0"
) -> Change:
    return Change(service=service, kind=ChangeKind.DEPLOY, at=at, summary=summary, actor="ci", dedup=dedup)


def test_a_redelivered_change_is_stored_once(ctx: Context, clock: FakeClock) -> None:
    with ctx.uow() as uow:
        first, created = uow.changes.add(change(clock.now(), dedup="ce-123"))
        again, created_again = uow.changes.add(change(clock.now(), dedup="ce-123", summary="other"))
        uow.commit()
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.summary == "v2.14.0"
    assert int(sql(ctx, "SELECT count(*) FROM changes")[0][0]) == 1


def test_changes_between_are_inclusive_newest_first_and_per_service(ctx: Context, clock: FakeClock) -> None:
    t = clock.now()
    with ctx.uow() as uow:
        for minutes, service in [
            (0, "checkout"),
            (10, "payments"),
            (20, "checkout"),
            (30, "search"),
            (40, "checkout"),
        ]:
            uow.changes.add(
                change(t + timedelta(minutes=minutes), service=service, summary=f"{service}+{minutes}")
            )
        uow.commit()
    with ctx.uow() as uow:
        found = uow.changes.between(["checkout", "payments"], t, t + timedelta(minutes=20))
    assert [c.summary for c in found] == ["checkout+20", "payments+10", "checkout+0"]
    assert all(c.at.utcoffset() == timedelta(0) for c in found)


def test_changes_near_an_incident_cover_the_window_before_impact_start(
    ctx: Context, clock: FakeClock
) -> None:
    now = clock.now()
    change_cases.record_change(
        ctx, service="checkout", kind="deploy", at=now - timedelta(hours=7), summary="too old", actor="ci"
    )
    change_cases.record_change(
        ctx, service="checkout", kind="config", at=now - timedelta(hours=2), summary="in window", actor="ci"
    )
    change_cases.record_change(
        ctx, service="search", kind="flag", at=now - timedelta(hours=1), summary="other service", actor="ci"
    )
    ref = declare(ctx, impact_started_at=now - timedelta(minutes=30))
    _state, services, found = change_cases.changes_near(ctx, ref)
    assert services == ["checkout"]
    assert [c.summary for c in found] == ["in window"]


def test_a_change_in_the_future_or_without_a_zone_is_refused(ctx: Context, clock: FakeClock) -> None:
    for when, problem in [
        (clock.now() + timedelta(hours=1), "in the future"),
        (datetime(2026, 11, 26, 9, 0), "timezone"),
    ]:
        with pytest.raises(ValidationError, match=problem):
            change_cases.record_change(
                ctx, service="checkout", kind="deploy", at=when, summary="x", actor="ci"
            )
    assert int(sql(ctx, "SELECT count(*) FROM changes")[0][0]) == 0


def test_a_data_integrity_incident_round_trips_its_kind(ctx: Context) -> None:
    ref = declare(ctx, kind=IncidentKind.DATA_INTEGRITY, impact=Impact())
    state = cases.get_incident(ctx, ref)
    assert state.kind is IncidentKind.DATA_INTEGRITY
    assert state.severity.name == "SEV2"
