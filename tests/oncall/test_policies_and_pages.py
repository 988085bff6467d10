"""Escalation policies (validation, loops, fallback) and the page state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.oncall.builders import T0, directory, person, weekly
from warroom.domain.oncall import pages as pg
from warroom.domain.oncall import people as pp
from warroom.domain.oncall import policies as pol
from warroom.domain.shared.errors import InvalidTransition, ValidationError

ALICE = person(
    "alice",
    ("push", "apprise", "ntfy://ntfy.example/alice"),
    ("mail", "email", "alice@example.com"),
    rules=[("push", 0), ("mail", 2)],
)
BOB = person("bob", ("hook", "webhook", "https://hooks.example/bob"))
CAROL = person("carol", ("mail", "email", "carol@example.com"))
IC = person("ivan", ("mail", "email", "ivan@example.com"))


def _world(**kw: object) -> pol.Directory:
    primary = weekly("payments-primary", ["alice"])
    commanders = weekly("ic-rota", ["ivan"])
    payments = pol.policy(
        "payments",
        [
            pol.step([pol.target("schedule", "payments-primary")], 5),
            pol.step([pol.target("person", "bob"), pol.target("person", "carol")], 10),
        ],
        repeat=1,
        ack_timeout_minutes=30,
    )
    fallback = pol.policy(
        "incident-commanders", [pol.step([pol.target("schedule", "ic-rota")], 5)], fallback=True
    )
    return directory([ALICE, BOB, CAROL, IC], [primary, commanders], [payments, fallback], **kw)  # type: ignore[arg-type]


def _page(policy: str = "payments") -> pg.Page:
    return replace(
        pg.open_page(title="checkout errors", by="alertmanager", now=T0, policy=policy, incident=7), id=1
    )


def test_the_first_step_notifies_the_on_call_person_by_their_rules() -> None:
    out = pg.advance(_page(), _world(), T0)
    assert [(n.person, n.method.name, n.due_at - T0) for n in out.notify] == [
        ("alice", "push", timedelta(0)),
        ("alice", "mail", timedelta(minutes=2)),
    ]
    assert out.page.due_at == T0 + timedelta(minutes=5) and out.page.step == 1
    assert [e.kind for e in out.events] == ["page_escalated"]
    assert out.events[0].payload["text"] == "P-1 step 1: notified alice"


def test_nothing_fires_before_the_due_time_and_each_step_fires_once() -> None:
    world = _world()
    first = pg.advance(_page(), world, T0)
    assert pg.advance(first.page, world, T0 + timedelta(minutes=4)).events == []
    second = pg.advance(first.page, world, T0 + timedelta(minutes=5))
    assert {n.person for n in second.notify} == {"bob", "carol"}
    assert pg.advance(second.page, world, T0 + timedelta(minutes=6)).notify == []


def test_unacknowledged_pages_repeat_then_fall_back_then_stop() -> None:
    world = _world()
    page, now, seen = _page(), T0, []
    for _ in range(8):
        out = pg.advance(page, world, now)
        seen += [e.kind for e in out.events]
        page = out.page
        if page.due_at is None:
            break
        now = page.due_at
    assert seen == ["page_escalated"] * 4 + ["page_fell_back", "page_escalated", "page_exhausted"]
    assert page.status is pg.PageStatus.TRIGGERED and page.due_at is None and page.fell_back


def test_a_step_that_reaches_nobody_goes_straight_on() -> None:
    world = _world()
    gap = replace(
        world,
        schedules={
            **world.schedules,
            "payments-primary": weekly("payments-primary", ["alice"], start="2030-01-07T09:00"),
        },
    )
    out = pg.advance(_page(), gap, T0)
    assert {n.person for n in out.notify} == {"bob", "carol"}
    assert "nobody on call for schedule payments-primary" in out.events[0].payload["text"]


def test_ownership_unclear_pages_the_fallback_from_the_start() -> None:
    world = _world()
    page = replace(pg.open_page(title="?", by="x", now=T0, policy=world.fallback.name), id=2)  # type: ignore[union-attr]
    assert [n.person for n in pg.advance(page, world, T0).notify] == ["ivan"]


def test_an_ack_stops_escalation_and_the_timeout_triggers_it_again() -> None:
    world = _world()
    fired = pg.advance(_page(), world, T0).page
    acked = pg.acknowledge(fired, "alice", T0 + timedelta(minutes=2, seconds=10), world)
    assert acked.events[0].payload["text"] == "alice acknowledged after 2 min 10 s, step 1"
    assert acked.page.due_at == T0 + timedelta(minutes=32, seconds=10)
    assert pg.advance(acked.page, world, T0 + timedelta(minutes=10)).events == []
    again = pg.advance(acked.page, world, T0 + timedelta(minutes=33))
    assert [e.kind for e in again.events] == ["page_retriggered", "page_escalated"]
    assert again.page.status is pg.PageStatus.TRIGGERED and again.page.trigger == 2
    assert [n.person for n in again.notify][:1] == ["alice"]


def test_acks_and_resolves_refuse_what_cannot_happen() -> None:
    world = _world()
    acked = pg.acknowledge(pg.advance(_page(), world, T0).page, "alice", T0, world).page
    assert pg.acknowledge(acked, "alice", T0, world).events == []  # a second tap changes nothing
    with pytest.raises(InvalidTransition, match="already acknowledged by alice"):
        pg.acknowledge(acked, "bob", T0, world)
    done = pg.resolve(acked, "alice", T0).page
    with pytest.raises(InvalidTransition, match="already resolved"):
        pg.acknowledge(done, "alice", T0, world)
    assert pg.advance(done, world, T0 + timedelta(days=1)).events == []


def test_a_direct_page_to_a_person_repeats_then_goes_to_the_fallback() -> None:
    world = _world()
    page = replace(pg.open_page(title="look", by="x", now=T0, targets=(pol.target("person", "carol"),)), id=3)
    out = pg.advance(page, world, T0)
    assert [n.person for n in out.notify] == ["carol"]
    now, kinds = T0, []
    page = out.page
    while page.due_at is not None:
        now = page.due_at
        step = pg.advance(page, world, now)
        kinds += [e.kind for e in step.events]
        page = step.page
    assert kinds == ["page_escalated", "page_escalated", "page_fell_back", "page_escalated", "page_exhausted"]


def test_policies_that_loop_or_name_unknowns_are_refused() -> None:
    a = pol.policy("a", [pol.step([pol.target("policy", "b")])])
    b = pol.policy("b", [pol.step([pol.target("person", "bob")]), pol.step([pol.target("policy", "a")])])
    with pytest.raises(ValidationError, match="loop: a -> b -> a"):
        pol.check(directory([BOB], [], [a, b]))
    with pytest.raises(ValidationError, match="hands over to itself"):
        pol.policy("c", [pol.step([pol.target("policy", "c")])])
    with pytest.raises(ValidationError, match="unknown schedule 'nope'"):
        pol.check(directory([BOB], [], [pol.policy("d", [pol.step([pol.target("schedule", "nope")])])]))
    with pytest.raises(ValidationError, match="only one policy may be the fallback"):
        one = pol.policy("x", [pol.step([pol.target("person", "bob")])], fallback=True)
        pol.check(directory([BOB], [], [one, replace(one, name="y")]))
    with pytest.raises(ValidationError, match=r"step\.wait_minutes"):
        pol.step([pol.target("person", "bob")], 0)
    with pytest.raises(ValidationError, match="no person 'zed'"):
        pol.check(directory([BOB], [weekly("s", ["zed"])]))


def test_a_hand_over_moves_the_page_to_the_other_policy() -> None:
    world = _world()
    handing = pol.policy("edge", [pol.step([pol.target("policy", "payments")])])
    world = replace(world, policies={**world.policies, "edge": handing})
    out = pg.advance(_page("edge"), world, T0)
    assert [e.kind for e in out.events] == ["page_escalated", "page_handed_over", "page_escalated"]
    assert out.page.policy == "payments" and [n.person for n in out.notify][:1] == ["alice"]


def test_a_team_target_means_its_on_call_people_else_its_members() -> None:
    team_schedule = weekly("team-s", ["carol"], team="payments")
    world = directory([ALICE, BOB, CAROL], [team_schedule], teams=[pol.Team("payments", ("alice", "bob"))])
    assert world.people_for(pol.target("team", "payments"), T0) == ["carol"]
    bare = directory([ALICE, BOB], teams=[pol.Team("payments", ("alice", "bob"))])
    assert bare.people_for(pol.target("team", "payments"), T0) == ["alice", "bob"]


def test_contact_methods_and_people_are_validated_without_echoing_secrets() -> None:
    with pytest.raises(ValidationError, match="signed webhook needs a secret"):
        pp.contact_method("hook", "webhook", "https://x.example/h")
    with pytest.raises(ValidationError, match=r"contact\.kind"):
        pp.contact_method("pager", "carrier-pigeon", "coo://x")
    with pytest.raises(ValidationError, match="not a known time zone"):
        pp.person("zoe", "Zoe", time_zone="Europe/Atlantis")
    with pytest.raises(ValidationError, match="no contact method called 'sms'"):
        pp.person(
            "zoe",
            "Zoe",
            contacts=[pp.contact_method("push", "apprise", "ntfy://n/z")],
            rules=[pp.notification_rule("sms", 5)],
        )
    secret = pp.contact_method("push", "apprise", "pover://userkey@apptoken")
    assert "apptoken" not in secret.redacted and "apptoken" not in repr(secret)
