"""The room's update form says, before posting, who each audience's update will reach and
who it will not (and why), public subscribers included. On SQLite and PostgreSQL."""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from typing import Any

from tests.comms.support import FakeClock, Receiver
from tests.comms.test_outbox import declare
from tests.comms.test_reach import app_with, room_html
from warroom.web.room_view import room_page


def reach_lines(page: str) -> dict[str, str]:
    found = re.findall(r'<li class="reach-(\w+)">(.*?)</li>', page, re.S)
    return {
        audience: " ".join(htmllib.unescape(re.sub(r"<[^>]+>", "", text)).split()) for audience, text in found
    }


def test_with_nothing_configured_the_form_says_the_update_reaches_no_one_and_why(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock
) -> None:
    app = app_with(build_app, database_url, clock, None)
    ref = declare(app.context)
    lines = reach_lines(room_html(app, ref))
    assert lines["internal"] == (
        "Internal will reach: no one; will not reach: payments-eng (no channel configured "
        "([[notify.channels]] name payments-eng, see docs/notifications.md)), support-leads (no channel "
        "configured ([[notify.channels]] name support-leads, see docs/notifications.md)), cfo@example.com "
        "(no SMTP server configured for email ([notify.smtp], see docs/notifications.md))"
    )
    # Internal stakeholders hear public updates too, so they are missed there as well.
    assert lines["public"].startswith("Public will reach: the status page; will not reach: payments-eng (")


def test_configured_channels_and_public_subscribers_are_named(
    database_url: str, build_app: Callable[..., Any], clock: FakeClock, receiver: Receiver
) -> None:
    notify = {
        "channels": [
            {"name": "payments-eng", "type": "slack", "url": receiver.url},
            {"name": "incidents", "type": "slack", "url": receiver.url},
        ],
        "routes": [{"channels": ["incidents"]}],
    }
    app = app_with(build_app, database_url, clock, notify)
    ref = declare(app.context)
    with app.context.uow() as uow:
        for target in ("a@example.com", "b@example.com"):
            uow.subscribers.add(
                "email", target, services=["checkout"], state="confirmed", secret=None, at=clock.now()
            )
        uow.subscribers.add(
            "email", "c@example.com", services=["search"], state="confirmed", secret=None, at=clock.now()
        )
        uow.subscribers.add(
            "email", "d@example.com", services=[], state="pending", secret=None, at=clock.now()
        )
        uow.commit()
    view, _, _ = room_page(app.context, ref, before=None, limit=10, with_draft=False)
    assert view["reach"]["internal"]["reach"] == ["incidents", "payments-eng"]
    assert [m["target"] for m in view["reach"]["internal"]["miss"]] == ["support-leads", "cfo@example.com"]
    public = view["reach"]["public"]
    assert (public["reach"], public["subscribers"]) == (["incidents", "payments-eng"], 2)
    assert [m["target"] for m in public["miss"]] == ["support-leads", "cfo@example.com"]
    assert reach_lines(room_html(app, ref))["public"].startswith(
        "Public will reach: the status page, 2 subscribers, incidents, payments-eng; will not reach: support-leads ("
    )
