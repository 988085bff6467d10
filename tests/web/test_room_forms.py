"""The forms that bring the CLI's remaining verbs to the room and the postmortem page."""

from __future__ import annotations

from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.domain.shared.errors import InvalidTransition
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.learning import operations as lops

from .conftest import log_in


def post(client: TestClient, path: str, csrf: str, **data: str) -> object:
    return client.post(path, data={"csrf_token": csrf, **data})


def test_renaming_records_a_retitled_event_and_shows_everywhere(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    answer = post(
        client, f"/incidents/{incident}/retitle", responder, title="Checkout 502s: gateway v2.14 timeout"
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    ctx = warroom_app.context
    assert ops.show(ctx, incident)["title"] == "Checkout 502s: gateway v2.14 timeout"
    (event,) = [e for e in ops.timeline(ctx, incident) if e["kind"] == "retitled"]
    assert event["payload"] == {"from": "Checkout errors", "to": "Checkout 502s: gateway v2.14 timeout"}
    assert event["actor"] == "alice"
    assert "Checkout 502s: gateway v2.14 timeout" in client.get("/").text  # the list's summary row too
    assert "renamed from “Checkout errors”" in client.get(f"/incidents/{incident}").text
    again = post(
        client, f"/incidents/{incident}/retitle", responder, title="Checkout 502s: gateway v2.14 timeout"
    )
    assert "already titled" in client.get(again.headers["location"]).text  # type: ignore[attr-defined]


def test_a_closed_incident_is_not_renamed(warroom_app: App, incident: str) -> None:
    ctx = warroom_app.context
    ops.set_severity(ctx, "a", incident, {"severity": "SEV3", "why": "small"})
    ops.resolve(ctx, "a", incident, {"summary": "ok", "impact_stopped": True, "risk_controlled": True})
    ops.close(ctx, "a", incident, {})
    try:
        ops.retitle(ctx, "a", incident, {"title": "new"})
    except InvalidTransition as exc:
        assert "closed" in exc.message
    else:
        raise AssertionError("renamed after close")


def test_reassessing_impact_from_the_room_moves_the_severity(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    room = client.get(f"/incidents/{incident}").text
    assert 'name="customer_impact" inputmode="decimal" value="12%"' in room  # prefilled with what holds
    post(
        client,
        f"/incidents/{incident}/assess",
        responder,
        customer_impact="40%",
        critical_journey="checkout",
        financial_per_hour="",
        data_integrity="none",
        security="none",
    )
    view = ops.show(warroom_app.context, incident)
    assert view["impact"]["customer_share"] == 0.4 and view["severity"] == "SEV1"


def test_a_change_recorded_from_the_room_is_listed_near_impact_start(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    answer = post(
        client,
        f"/incidents/{incident}/change",
        responder,
        service="checkout",
        kind="deploy",
        summary="checkout v2.14.0",
        at="2026-01-01T09:55:00",
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"].endswith("#changes")  # type: ignore[attr-defined]
    changes = ops.changes(warroom_app.context, incident)["changes"]
    assert [c["summary"] for c in changes] == ["checkout v2.14.0"] and changes[0]["source"] == "web"


def test_measuring_without_a_metrics_source_says_so_in_the_room(
    client: TestClient, responder: str, incident: str
) -> None:
    answer = post(client, f"/incidents/{incident}/triage", responder)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    page = client.get(answer.headers["location"]).text  # type: ignore[attr-defined]
    assert "impact probe off: checkout: not in the catalog" in page


def test_close_follow_ups_and_the_postmortem_from_the_browser(warroom_app: App, incident: str) -> None:
    with TestClient(create_app(warroom_app), follow_redirects=False) as client:
        _close_follow_ups_and_the_postmortem(
            client, log_in(client, warroom_app, "responder", "alice"), warroom_app, incident
        )


def _close_follow_ups_and_the_postmortem(
    client: TestClient, responder: str, warroom_app: App, incident: str
) -> None:
    ctx = warroom_app.context
    ops.resolve(ctx, "a", incident, {"summary": "ok", "impact_stopped": True, "risk_controlled": True})
    pm = f"/incidents/{incident}/postmortem"
    assert "Draft the postmortem" in client.get(pm).text
    assert (
        post(client, f"/incidents/{incident}/postmortem-draft", responder).headers["location"]
        == f"{pm}#pm-title"
    )  # type: ignore[attr-defined]
    refused = post(client, f"/incidents/{incident}/close", responder)
    assert "publish its postmortem before closing" in client.get(refused.headers["location"]).text  # type: ignore[attr-defined]
    added = post(
        client,
        f"/incidents/{incident}/followup-add",
        responder,
        title="Canary deploys",
        owner="bob",
        due="14d",
        kind="prevent",
    )
    assert added.headers["location"] == f"{pm}#pm-followups"  # type: ignore[attr-defined]
    page = client.get(pm).text
    assert "Canary deploys" in page and "followup-done" in page
    refused = post(client, f"/incidents/{incident}/postmortem-publish", responder)
    assert "is incomplete" in client.get(refused.headers["location"]).text  # type: ignore[attr-defined]
    sections = {
        "trigger": "A deploy changed the gateway timeout.",
        "contributing_factors": [{"type": "change", "text": "The timeout change was not canaried."}],
        "root_cause_chain": ["v2.14 lowered the timeout", "3-D Secure callbacks took longer"],
    }
    lops.postmortem_edit(
        ctx, "bob", incident, {"sections": sections}
    )  # the editing is the CLI's or the API's
    publish = post(client, f"/incidents/{incident}/postmortem-publish", responder)
    assert publish.status_code == 303  # type: ignore[attr-defined]
    if lops.postmortem_show(ctx, incident)["status"] != "published":  # lint findings: publish over them
        post(client, f"/incidents/{incident}/postmortem-publish", responder, override="on", why="reviewed")
    assert lops.postmortem_show(ctx, incident)["status"] == "published"
    post(client, f"/incidents/{incident}/close", responder)
    assert ops.show(ctx, incident)["status"] == "closed"
    done = post(client, f"/incidents/{incident}/followup-done", responder, followup="A1")
    assert done.status_code == 303  # type: ignore[attr-defined]  (follow-ups outlive the close)
    assert lops.postmortem_show(ctx, incident)["followups"][0]["status"] == "done"
