"""The use cases on honest in-memory fakes: one transaction per command, clear refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.incidents.builders import declaration
from tests.incidents.fakes import FakeClock, FakeDatabase, fake_context
from warroom.domain.incidents.catalog import Catalog, Playbook, Service
from warroom.domain.incidents.chain import stamp, verify
from warroom.domain.incidents.events import NewEvent
from warroom.domain.incidents.mitigation import MitigationKind, MitigationPlan, Risk
from warroom.domain.incidents.refs import parse_ref
from warroom.domain.incidents.severity import IncidentKind
from warroom.domain.incidents.state import Role
from warroom.domain.shared.errors import ConcurrencyConflict, NotFound, ValidationError
from warroom.services import operations as ops
from warroom.services.incidents import changes as change_cases
from warroom.services.incidents import commands as cases
from warroom.services.ports.incidents import IncidentFilter
from warroom.services.shared.context import Context


def test_declaring_then_commanding_records_two_events_in_two_commits(fake_ctx: Context) -> None:
    db = fake_ctx.uow.__self__  # type: ignore[attr-defined]
    state = cases.declare_incident(fake_ctx, declaration(), "alice")
    cases.assign_role(fake_ctx, state.ref, "alice", Role.COMMANDER, "alice")
    assert db.commits == 2
    events = cases.timeline(fake_ctx, state.ref)
    assert [(e.kind, e.actor) for e in events] == [("incident_declared", "alice"), ("role_assigned", "alice")]
    assert verify(events) is None


def test_a_refused_command_commits_nothing(fake_ctx: Context) -> None:
    db = fake_ctx.uow.__self__  # type: ignore[attr-defined]
    ref = cases.declare_incident(fake_ctx, declaration(), "alice").ref
    with pytest.raises(ValidationError):
        cases.record_fact(fake_ctx, ref, "bob", "x", "")
    assert db.commits == 1
    assert cases.incident_version(fake_ctx, ref) == 1


@pytest.mark.parametrize("ref", ["INC-7", "inc-7", " 7 ", 7])
def test_incident_ids_are_read_in_every_usual_spelling(ref: str | int) -> None:
    assert parse_ref(ref) == 7


@pytest.mark.parametrize("ref", ["INC-", "INC-x", "7a", "INC--7", "INC-²", "١٢", "INC-1 2", ""])
def test_malformed_incident_ids_are_refused(ref: str) -> None:
    with pytest.raises(ValidationError, match="is not an incident id such as INC-7"):
        parse_ref(ref)


@pytest.mark.parametrize("actor", ["", "  ", "x" * 121, "a\x00b"])
def test_an_actor_that_cannot_be_stored_is_refused(fake_ctx: Context, actor: str) -> None:
    with pytest.raises(ValidationError) as refused:
        cases.declare_incident(fake_ctx, declaration(), actor)
    assert refused.value.field == "actor"
    ref = cases.declare_incident(fake_ctx, declaration(), "alice").ref
    with pytest.raises(ValidationError):
        cases.add_note(fake_ctx, ref, actor, "x")
    assert cases.incident_version(fake_ctx, ref) == 1


def test_a_list_filter_with_a_nul_is_refused(fake_ctx: Context) -> None:
    with pytest.raises(ValidationError, match="service: contains a NUL"):
        cases.list_incidents(fake_ctx, IncidentFilter(service="a\x00b"))


def test_a_stale_writer_gets_a_conflict_that_says_to_retry(fake_ctx: Context) -> None:
    """Two people load the same version; the second append is refused, not interleaved."""
    ref = cases.declare_incident(fake_ctx, declaration(), "alice").ref
    first = cases.get_incident(fake_ctx, ref)
    cases.add_note(fake_ctx, ref, "bob", "I was faster")
    with fake_ctx.uow() as uow, pytest.raises(ConcurrencyConflict, match="look again and retry"):
        new = [NewEvent("note_added", {"text": "late", "pinned": False}, fake_ctx.clock.now())]
        late = stamp(1, first.version, first.last_hash, new, actor="carol", recorded_at=fake_ctx.clock.now())
        uow.incidents.append(late, first)
    assert cases.incident_version(fake_ctx, ref) == 2


def test_an_unknown_incident_is_not_found_for_reads_and_writes(fake_ctx: Context) -> None:
    for call in (
        lambda: cases.get_incident(fake_ctx, "INC-3"),
        lambda: cases.timeline(fake_ctx, "INC-3"),
        lambda: cases.add_note(fake_ctx, "INC-3", "a", "x"),
        lambda: cases.verify_chains(fake_ctx, "INC-3"),
    ):
        with pytest.raises(NotFound, match="no incident INC-3"):
            call()


def test_verify_counts_every_incident_and_names_every_break(fake_ctx: Context) -> None:
    db: FakeDatabase = fake_ctx.uow.__self__  # type: ignore[attr-defined]
    for _ in range(3):
        ref = cases.declare_incident(fake_ctx, declaration(), "alice").ref
        cases.add_note(fake_ctx, ref, "bob", "x")
    assert cases.verify_chains(fake_ctx) == (3, [])
    for number in (2, 3):
        note = db.tables.events[number][1]
        db.tables.events[number][1] = replace(note, payload={"text": "forged", "pinned": False})
    checked, breaks = cases.verify_chains(fake_ctx)
    assert checked == 3
    assert [str(b) for b in breaks] == [
        "INC-2 event #2 (note_added): content does not match its hash",
        "INC-3 event #2 (note_added): content does not match its hash",
    ]
    assert cases.verify_chains(fake_ctx, "INC-1") == (1, [])


def catalog() -> Catalog:
    plans = (
        MitigationPlan("Restart pods", MitigationKind.RESTART, Risk.LOW, expected_minutes=1),
        MitigationPlan("Fail closed", MitigationKind.FAIL_CLOSED, Risk.MEDIUM, expected_minutes=2),
        MitigationPlan(
            "Flag off", MitigationKind.FEATURE_FLAG, Risk.LOW, expected_minutes=1, authority="lead"
        ),
    )
    return Catalog(
        services=(
            Service("checkout", "storefront", depends_on=("payments",), playbook=Playbook(mitigations=plans)),
            Service("payments", "payments", depends_on=("ledger",)),
            Service("ledger", "payments"),
        )
    )


def test_prepared_mitigations_come_from_the_playbooks_lowest_risk_first(clock: FakeClock) -> None:
    ctx = fake_context(FakeDatabase(), clock, catalog=catalog())
    availability = cases.declare_incident(ctx, declaration(), "alice")
    data = cases.declare_incident(ctx, declaration(kind=IncidentKind.DATA_INTEGRITY), "alice")
    assert [p.title for p in cases.prepared(ctx, availability)] == ["Flag off", "Restart pods", "Fail closed"]
    assert [p.title for p in cases.prepared(ctx, data)] == ["Flag off", "Fail closed", "Restart pods"]
    state = cases.propose_prepared(ctx, data.ref, "alice", 3)
    assert (state.mitigations[0].title, state.mitigations[0].risk) == ("Restart pods", "high")
    with pytest.raises(ValidationError, match=r"choose 1\.\.3"):
        cases.propose_prepared(ctx, data.ref, "alice", 4)


def test_changes_near_an_incident_include_its_dependencies_newest_first(clock: FakeClock) -> None:
    ctx = fake_context(FakeDatabase(), clock, catalog=catalog())
    now = clock.now()
    for minutes, service in [(300, "ledger"), (200, "checkout"), (100, "search"), (30, "payments")]:
        change_cases.record_change(
            ctx,
            service=service,
            kind="deploy",
            at=now - timedelta(minutes=minutes),
            summary=service,
            actor="ci",
        )
    ref = cases.declare_incident(ctx, declaration(), "alice").ref
    _, services, found = change_cases.changes_near(ctx, ref)
    assert services == ["checkout", "payments", "ledger"]
    assert [c.summary for c in found] == ["payments", "checkout", "ledger"]


def test_a_redelivered_change_is_kept_once(fake_ctx: Context) -> None:
    first, created = change_cases.record_change(
        fake_ctx, service="checkout", kind="deploy", at=None, summary="v1", actor="ci", dedup="k"
    )
    again, created_again = change_cases.record_change(
        fake_ctx, service="checkout", kind="deploy", at=None, summary="v1", actor="ci", dedup="k"
    )
    assert (created, created_again, again.id) == (True, False, first.id)


def test_operations_parse_shares_and_amounts_as_people_type_them() -> None:
    assert ops.parse_share("12%") == pytest.approx(0.12)
    assert ops.parse_share("0.12") == pytest.approx(0.12)
    assert ops.parse_share(" 12.5 % ") == pytest.approx(0.125)
    assert ops.parse_amount("100,000", "financial_per_hour") == 100_000
    for bad in ("12", "-1%", "nan", "inf", "lots", True):
        with pytest.raises(ValidationError):
            ops.parse_share(bad)
    for bad in ("-1", "nan", "-inf", "1e400", "x", False):
        with pytest.raises(ValidationError):
            ops.parse_amount(bad, "financial_per_hour")


def test_the_list_operation_refuses_a_zero_limit(fake_ctx: Context) -> None:
    with pytest.raises(ValidationError, match="limit: must be between 1 and 1000"):
        ops.list_incidents(fake_ctx, {"limit": 0})
    assert ops.list_incidents(fake_ctx, {}) == []
