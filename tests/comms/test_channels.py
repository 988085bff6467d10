"""Channels do not wait on each other: a receiver that accepts and never answers times out
per attempt and opens its circuit, while the other channels deliver in their normal time.
On SQLite and PostgreSQL, against real receivers on 127.0.0.1."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.comms.support import FakeClock, Hanging, Receiver, Sender, hanging_server
from tests.comms.test_outbox import CATALOG, declare
from warroom.integrations.notify_config import NotifySettings, make_notifier, parse_notify
from warroom.services.comms import delivery, outbox
from warroom.services.comms.delivery import Dispatcher
from warroom.services.shared.context import Context

HANG_SECONDS = 2.0  # the hanging channel's per-attempt deadline


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def hanging() -> Iterator[Hanging]:
    with hanging_server() as server:
        yield server


@pytest.fixture
def live_ctx(database_url: str, build_app: Callable[..., Any]) -> Context:
    """The system clock: deadlines are real time here."""
    built = build_app(database_url)
    context: Context = dataclasses.replace(built.context, load_catalog=lambda: CATALOG)
    return context


def two_channels(hanging: Hanging, receiver: Receiver, **notify: Any) -> NotifySettings:
    section = {
        "timeout_seconds": HANG_SECONDS,
        "lease_seconds": 10,
        "circuit_failures": 2,
        "circuit_cooldown_seconds": 60,
        "channels": [
            {"name": "stuck", "type": "slack", "url": hanging.url},
            {"name": "incidents", "type": "slack", "url": receiver.url},
        ],
        "routes": [{"channels": ["stuck", "incidents"]}],
        **notify,
    }
    return parse_notify({"notify": section})


def test_a_hanging_channel_times_out_and_opens_while_the_others_deliver_in_normal_time(
    live_ctx: Context, hanging: Hanging, receiver: Receiver, sender: Sender
) -> None:
    ctx = live_ctx
    notify = two_channels(hanging, receiver)
    dispatcher = Dispatcher(ctx, notify.outbox, sender(notify), settle=0.2)
    try:
        for n in range(4):
            declare(ctx, title=f"Checkout returns 5xx ({n})")
        started = time.monotonic()
        first = dispatcher.round()
        assert first.routed == 4
        # Served side by side: #incidents has all four long before one hanging attempt
        # could even time out (one after another it would take 4 x 2 s).
        assert wait_for(lambda: len(receiver.requests) == 4, 1.5), receiver.requests
        assert time.monotonic() - started < HANG_SECONDS
        assert dispatcher.active.get("stuck") == 2  # two attempts hang, as many as allowed

        # A declaration made while the channel hangs is routed and delivered at once.
        declare(ctx, title="Payments declined")
        assert dispatcher.round().routed == 1
        assert wait_for(lambda: len(receiver.requests) == 5, 1.0)
        assert time.monotonic() - started < HANG_SECONDS

        # Each hanging attempt ends at its deadline; two failures open the circuit (a lane
        # that failed first may have started one more attempt before the other failed).
        assert dispatcher.wait(2 * HANG_SECONDS + 1.0)
        attempts = len(hanging.accepted)
        assert 2 <= attempts <= 3
        [stuck] = [c for c in outbox.channel_states(ctx) if c.name == "stuck"]
        assert stuck.circuit_open and stuck.failures == attempts and stuck.pending == 5
        assert stuck.last_error is not None and stuck.last_error.startswith("channel stuck: ")
        assert hanging.url not in stuck.last_error  # the URL may be a credential
        tried = [d for d in outbox.list_deliveries(ctx, "pending") if d.channel == "stuck" and d.attempts]
        assert len(tried) == attempts
        assert all(d.next_attempt_at > d.updated_at for d in tried)  # retried later, not slept on

        # While it cools down, nothing more is sent to it: rounds skip it at once (and
        # report the attempts that ended since the last one).
        before = time.monotonic()
        assert dispatcher.round().retrying == attempts
        assert dispatcher.dispatch() == ["stuck"]
        assert dispatcher.round().attempts == 0
        assert time.monotonic() - before < 1.0
        assert len(hanging.accepted) == attempts
        [ok] = [c for c in outbox.channel_states(ctx) if c.name == "incidents"]
        assert (ok.delivered, ok.failures, ok.circuit_open) == (5, 0, False)
    finally:
        dispatcher.close()


def test_an_open_circuit_is_probed_once_after_the_cool_down_and_closes_when_it_answers(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    built = build_app(database_url, clock=clock)
    ctx: Context = dataclasses.replace(built.context, load_catalog=lambda: CATALOG)
    receiver.respond = lambda _: (503, {})
    notify = parse_notify(
        {
            "notify": {
                "circuit_failures": 3,
                "circuit_cooldown_seconds": 60,
                "channel_concurrency": 1,
                "channels": [{"name": "incidents", "type": "slack", "url": receiver.url}],
                "routes": [{"channels": ["incidents"]}],
            }
        }
    )
    notifier = sender(notify)
    for n in range(5):
        declare(ctx, title=f"Checkout returns 5xx ({n})")

    def round_() -> outbox.DeliveryReport:
        return delivery.deliver(ctx, notify.outbox, notifier, rand=lambda: 0.0)

    assert round_().retrying == 3  # the third consecutive failure opens the circuit
    assert len(receiver.requests) == 3
    clock.advance(seconds=59)  # their retries are due, the circuit is not
    assert round_().attempts == 0
    clock.advance(seconds=1)
    assert round_().retrying == 1  # one probe; it fails: open for another minute
    assert len(receiver.requests) == 4
    [state] = outbox.channel_states(ctx)
    assert state.open_until == clock.now() + timedelta(seconds=60) and state.failures == 4

    receiver.respond = lambda _: (204, {})
    clock.advance(seconds=60)
    assert round_().delivered == 5  # the probe gets through, the rest follow
    [state] = outbox.channel_states(ctx)
    assert (state.circuit_open, state.failures, state.delivered, state.pending) == (False, 0, 5, 0)
    assert len(set(receiver.idempotency_keys())) == 5


def test_a_permanent_refusal_does_not_open_the_circuit(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver, sender: Sender
) -> None:
    ctx: Context = build_app(database_url, clock=clock).context
    receiver.respond = lambda _: (400, {})  # this message is wrong, the channel is fine
    notify = parse_notify(
        {
            "notify": {
                "circuit_failures": 2,
                "channels": [{"name": "incidents", "type": "slack", "url": receiver.url}],
                "routes": [{"channels": ["incidents"]}],
            }
        }
    )
    for n in range(3):
        declare(ctx, title=f"Checkout returns 5xx ({n})")
    assert delivery.deliver(ctx, notify.outbox, sender(notify)).dead == 3
    [state] = outbox.channel_states(ctx)
    assert (state.dead, state.failures, state.circuit_open, state.degraded) == (3, 0, False, True)


def test_the_deadline_cuts_off_an_attempt_whatever_the_adapter_does(
    live_ctx: Context, receiver: Receiver
) -> None:
    class Stuck:
        def send(self, n: Any, channel: Any) -> None:
            time.sleep(1.0)  # an adapter ignoring every timeout

    notify = parse_notify(
        {
            "notify": {
                "timeout_seconds": 0.2,
                "channels": [{"name": "incidents", "type": "slack", "url": receiver.url}],
                "routes": [{"channels": ["incidents"]}],
            }
        }
    )
    declare(live_ctx)
    started = time.monotonic()
    report = delivery.deliver(live_ctx, notify.outbox, Stuck())
    assert report.retrying == 1 and time.monotonic() - started < 0.9
    [pending] = outbox.list_deliveries(live_ctx, "pending")
    assert pending.last_error == "channel incidents: no answer within 0.2 s (the attempt's deadline)"


def test_the_notifier_bounds_every_phase_of_a_request(receiver: Receiver) -> None:
    notify = parse_notify({"notify": {"timeout_seconds": 3}})
    notifier, close = make_notifier(notify)
    try:
        client = notifier._by_type["slack"]._client  # type: ignore[attr-defined]
        timeout = client.timeout
        assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3, 3, 3, 3)
    finally:
        close()
    assert notify.outbox.deadline == timedelta(seconds=3)


def test_the_job_runner_goes_on_while_a_channel_hangs(
    database_url: str, build_app: Callable[..., Any], hanging: Hanging, receiver: Receiver
) -> None:
    from warroom.bootstrap import build_runner
    from warroom.settings import Settings

    notify = {
        "timeout_seconds": HANG_SECONDS,
        "lease_seconds": 10,
        "channels": [
            {"name": "stuck", "type": "slack", "url": hanging.url},
            {"name": "incidents", "type": "slack", "url": receiver.url},
        ],
        "routes": [{"channels": ["stuck", "incidents"]}],
    }
    app = build_app(database_url)
    app = dataclasses.replace(app, settings=Settings(database_url=database_url, raw={"notify": notify}))
    runner = build_runner(app, worker="w")
    try:
        declare(app.context)
        declare(app.context, title="Payments declined")
        started = time.monotonic()
        done = runner.tick()
        # The round waits a second at most for its lanes, then the runner goes on; the
        # hanging attempts finish (fail) in the background.
        assert time.monotonic() - started < HANG_SECONDS
        assert done["deliver_notifications"] == 2 and len(receiver.requests) == 2
    finally:
        closing = time.monotonic()
        runner.close()
        assert time.monotonic() - closing < HANG_SECONDS + 1.0
