"""An update that reaches no configured channel says so, and the room shows every channel
of the incident that is failing or holds dead letters. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import pytest

from tests.comms.support import FakeClock, Receiver, Sender
from tests.comms.test_outbox import declare
from warroom.domain.incidents.catalog import Catalog, Playbook, Service, StatusEntry
from warroom.integrations.notifiers import RecordingNotifier
from warroom.integrations.notify_config import parse_notify
from warroom.services import operations as ops
from warroom.services.comms import delivery, outbox
from warroom.services.identity import auth
from warroom.services.shared.context import Context
from warroom.settings import Settings
from warroom.web.room_view import room_page

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

# The room: two playbook channels and an email address, and no channel configured.
CATALOG = Catalog(
    services=[
        Service(
            "checkout",
            "storefront",
            playbook=Playbook(stakeholders=["payments-eng", "support-leads", "cfo@example.com"]),
            status_page=StatusEntry("checkout"),  # subscribers follow it by this public name
        )
    ]
)


def app_with(build_app: Callable[..., Any], url: str, clock: FakeClock, notify: dict[str, Any] | None) -> Any:
    built = build_app(url, clock=clock)
    settings = Settings(database_url=url, raw={"notify": notify} if notify else {})
    config = parse_notify(settings.raw).outbox
    context = dataclasses.replace(
        built.context,
        load_catalog=lambda: CATALOG,
        load_outbox=lambda: config,
        load_channels=lambda: frozenset(config.channels),
    )
    return dataclasses.replace(built, settings=settings, context=context)


def room_html(app: Any, ref: str) -> str:
    from fastapi import FastAPI

    from warroom.web.routes import build_router

    web = FastAPI()
    web.include_router(build_router())
    web.state.warroom = app
    plain, _ = auth.create_token(app.context, "watcher", "responder")
    with TestClient(web) as client:
        page = client.get("/login")
        token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"token": plain, "csrf_token": token, "next": "/"})
        answer = client.get(f"/incidents/{ref}")
        assert answer.status_code == 200, answer.text
        return answer.text


def test_an_update_with_no_channel_configured_says_who_it_does_not_reach(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock
) -> None:
    app = app_with(build_app, database_url, clock, None)
    ctx: Context = app.context
    ref = declare(ctx)
    posted = ops.update(ctx, "lee", ref, {"text": "Investigating.", "audience": "internal"})
    assert posted["notify"] == {
        "channels": [],
        "warnings": [
            "stakeholder payments-eng: no channel configured ([[notify.channels]] name payments-eng, "
            "see docs/notifications.md)",
            "stakeholder support-leads: no channel configured ([[notify.channels]] name support-leads, "
            "see docs/notifications.md)",
            "stakeholder cfo@example.com: no SMTP server configured for email ([notify.smtp], "
            "see docs/notifications.md)",
            f"this update reaches no one: no configured channel is a stakeholder of {ref} or routes "
            "status updates (see docs/notifications.md)",
        ],
    }

    # The outbox no longer swallows them: each stakeholder's delivery is dead with its reason.
    report = delivery.deliver(ctx, app.context.outbox, RecordingNotifier())
    assert (report.routed, report.dead) == (2, 3)  # the declaration goes nowhere, silently
    dead = {d.channel: d.last_error for d in outbox.list_deliveries(ctx, "all")}
    assert dead == {
        "payments-eng": "no channel named payments-eng in [[notify.channels]]",
        "support-leads": "no channel named support-leads in [[notify.channels]]",
        "email:cfo@example.com": "no SMTP server is configured ([notify.smtp])",
    }

    view, _, _ = room_page(ctx, ref, before=None, limit=10, with_draft=False)
    assert [s["gap"] is not None for s in view["stakeholders"]] == [True, True, True]
    assert view["delivery_notices"] == posted["notify"]["warnings"][:3]  # no repeat per dead letter
    html = room_html(app, ref)
    assert "Notifications not getting through" in html
    assert "stakeholder payments-eng: no channel configured" in html
    assert html.count("gets nothing: no channel configured") == 2


def test_an_update_to_configured_channels_names_them_and_warns_of_nothing(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver
) -> None:
    notify = {
        "channels": [
            {"name": "payments-eng", "type": "slack", "url": receiver.url},
            {"name": "support-leads", "type": "slack", "url": receiver.url},
            {"name": "incidents", "type": "slack", "url": receiver.url},
        ],
        "smtp": {"host": "127.0.0.1", "port": 2525},
        "routes": [{"channels": ["incidents"], "kinds": ["status_update_posted"]}],
    }
    app = app_with(build_app, database_url, clock, notify)
    ref = declare(app.context)
    posted = ops.update(app.context, "lee", ref, {"text": "Investigating."})
    assert posted["notify"] == {
        "channels": ["incidents", "payments-eng", "support-leads", "email:cfo@example.com"],
        "warnings": [],
    }
    view, _, _ = room_page(app.context, ref, before=None, limit=10, with_draft=False)
    assert view["delivery_notices"] == [] and all(s["gap"] is None for s in view["stakeholders"])
    assert "Notifications not getting through" not in room_html(app, ref)


def test_the_room_shows_a_failing_channel_and_dead_letters_of_this_incident(
    database_url: str,
    build_app: Callable[..., Any],
    clock: FakeClock,
    receiver: Receiver,
    sender: Sender,
) -> None:
    notify = {
        "circuit_failures": 1,
        "channels": [
            {"name": "incidents", "type": "slack", "url": receiver.url + "/down"},
            {"name": "bridge", "type": "slack", "url": receiver.url + "/gone"},
            {"name": "payments-eng", "type": "slack", "url": receiver.url},
            {"name": "support-leads", "type": "slack", "url": receiver.url},
        ],
        "smtp": {"host": "127.0.0.1", "port": 2525},
        "routes": [{"channels": ["incidents", "bridge"], "kinds": ["incident_declared"]}],
    }
    receiver.respond = lambda r: (503, {}) if r.path.endswith("/down") else (410, {})
    app = app_with(build_app, database_url, clock, notify)
    ctx: Context = app.context
    ref = declare(ctx)
    delivery.deliver(ctx, ctx.outbox, sender(parse_notify({"notify": notify})))
    view, _, _ = room_page(ctx, ref, before=None, limit=10, with_draft=False)
    assert view["delivery_notices"] == [
        "Channel bridge: 1 of this incident's notifications was given up (dead letters: "
        "`warroom outbox list`, `warroom outbox retry`). Last: channel bridge: HTTP 410 (permanent refusal)",
        "Channel incidents is failing: 1 attempt in a row failed, so nothing is sent to it until "
        "10:01:00 UTC; 1 of this incident's notifications waits. Last error: channel incidents: HTTP 503",
    ]
    html = room_html(app, ref)
    assert "Channel incidents is failing" in html and "Channel bridge: 1 of" in html

    other = declare(ctx, title="Payments declined")
    outbox.route_pending(ctx, ctx.outbox)  # its declaration waits for the same failing channel
    [notice] = room_page(ctx, other, before=None, limit=10, with_draft=False)[0]["delivery_notices"]
    assert notice.startswith("Channel incidents is failing")  # no dead letter of its own at bridge


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
