"""On call over HTTP: the REST routes (roles, problem+json naming the field, nothing
stored on bad input) and the one-tap acknowledgement link (no login, signed, expiring)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.api.conftest import Api, Clock, TestClient, make_api
from tests.oncall.world import SECRET, oncall_document, settings_for
from warroom.integrations.ack_links import SALT, SignedAckLinks
from warroom.server import create_app


@pytest.fixture
def api(database_url: str, build_app: Callable[..., Any], clock: Clock) -> Api:
    app = build_app(database_url, clock=clock)
    app = dataclasses.replace(app, settings=settings_for(database_url, None))
    return make_api(app, clock, with_web=True)  # the ack link is a web route


def _setup(api: Api) -> None:
    answer = api.post("/api/v1/oncall/apply", oncall_document("http://127.0.0.1:9/hooks"), as_="root")
    assert answer.status_code == 200, answer.text


def test_the_directory_is_declared_by_an_admin_and_read_by_anyone_with_a_token(api: Api) -> None:
    denied = api.post("/api/v1/oncall/apply", oncall_document("http://127.0.0.1:9/x"), as_="alice")
    assert denied.status_code == 403
    _setup(api)
    now = api.get("/api/v1/oncall/now", as_="vic").json()
    assert {row["schedule"]: row["person"] for row in now} == {
        "payments-primary": "alice",
        "incident-commanders": "ivan",
    }
    assert api.get("/api/v1/oncall/now?service=checkout").json()[0]["person"] == "alice"
    people = api.get("/api/v1/oncall/people").json()
    assert all("127.0.0.1" not in c["address"] for p in people for c in p["contacts"])  # redacted
    timeline = api.get("/api/v1/oncall/schedules/payments-primary?days=14").json()
    assert [s["person"] for s in timeline["shifts"]] == ["alice", "bob", "alice"]


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (
            {"schedules": [{"name": "s", "time_zone": "Mars/Base", "layers": []}]},
            "schedules[1].time_zone",
            "not a known time zone",
        ),
        (
            {
                "schedules": [
                    {
                        "name": "s",
                        "time_zone": "UTC",
                        "layers": [{"name": "l", "members": [], "start": "2026-01-01T09:00"}],
                    }
                ]
            },
            "schedules[1].layer.members",
            "no members",
        ),
        (
            {
                "policies": [
                    {"name": "a", "steps": [{"targets": ["policy:b"]}]},
                    {"name": "b", "steps": [{"targets": ["policy:a"]}]},
                ]
            },
            "steps",
            "loop",
        ),
    ],
)
def test_bad_declarations_are_refused_naming_the_field_and_store_nothing(
    api: Api, document: dict[str, Any], field: str, words: str
) -> None:
    document = {"people": [{"handle": "zoe", "name": "Zoe"}], **document}
    answer = api.post("/api/v1/oncall/apply", document, as_="root")
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["field"] == field and words in problem["detail"]
    assert api.get("/api/v1/oncall/people").json() == []


def test_overlapping_overrides_are_refused(api: Api) -> None:
    _setup(api)
    path = "/api/v1/oncall/schedules/payments-primary/overrides"
    first = api.post(path, {"person": "bob", "start": "2026-11-26T18:00Z", "end": "2026-11-27T06:00Z"})
    assert first.status_code == 200, first.text
    second = api.post(path, {"person": "ivan", "start": "2026-11-27T05:00Z", "end": "2026-11-27T08:00Z"})
    assert second.status_code == 422 and "overlaps the override of bob" in second.json()["detail"]
    assert (
        api.get("/api/v1/oncall/now?at=2026-11-26T20:00Z&schedule=payments-primary").json()[0]["person"]
        == "bob"
    )


def test_a_page_by_api_is_acknowledged_with_one_tap_on_the_link(api: Api) -> None:
    _setup(api)
    paged = api.post("/api/v1/pages", {"target": "bob", "reason": "replica lag"})
    assert paged.status_code == 200, paged.text
    page = paged.json()
    assert page["status"] == "triggered" and [n["person"] for n in page["notifications"]] == ["bob"]
    token = SignedAckLinks(SECRET).sign(int(page["id"][2:]), "bob")
    shown = api.client.get(f"/ack/{token}")
    assert shown.status_code == 200 and "Acknowledge as bob" in shown.text
    assert api.get(f"/api/v1/pages/{page['id']}").json()["status"] == "triggered"  # a GET changes nothing
    api.clock.advance(minutes=1, seconds=5)
    done = api.client.post(f"/ack/{token}")
    assert done.status_code == 200 and "Acknowledged by bob after 1 min 5 s" in done.text
    assert api.get(f"/api/v1/pages/{page['id']}").json()["acknowledged_by"] == "bob"
    forged = api.client.post(f"/ack/{token[:-4]}AAAA")
    assert forged.status_code == 400 and "not valid" in forged.text
    resolved = api.post(f"/api/v1/pages/{page['id']}/resolve", {"why": "lag gone"})
    assert resolved.json()["status"] == "resolved"


def test_an_expired_link_acknowledges_nothing(api: Api) -> None:
    _setup(api)
    page = api.post("/api/v1/pages", {"target": "bob"}).json()

    class ThreeDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 3 * 86400

    expired = URLSafeTimedSerializer(SECRET, salt=SALT, signer=ThreeDaysAgo).dumps(
        [int(page["id"][2:]), "bob"]
    )
    answer = api.client.post(f"/ack/{expired}")
    assert answer.status_code == 400 and "expired" in answer.text
    assert api.get(f"/api/v1/pages/{page['id']}").json()["status"] == "triggered"


def test_paging_an_unknown_target_or_incident_is_a_422(api: Api) -> None:
    _setup(api)
    unknown = api.post("/api/v1/pages", {"target": "nobody-here"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "target"
    missing = api.post("/api/v1/pages", {"target": "bob", "incident": "INC-99"})
    assert missing.status_code == 422 and missing.json()["field"] == "incident"


def test_the_calendar_feed_is_rfc_5545_and_needs_its_signed_token(api: Api) -> None:
    from icalendar import Calendar

    from warroom.web.oncall import feed_links

    _setup(api)
    feeds = feed_links(SECRET)
    assert feeds is not None
    answer = api.client.get(f"/oncall/calendar/{feeds.sign('person', 'alice')}.ics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    events = [c for c in Calendar.from_ical(answer.content).walk("VEVENT")]
    assert events and all("alice" in str(e["summary"]) for e in events)
    schedule = api.client.get(f"/oncall/calendar/{feeds.sign('schedule', 'payments-primary')}.ics")
    people = {str(e["summary"]) for e in Calendar.from_ical(schedule.content).walk("VEVENT")}
    assert people == {"On call: alice (payments-primary)", "On call: bob (payments-primary)"}
    assert api.client.get("/oncall/calendar/forged.ics").status_code == 400


def test_the_on_call_page_draws_each_schedule_with_overrides_marked(api: Api) -> None:
    from tests.web.conftest import log_in

    _setup(api)
    api.post(
        "/api/v1/oncall/schedules/payments-primary/overrides",
        {"person": "ivan", "start": "2026-11-27T18:00Z", "end": "2026-11-28T06:00Z"},
    )
    web = TestClient(create_app(api.app, with_web=True), follow_redirects=False)
    assert web.get("/oncall").status_code == 303  # log in first
    log_in(web, api.app, "viewer")
    page = web.get("/oncall")
    assert page.status_code == 200
    assert page.text.count("<svg") == 2 and 'class="override"' in page.text
    assert "ivan: Fri 27 19:00 to Sat 28 07:00 (override)" in page.text


def test_the_rooms_page_someone_button_opens_a_page_the_tick_fires(api: Api) -> None:
    from tests.web.conftest import log_in
    from warroom.bootstrap import build_oncall
    from warroom.services.oncall import escalation

    _setup(api)
    room = api.declare()["id"]
    web = TestClient(create_app(api.app, with_web=True), follow_redirects=False)
    csrf = log_in(web, api.app, "responder")
    assert "Page someone" in web.get(f"/incidents/{room}").text
    answer = web.post(f"/incidents/{room}/page", data={"csrf_token": csrf, "target": "bob", "reason": "DB?"})
    assert answer.status_code == 303, answer.text
    page = api.get(f"/api/v1/pages?incident={room}").json()[0]
    assert page["status"] == "triggered" and page["step"] == 0
    escalation.escalate(api.app.context, build_oncall(api.app))
    assert api.get(f"/api/v1/pages/{page['id']}").json()["step"] == 1
    refused = web.post(f"/incidents/{room}/page", data={"csrf_token": csrf, "target": "nobody-known"})
    assert refused.status_code == 303  # post/redirect/get: back to the form, which says why
    assert "nobody-known" in web.get(refused.headers["location"].split("#")[0]).text


def test_people_contacts_and_overrides_are_managed_on_the_web(api: Api) -> None:
    from tests.web.conftest import log_in

    _setup(api)
    web = TestClient(create_app(api.app, with_web=True), follow_redirects=False)
    csrf = log_in(web, api.app, "admin")
    added = web.post(
        "/oncall/person",
        data={
            "csrf_token": csrf,
            "handle": "zoe",
            "name": "Zoe",
            "time_zone": "Asia/Tokyo",
            "teams": "payments",
        },
    )
    assert added.status_code == 303, added.text
    contact = {
        "csrf_token": csrf,
        "person": "zoe",
        "name": "push",
        "kind": "apprise",
        "address": "ntfy://n.example/zoe",
    }
    assert web.post("/oncall/contact", data=contact).status_code == 303
    page = web.get("/oncall").text
    assert "zoe" in page and "push (apprise: ntfy://…)" in page and "n.example" not in page
    bad = web.post("/oncall/person", data={"csrf_token": csrf, "handle": "yan", "time_zone": "Mars/Base"})
    assert bad.status_code == 422 and "not a known time zone" in bad.text
    assert all(p["handle"] != "yan" for p in api.get("/api/v1/oncall/people").json())
    cover = {
        "csrf_token": csrf,
        "schedule": "payments-primary",
        "person": "zoe",
        "start": "2026-11-26T18:00",
        "end": "2026-11-27T06:00",
    }
    assert web.post("/oncall/override", data=cover).status_code == 303
    assert (
        api.get("/api/v1/oncall/now?schedule=payments-primary&at=2026-11-26T20:00Z").json()[0]["person"]
        == "zoe"
    )
    forged = web.post("/oncall/person", data={"csrf_token": "forged", "handle": "eve"})
    assert forged.status_code == 403


def test_a_viewer_may_look_but_not_change_the_directory(api: Api) -> None:
    from tests.web.conftest import log_in

    _setup(api)
    web = TestClient(create_app(api.app, with_web=True), follow_redirects=False)
    csrf = log_in(web, api.app, "viewer")
    page = web.get("/oncall").text
    assert "Add or change a person" not in page and "Cover a shift" not in page
    refused = web.post("/oncall/person", data={"csrf_token": csrf, "handle": "eve"})
    assert refused.status_code == 403
