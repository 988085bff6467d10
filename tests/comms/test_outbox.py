"""The transactional outbox on SQLite and PostgreSQL, delivering to real receivers: an
HTTP server and an SMTP server on 127.0.0.1. Time moves only through the clock port."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.comms.support import (
    SECRET,
    T0,
    FakeClock,
    Receiver,
    Sender,
    SmtpServer,
    receiver_from_the_docs,
    verifier_from_the_docs,
)
from warroom.domain.incidents import commands as rules
from warroom.domain.incidents.catalog import Catalog, Playbook, Service
from warroom.domain.incidents.commands import Declaration
from warroom.domain.incidents.severity import Impact, IncidentKind
from warroom.domain.incidents.state import Role
from warroom.integrations.notify_config import NotifySettings, parse_notify
from warroom.services.comms import delivery, outbox
from warroom.services.comms import stakeholders as people
from warroom.services.incidents import commands as cases
from warroom.services.shared.context import Context

CATALOG = Catalog(
    services=[
        Service(
            "checkout",
            "storefront",
            playbook=Playbook(stakeholders=["support-leads", "storefront-pm@example.com"]),
        )
    ]
)


def declare(ctx: Context, share: float = 0.12, title: str = "Checkout returns 5xx") -> str:
    decl = Declaration(
        title=title,
        kind=IncidentKind.AVAILABILITY,
        services=["checkout"],
        impact=Impact(customer_share=share),
    )
    return cases.declare_incident(ctx, decl, "alice").ref


def settings_for(receiver: Receiver, smtp: SmtpServer | None = None, **notify: Any) -> NotifySettings:
    channels: list[dict[str, Any]] = [
        {"name": "incidents", "type": "slack", "url": receiver.url},
        {"name": "status-bridge", "type": "webhook", "url": receiver.url + "/bridge", "secret": SECRET},
        {"name": "support-leads", "type": "slack", "url": receiver.url + "/support"},
    ]
    routes: list[dict[str, Any]] = [{"channels": ["incidents"], "kinds": ["incident_declared"]}]
    section: dict[str, Any] = {"base_url": "https://warroom.example.com", "channels": channels}
    if smtp is not None:
        section["smtp"] = {"host": "127.0.0.1", "port": smtp.port, "sender": "warroom@example.com"}
    section.update(notify)
    section.setdefault("routes", routes)
    return parse_notify({"notify": section})


@pytest.fixture
def app(database_url: str, build_app: Callable[..., Any], clock: FakeClock) -> Any:
    built = build_app(database_url, clock=clock)
    return dataclasses.replace(
        built, context=dataclasses.replace(built.context, load_catalog=lambda: CATALOG)
    )


@pytest.fixture
def ctx(app: Any) -> Context:
    context: Context = app.context
    return context


def no_jitter() -> float:
    return 0.0


# --- Written with the event --------------------------------------------------------------


def test_declaring_writes_its_notification_in_the_same_transaction(ctx: Context) -> None:
    declare(ctx)
    assert outbox.outbox_counts(ctx)["unrouted"] == 1


def test_a_command_that_loses_the_race_leaves_no_notification(ctx: Context) -> None:
    ref = declare(ctx)

    def decide_while_someone_else_commits(state: Any, now: Any) -> Any:
        cases.assign_role(ctx, ref, "bob", Role.SCRIBE, "sam")  # commits first
        return rules.assign_role(state, Role.COMMANDER, "dana", now=now)

    with pytest.raises(cases.ConcurrencyConflict if hasattr(cases, "ConcurrencyConflict") else Exception):
        cases.execute(ctx, ref, "alice", decide_while_someone_else_commits)
    assert outbox.outbox_counts(ctx)["unrouted"] == 2  # the declaration and the scribe, no commander


def test_events_that_tell_nobody_write_nothing(ctx: Context) -> None:
    ref = declare(ctx)
    cases.record_fact(ctx, ref, "alice", "5xx at 12%", "grafana")
    cases.add_note(ctx, ref, "alice", "looking at the deploy log")
    assert outbox.outbox_counts(ctx)["unrouted"] == 1


def test_without_channels_notifications_are_routed_to_nobody(ctx: Context, sender: Sender) -> None:
    declare(ctx)
    notify = parse_notify({})
    report = delivery.deliver(ctx, notify.outbox, sender(notify))
    assert (report.routed, report.attempts) == (1, 0)
    assert outbox.outbox_counts(ctx) == {"pending": 0, "delivered": 0, "dead": 0, "unrouted": 0}


# --- Delivered to real receivers ---------------------------------------------------------


def test_slack_signed_webhook_and_email_get_one_notification_with_one_key(
    ctx: Context, receiver: Receiver, smtp: SmtpServer, sender: Sender
) -> None:
    notify = settings_for(
        receiver,
        smtp,
        channels=[
            {"name": "incidents", "type": "slack", "url": receiver.url},
            {"name": "status-bridge", "type": "webhook", "url": receiver.url + "/bridge", "secret": SECRET},
            {"name": "leadership", "type": "email", "to": ["eng-leads@example.com"]},
        ],
        routes=[
            {"channels": ["incidents"]},
            {"channels": ["status-bridge", "leadership"], "max_severity": 2},
        ],
    )
    declare(ctx)  # SEV2
    report = delivery.deliver(ctx, notify.outbox, sender(notify))
    assert (report.delivered, report.retrying, report.dead) == (3, 0, 0)

    slack, bridge = sorted(receiver.requests, key=lambda r: r.path)
    assert slack.path == "/hooks/incidents" and bridge.path == "/hooks/incidents/bridge"
    assert slack.key == bridge.key and slack.key.startswith("INC-1.1.")
    assert slack.json()["text"].startswith("[SEV2] INC-1: Checkout returns 5xx")
    assert "https://warroom.example.com/incidents/INC-1" in slack.json()["text"]
    verify = verifier_from_the_docs()
    assert verify(
        SECRET, bridge.headers["X-Warroom-Timestamp"], bridge.headers["X-Warroom-Signature"], bridge.body
    )
    body = bridge.json()
    assert (body["id"], body["kind"], body["team"], body["severity"]) == (
        slack.key, "incident_declared", "storefront", 2,
    )  # fmt: skip
    [(_, recipients, message)] = smtp.mailbox.messages
    assert recipients == ["eng-leads@example.com"]
    assert message["X-Warroom-Idempotency-Key"] == slack.key
    assert message["Subject"] == "[SEV2] INC-1: Checkout returns 5xx"


def test_a_receiver_that_fails_then_recovers_gets_it_after_backoff_once(
    ctx: Context, clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    answers = iter([(503, {}), (503, {})])
    receiver.respond = lambda _: next(answers, (204, {}))
    notify = settings_for(receiver)
    notifier = sender(notify)
    declare(ctx)

    def attempt() -> outbox.DeliveryReport:
        return delivery.deliver(ctx, notify.outbox, notifier, rand=no_jitter)

    assert attempt().retrying == 1  # 10:00:00, 503: next in 5 s
    assert attempt().attempts == 0  # not due yet
    clock.advance(seconds=4.9)
    assert attempt().attempts == 0
    clock.advance(seconds=0.1)
    assert attempt().retrying == 1  # 10:00:05, 503: next in 10 s
    clock.advance(seconds=9.9)
    assert attempt().attempts == 0
    clock.advance(seconds=0.1)
    assert attempt().delivered == 1  # 10:00:15
    clock.advance(hours=1)
    assert attempt().attempts == 0  # delivered once, never again

    assert len(set(receiver.idempotency_keys())) == 1 and len(receiver.idempotency_keys()) == 3
    [done] = outbox.list_deliveries(ctx, "delivered")
    assert (done.attempts, done.delivered_at, done.last_error) == (3, T0 + timedelta(seconds=15), None)


def test_a_receiver_that_never_recovers_is_dead_lettered_and_can_be_retried(
    ctx: Context, clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    receiver.respond = lambda _: (503, {})
    notify = settings_for(receiver, max_attempts=3)
    notifier = sender(notify)
    declare(ctx)
    for _ in range(5):
        delivery.deliver(ctx, notify.outbox, notifier)
        clock.advance(minutes=10)
    assert len(receiver.requests) == 3
    [dead] = outbox.list_deliveries(ctx, "dead")
    assert dead.attempts == 3 and dead.channel == "incidents"
    assert (
        dead.last_error is not None
        and "HTTP 503" in dead.last_error
        and "after 3 attempts" in dead.last_error
    )
    assert "/hooks/" not in dead.last_error  # the webhook URL is a credential

    receiver.respond = lambda _: (204, {})
    assert outbox.retry_deliveries(ctx, all_dead=True) == [dead.id]
    assert delivery.deliver(ctx, notify.outbox, notifier).delivered == 1
    assert len(set(receiver.idempotency_keys())) == 1 and len(receiver.idempotency_keys()) == 4
    assert outbox.list_deliveries(ctx, "dead") == []


def test_a_permanent_refusal_is_dead_at_once(ctx: Context, receiver: Receiver, sender: Sender) -> None:
    receiver.respond = lambda _: (410, {})
    notify = settings_for(receiver)
    declare(ctx)
    assert delivery.deliver(ctx, notify.outbox, sender(notify)).dead == 1
    [dead] = outbox.list_deliveries(ctx, "dead")
    assert dead.attempts == 1 and dead.last_error is not None and "permanent" in dead.last_error


def test_retry_after_from_the_receiver_is_honoured(
    ctx: Context, clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    receiver.respond = lambda _: (429, {"Retry-After": "120"})
    notify = settings_for(receiver)
    declare(ctx)
    delivery.deliver(ctx, notify.outbox, sender(notify))
    [pending] = outbox.list_deliveries(ctx, "pending")
    assert pending.next_attempt_at == T0 + timedelta(seconds=120)


def test_an_expired_lease_makes_the_delivery_due_again_with_the_same_key(
    ctx: Context, clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    notify = settings_for(receiver)
    declare(ctx)
    outbox.route_pending(ctx, notify.outbox)
    with ctx.uow() as uow:  # a worker leases it, then dies before reporting
        crashed = uow.outbox.claim(T0, T0 + notify.outbox.lease, "crashed-worker")
        uow.commit()
    assert crashed is not None

    notifier = sender(notify)
    clock.advance(seconds=59)
    assert delivery.deliver(ctx, notify.outbox, notifier).attempts == 0  # still leased
    clock.advance(seconds=1)
    assert delivery.deliver(ctx, notify.outbox, notifier).delivered == 1
    assert receiver.idempotency_keys() == [crashed.notification.key]
    with ctx.uow() as uow:  # the dead worker's late report changes nothing
        assert uow.outbox.finish(crashed.id, "crashed-worker", at=clock.now(), status="dead") is False
        uow.commit()
    [done] = outbox.list_deliveries(ctx, "delivered")
    assert done.attempts == 2


# --- Stakeholders ------------------------------------------------------------------------


def test_stakeholders_are_the_playbooks_plus_additions_minus_removals(ctx: Context, clock: FakeClock) -> None:
    ref = declare(ctx)
    listed = people.list_stakeholders(ctx, ref)
    assert [(s.target, s.audience, s.source) for s in listed] == [
        ("support-leads", "internal", "playbook"),
        ("storefront-pm@example.com", "internal", "playbook"),
    ]
    people.add_stakeholder(ctx, ref, "lee", "status-bridge", "public")
    clock.advance(seconds=1)
    people.add_stakeholder(ctx, ref, "lee", "CFO@Example.com")
    after = people.remove_stakeholder(ctx, ref, "lee", "storefront-pm@example.com")
    assert [(s.target, s.audience, s.source) for s in after] == [
        ("support-leads", "internal", "playbook"),
        ("status-bridge", "public", "incident"),
        ("cfo@example.com", "internal", "incident"),
    ]
    kinds = [e.kind for e in cases.timeline(ctx, ref)]
    assert kinds[-3:] == ["stakeholder_added", "stakeholder_added", "stakeholder_removed"]
    with pytest.raises(Exception, match="already a stakeholder"):
        people.add_stakeholder(ctx, ref, "lee", "status-bridge", "public")
    with pytest.raises(Exception, match="neither an email address nor a channel name"):
        people.add_stakeholder(ctx, ref, "lee", "two words")
    with pytest.raises(Exception, match=re.escape("no [[notify.channels]] name")):
        people.add_stakeholder(ctx, ref, "lee", "nosuchchannel", channels={"incidents"})


def test_status_updates_go_to_the_stakeholders_of_their_audience(
    ctx: Context, receiver: Receiver, smtp: SmtpServer, sender: Sender
) -> None:
    notify = settings_for(
        receiver, smtp, routes=[{"channels": ["incidents"], "kinds": ["incident_resolved"]}]
    )
    notifier = sender(notify)
    ref = declare(ctx)
    people.add_stakeholder(ctx, ref, "lee", "status-bridge", "public")
    people.remove_stakeholder(ctx, ref, "lee", "storefront-pm@example.com")
    people.add_stakeholder(ctx, ref, "lee", "cfo@example.com")
    delivery.deliver(ctx, notify.outbox, notifier)
    assert receiver.requests == []  # nothing routes declarations here

    cases.post_update(ctx, ref, "lee", "Internal: rolling back payments.", "internal")
    delivery.deliver(ctx, notify.outbox, notifier)
    assert [r.path for r in receiver.requests] == ["/hooks/incidents/support"]
    assert [rcpts for _, rcpts, _ in smtp.mailbox.messages] == [["cfo@example.com"]]

    cases.post_update(ctx, ref, "lee", "We are restoring checkout.", "public")
    delivery.deliver(ctx, notify.outbox, notifier)
    paths = sorted(r.path for r in receiver.requests[1:])
    assert paths == ["/hooks/incidents/bridge", "/hooks/incidents/support"]
    assert len(smtp.mailbox.messages) == 2
    bridge = next(r for r in receiver.requests if r.path.endswith("/bridge"))
    assert bridge.json()["text"] == "We are restoring checkout."
    assert bridge.json()["fields"]["Audience"] == "public"


def test_a_stakeholder_without_a_channel_is_dead_lettered_with_the_reason(
    ctx: Context, receiver: Receiver, sender: Sender
) -> None:
    notify = settings_for(receiver)  # no SMTP: the playbook's email stakeholder cannot be mailed
    ref = declare(ctx)
    cases.post_update(ctx, ref, "lee", "Investigating.", "internal")
    report = delivery.deliver(ctx, notify.outbox, sender(notify))
    assert (report.delivered, report.dead) == (2, 1)  # the declaration and support-leads
    [dead] = outbox.list_deliveries(ctx, "dead")
    assert dead.channel == "email:storefront-pm@example.com"
    assert dead.last_error == "no SMTP server is configured ([notify.smtp])"


def test_the_receiver_from_the_docs_verifies_and_drops_the_redelivered_duplicate(
    ctx: Context, clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    with receiver_from_the_docs() as docs:
        bridge = {"name": "status-bridge", "type": "webhook", "url": docs.url, "secret": SECRET}
        notify = settings_for(receiver, channels=[bridge], routes=[{"channels": ["status-bridge"]}])
        notifier = sender(notify)
        declare(ctx)
        outbox.route_pending(ctx, notify.outbox)
        with ctx.uow() as uow:  # a worker leases the delivery, sends it, and dies before recording it
            crashed = uow.outbox.claim(T0, T0 + notify.outbox.lease, "crashed-worker")
            uow.commit()
        assert crashed is not None
        notifier.send(outbox.with_link(crashed.notification, None), notify.outbox.channels["status-bridge"])
        clock.advance(seconds=61)
        assert delivery.deliver(ctx, notify.outbox, notifier).delivered == 1
        assert docs.statuses == [204, 204]  # both verified ...
        assert [n["id"] for n in docs.handled] == [crashed.notification.key]  # ... handled once


def test_a_wrong_secret_is_refused_by_the_docs_receiver_and_dead_lettered(
    ctx: Context, receiver: Receiver, sender: Sender
) -> None:
    with receiver_from_the_docs() as docs:
        bridge = {"name": "status-bridge", "type": "webhook", "url": docs.url, "secret": "not the secret"}
        notify = settings_for(receiver, channels=[bridge], routes=[{"channels": ["status-bridge"]}])
        declare(ctx)
        assert delivery.deliver(ctx, notify.outbox, sender(notify)).dead == 1
        assert (docs.statuses, docs.handled) == ([401], [])
        [dead] = outbox.list_deliveries(ctx, "dead")
        assert dead.last_error is not None and "HTTP 401" in dead.last_error
