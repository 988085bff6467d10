"""Pages end to end on SQLite and PostgreSQL: an incident declared from alerts pages the
on-call person through the real Apprise library and real SMTP, escalates, is acknowledged,
and every step lands on the incident's timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.comms.support import FakeClock, Receiver, SmtpServer
from tests.oncall.world import World, make_world
from warroom.domain.shared.errors import InvalidTransition, ValidationError
from warroom.services.incidents import commands as cases
from warroom.services.oncall import pages


@pytest.fixture
def world(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver, smtp: SmtpServer
) -> World:
    return make_world(build_app(database_url, clock=clock), receiver, smtp)


def kinds(world: World, number: int) -> list[str]:
    return [e.kind for e in cases.timeline(world.ctx, number) if e.kind.startswith("page_")]


def test_a_declared_incident_pages_the_on_call_person_then_escalates_until_acknowledged(
    world: World, clock: FakeClock, receiver: Receiver, smtp: SmtpServer
) -> None:
    state = world.declare()
    page = world.page_incident(state)
    assert page is not None and page.policy == "payments"
    assert world.page_incident(state) is None  # one open page per incident

    assert world.escalate() == 1
    report = world.deliver()
    assert report.delivered == 1
    body = receiver.requests[0].json()
    assert "Checkout returns 5xx" in body["title"] and "http://warroom.test/ack/" in body["message"]

    clock.advance(minutes=2)  # alice's rule: email after 2 minutes
    world.escalate()
    world.deliver()
    assert [m[1] for m in smtp.mailbox.messages] == [["alice@example.com"]]

    clock.advance(minutes=3)  # step 2: bob
    world.escalate()
    world.deliver()
    assert len(receiver.requests) == 2 and receiver.requests[1].path.endswith("/bob")

    clock.advance(minutes=1, seconds=10)
    result = pages.acknowledge(world.ctx, world.config, page.ref, "bob")
    assert result["commander"] == "offered"
    assert kinds(world, state.number) == [
        "page_opened",
        "page_escalated",
        "page_notified",  # alice, push
        "page_notified",  # alice, mail (2 min later)
        "page_delivered",  # the push reached her
        "page_escalated",
        "page_notified",  # bob, push
        "page_delivered",  # the mail reached her
        "page_acknowledged",
    ]
    acked = next(e for e in cases.timeline(world.ctx, state.number) if e.kind == "page_acknowledged")
    assert acked.payload["text"] == "bob acknowledged after 6 min 10 s, step 2"
    clock.advance(minutes=10)
    world.escalate()  # records bob's delivery; nothing more fires until the ack timeout
    assert kinds(world, state.number)[-2:] == ["page_acknowledged", "page_delivered"]
    assert world.escalate() == 0


def test_an_ack_timeout_triggers_the_page_again_and_resolving_the_incident_resolves_it(
    world: World, clock: FakeClock
) -> None:
    state = world.declare()
    page = world.page_incident(state)
    world.escalate()
    pages.acknowledge(world.ctx, world.config, page.ref, "alice")
    clock.advance(minutes=31)
    world.escalate()
    again, _ = pages.get_page(world.ctx, page.ref)
    assert again.status.value == "triggered" and again.trigger == 2
    cases.resolve(world.ctx, state.number, "alice", "rolled back", impact_stopped=True, risk_controlled=True)
    world.escalate()
    done, _ = pages.get_page(world.ctx, page.ref)
    assert done.status.value == "resolved"


def test_ownership_unclear_pages_the_incident_commander_rota(world: World) -> None:
    state = world.declare(services=("mystery",))
    page = world.page_incident(state, ownership_unclear=True)
    assert page.policy == "fallback"
    world.escalate()
    _, planned = pages.get_page(world.ctx, page.ref)
    assert [(n.person, n.method) for n in planned] == [("ivan", "email")]


def test_the_first_to_acknowledge_is_made_commander_when_configured(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver
) -> None:
    world = make_world(build_app(database_url, clock=clock), receiver, None, commander="make")
    state = world.declare()
    page = world.page_incident(state)
    world.escalate()
    assert pages.acknowledge(world.ctx, world.config, page.ref, "alice")["commander"] == "made"
    assert cases.get_incident(world.ctx, state.number).roles["commander"].person == "alice"


def test_a_page_by_hand_and_by_link(world: World, receiver: Receiver) -> None:
    state = world.declare()
    page = pages.open_page(
        world.ctx, world.config, "bob", "can you look at the DB", "carol", incident=state.ref
    )
    assert page.step == 1 and page.status.value == "triggered"
    world.deliver()
    link = receiver.requests[-1].json()["message"].split("Acknowledge: ")[1].split()[0]
    token = link.rsplit("/", 1)[1]
    with pytest.raises(ValidationError, match="not valid"):
        pages.acknowledge_by_link(world.ctx, world.config, token[:-3] + "abc")
    result = pages.acknowledge_by_link(world.ctx, world.config, token)
    assert result["page"].acked_by == "bob"
    pages.resolve_page(world.ctx, world.config, page.ref, "bob", "fixed")
    with pytest.raises(InvalidTransition, match="already resolved"):
        pages.acknowledge(world.ctx, world.config, page.ref, "bob")


def test_the_report_shows_time_to_acknowledge_and_pages_per_person(world: World, clock: FakeClock) -> None:
    from warroom.services.learning import operations as lops

    state = world.declare()
    page = world.page_incident(state)
    world.escalate()
    clock.advance(minutes=1, seconds=30)
    pages.acknowledge(world.ctx, world.config, page.ref, "alice")
    load = lops.report(world.ctx, {"since": "2026-11-01", "until": "2026-12-01"})["oncall"]
    assert load["time_to_acknowledge"] == {"pages": 1, "median_seconds": 90.0, "p90_seconds": 90.0}
    assert load["by_team"] == [{"team": "payments", "pages": 1, "median_seconds": 90.0, "p90_seconds": 90.0}]
    assert [(p["person"], p["pages"], p["out_of_hours"]) for p in load["people"]] == [("alice", 1, 0)]


def test_the_catalog_names_a_services_policy_and_a_teams_default(world: World) -> None:
    import dataclasses

    from warroom.domain.incidents.catalog import Catalog, Service, Team
    from warroom.services.oncall import directory

    catalog = Catalog(
        services=(Service("search", "discovery", escalation_policy="payments"),),
        teams=(Team("discovery", ("bob",), escalation_policy="fallback"),),
    )
    ctx = dataclasses.replace(world.ctx, load_catalog=lambda: catalog)
    found = directory.directory(ctx)
    assert found.policy_for(["search"], "discovery").name == "payments"  # type: ignore[union-attr]
    assert found.policy_for(["ads"], "discovery").name == "fallback"  # type: ignore[union-attr]
    assert found.teams["discovery"].members == ("bob",)


def test_the_postmortem_draft_says_who_was_paged_and_who_answered(world: World, clock: FakeClock) -> None:
    from warroom.domain.learning.timeline import factual_timeline

    state = world.declare()
    page = world.page_incident(state)
    world.escalate()
    clock.advance(minutes=3)
    pages.acknowledge(world.ctx, world.config, page.ref, "alice")
    texts = [
        e.text
        for e in factual_timeline(cases.timeline(world.ctx, state.number))
        if e.kind.startswith("page_")
    ]
    assert texts == [
        "P-1 opened through policy payments: SEV2 INC-1 declared; policy payments",
        "P-1 step 1: notified alice",
        "alice acknowledged after 3 min, step 1",
    ]


class _Reads:
    """The on-call store, noting which of its methods a use case calls."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.called: list[str] = []

    def __getattr__(self, name: str) -> Any:
        self.called.append(name)
        return getattr(self.store, name)


def test_opening_the_page_of_a_declared_incident_reads_no_people_and_no_schedules(world: World) -> None:
    state = world.declare()
    with world.ctx.uow() as uow:
        spy = _Reads(uow.oncall)
        uow._oncall = spy  # the unit of work's store, watched
        page = pages.page_incident(world.ctx, uow, state, actor="alertmanager")
        uow.commit()
    assert page is not None and page.policy == "payments"
    assert not {"people", "schedules", "schedule", "person"} & set(spy.called), spy.called
    assert set(spy.called) <= {"teams", "policies", "service_policies", "add_page"}, spy.called


@pytest.mark.parametrize("ref", ["³2", "P-²", "①", "P-", "-3", "P-0", "9" * 30])
def test_a_page_id_that_is_not_a_number_is_refused_in_words(ref: str) -> None:
    """Superscripts and circled numbers are digits to str.isdigit but not to int()."""
    from warroom.domain.shared.errors import ValidationError
    from warroom.services.oncall.pages import parse_page

    with pytest.raises(ValidationError, match="not a page id"):
        parse_page(ref)
    assert parse_page("P-٣") == 3  # any decimal digits int() reads
