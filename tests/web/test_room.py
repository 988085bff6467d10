"""The incident list, the declare form and the room's forms, through the ASGI client."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.services import operations as ops

DECLARE = {
    "title": "Search is slow",
    "services": "search, api",
    "kind": "latency",
    "customer_impact": "30%",
    "scope": "all users",
    "symptom": "p99 8s",
    "trigger": "alert SearchLatency",
    "critical_journey": "",
    "financial_per_hour": "",
    "data_integrity": "none",
    "security": "none",
    "severity": "",
    "why": "",
    "detected_at": "2026-01-01T10:05",
    "impact_started_at": "2026-01-01T10:00:00",
}


def post(client: TestClient, path: str, csrf: str, **data: str) -> object:
    return client.post(path, data={"csrf_token": csrf, **data})


def test_declaring_from_the_form_opens_the_room(client: TestClient, warroom_app: App, responder: str) -> None:
    answer = client.post("/incidents", data={"csrf_token": responder, **DECLARE})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/incidents/INC-1"
    view = ops.show(warroom_app.context, "INC-1")
    assert view["severity"] == "SEV1" and view["services"] == ["search", "api"]
    assert view["milestones"]["detected_at"]["at"] == "2026-01-01T10:05:00.000000Z"
    assert view["milestones"]["detected_at"]["by"] == "alice"
    room = client.get("/incidents/INC-1")
    assert "Search is slow" in room.text and "customer impact 30%" in room.text
    assert "<svg" in room.text and "time to detect" in room.text


def test_a_refused_declaration_rerenders_the_form_with_the_message_and_values(
    client: TestClient, responder: str
) -> None:
    answer = client.post(
        "/incidents", data={"csrf_token": responder, **DECLARE, "severity": "SEV4", "title": "Keep me"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/#declare-h"
    page = client.get("/").text
    assert "needs a reason in Why" in page and "--why" not in page
    assert 'value="Keep me"' in page
    assert 'value="Keep me"' not in client.get("/").text  # once


def test_the_list_shows_open_incidents_first_and_filters(
    client: TestClient, warroom_app: App, responder: str
) -> None:
    ctx = warroom_app.context
    first = ops.declare(ctx, "a", {"title": "Old thing", "services": "api"})["id"]
    ops.resolve(ctx, "a", first, {"summary": "ok", "impact_stopped": True, "risk_controlled": True})
    ops.declare(ctx, "a", {"title": "New thing", "services": "search"})
    page = client.get("/").text
    assert page.index("New thing") < page.index("Old thing")
    assert "Old thing" not in client.get("/?status=triage").text
    assert "New thing" not in client.get("/?service=api").text
    assert client.get("/?severity=SEV9").status_code == 422


def test_adding_a_fact_records_the_token_name_as_actor(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    answer = post(client, f"/incidents/{incident}/fact", responder, text="5xx at 12%", source="grafana")
    assert answer.status_code == 303  # type: ignore[attr-defined]
    assert answer.headers["location"] == f"/incidents/{incident}#ledger"  # type: ignore[attr-defined]
    (fact,) = ops.show(warroom_app.context, incident)["facts"]
    assert fact["by"] == "alice" and fact["source"] == "grafana"
    assert "5xx at 12%" in client.get(f"/incidents/{incident}").text


def test_guesses_are_confirmed_or_refuted_from_the_room(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    post(client, f"/incidents/{incident}/guess", responder, text="bad deploy")
    post(client, f"/incidents/{incident}/guess", responder, text="cosmic rays")
    post(client, f"/incidents/{incident}/confirm", responder, guess="G1", source="diff of v42")
    post(client, f"/incidents/{incident}/refute", responder, guess="G2", why="no such thing")
    view = ops.show(warroom_app.context, incident)
    assert [f["ref"] for f in view["facts"]] == ["G1"]
    assert [g["ref"] for g in view["refuted_guesses"]] == ["G2"]


def test_roles_are_assigned_then_handed_off_with_a_note(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    post(client, f"/incidents/{incident}/role-assign", responder, role="commander", person="bob", note="")
    answer = post(
        client,
        f"/incidents/{incident}/role-handoff",
        responder,
        role="commander",
        person="carol",
        note="shift",
    )
    assert answer.status_code == 303  # type: ignore[attr-defined]
    view = ops.show(warroom_app.context, incident)
    assert view["roles"]["commander"]["person"] == "carol"
    room = client.get(f"/incidents/{incident}").text
    assert "commander handed off from bob to carol: shift" in room


def test_a_mitigation_goes_from_proposed_to_applied_to_effective(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    path = f"/incidents/{incident}"
    post(
        client,
        f"{path}/propose",
        responder,
        title="Roll back",
        kind="rollback",
        risk="low",
        expected_minutes="3",
        authority="",
        changes="v42 to v41",
        steps="undo rollout\ncheck pods\n",
        verification="",
    )
    post(client, f"{path}/apply", responder, mitigation="M1", changes="")
    post(client, f"{path}/outcome", responder, mitigation="M1", outcome="effective", note="errors gone")
    (mitigation,) = ops.show(warroom_app.context, incident)["mitigations"]
    assert mitigation["state"] == "effective"
    assert mitigation["steps"] == ["undo rollout", "check pods"]
    assert mitigation["reversible"] is False  # the checkbox was not sent


def test_a_decision_and_an_update_from_the_forms(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    path = f"/incidents/{incident}"
    room = client.get(path).text
    draft = re.search(r'<textarea id="upd-text"[^>]*>([^<]*)</textarea>', room)
    assert draft is not None and "INC-1 [SEV2] Checkout errors" in draft.group(1)
    post(client, f"{path}/decide", responder, text="roll back", why="fastest", alternatives="wait, scale")
    post(client, f"{path}/update", responder, text="Rolling back.", audience="public")
    view = ops.show(warroom_app.context, incident)
    assert view["decisions"][0]["alternatives"] == ["wait", "scale"]
    assert view["decisions"][0]["reversible"] is True
    assert view["updates"][0]["audience"] == "public"


def test_resolving_needs_both_explicit_checkboxes(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    path = f"/incidents/{incident}"
    refused = post(client, f"{path}/resolve", responder, summary="fixed", impact_stopped="on")
    assert refused.status_code == 303  # type: ignore[attr-defined]
    assert refused.headers["location"] == f"{path}#act-resolve"  # type: ignore[attr-defined]
    page = client.get(path).text
    assert "“Risk is controlled”: state that risk is controlled" in page
    assert "risk_controlled:" not in page and "--risk-controlled" not in page
    assert 'role="alert"' in page
    done = post(
        client, f"{path}/resolve", responder, summary="fixed", impact_stopped="on", risk_controlled="on"
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert ops.show(warroom_app.context, incident)["status"] == "resolved"


def refused(client: TestClient, answer: Any, message: str) -> str:
    """Refused: back (303) to the page the form is on, which shows ``message`` once."""
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"])
    assert page.status_code == 200 and message in page.text, page.text
    return str(answer.headers["location"])


def test_domain_refusals_redirect_back_with_the_message_never_500(
    client: TestClient, responder: str, incident: str
) -> None:
    path = f"/incidents/{incident}"
    handoff = post(client, f"{path}/role-handoff", responder, role="scribe", person="x", note="n")
    assert refused(client, handoff, "scribe on INC-1 is empty") == f"{path}#act-roles"
    assigned = post(client, f"{path}/role-assign", responder, role="commander", person="bob")
    again = post(client, f"{path}/role-assign", responder, role="commander", person="carol")
    assert assigned.status_code == 303  # type: ignore[attr-defined]
    page = client.get(refused(client, again, "held by bob")).text
    assert "warroom role handoff" not in page
    refused(client, post(client, f"{path}/confirm", responder, guess="G9"), "G9")
    refused(client, post(client, f"{path}/fact", responder, text="", source=""), "Text:")
    refused(client, post(client, f"{path}/severity", responder, severity="SEV9"), "SEV9")
    assert post(client, f"{path}/launch-missiles", responder).status_code == 404  # type: ignore[attr-defined]
    assert post(client, "/incidents/INC-404/fact", responder, text="x", source="y").status_code == 404  # type: ignore[attr-defined]
    assert post(client, "/incidents/nonsense/fact", responder, text="x", source="y").status_code == 404  # type: ignore[attr-defined]
    assert client.get("/incidents/INC-404").status_code == 404
    assert client.get("/incidents/%3Cx%3E").status_code == 404


def test_hostile_text_renders_inert(client: TestClient, warroom_app: App, responder: str) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post("/incidents", data={"csrf_token": responder, **DECLARE, "title": hostile})
    post(client, "/incidents/INC-1/fact", responder, text=hostile, source=hostile)
    post(client, "/incidents/INC-1/role-assign", responder, role="commander", person=hostile)
    for page in (client.get("/").text, client.get("/incidents/INC-1").text):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(" in page
    headers = client.get("/incidents/INC-1").headers
    assert "script-src 'self'" in headers["content-security-policy"]


def test_the_timeline_shows_the_latest_hundred_events_with_a_link_to_older_ones(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    for n in range(130):
        ops.note(warroom_app.context, "bob", incident, {"text": f"note number {n}"})
    page = client.get(f"/incidents/{incident}").text
    assert page.count('<li class="ev ') == 100
    assert "note number 129" in page and "note number 28 " not in page
    older = re.search(r'href="(/incidents/INC-1\?before=\d+)#timeline"', page)
    assert older is not None
    rest = client.get(older.group(1)).text
    assert rest.count('<li class="ev ') == 31  # 30 notes and the declaration
    assert "declared SEV2" in rest and "« latest" in rest


def test_the_fragment_carries_the_live_sections_and_the_version(
    client: TestClient, responder: str, incident: str
) -> None:
    answer = client.get(f"/incidents/{incident}/fragment")
    assert answer.status_code == 200
    assert answer.headers["x-warroom-version"] == "1"
    sections = re.findall(r'<section id="(\w+)" data-live', answer.text)
    assert sections == [
        "summary",
        "impact",
        "alerts",
        "updates",
        "roles",
        "ledger",
        "decisions",
        "mitigations",
        "changes",
        "timeline",
    ]
    assert "<html" not in answer.text


def test_static_files_are_served_and_others_are_not(client: TestClient) -> None:
    css = client.get("/static/warroom.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/static/room.js").headers["content-type"].startswith("text/javascript")
    assert client.get("/static/..%2Froutes.py").status_code == 404
    assert client.get("/static/routes.py").status_code == 404


def test_the_pages_single_read_shows_what_operations_room_shows(warroom_app: App, incident: str) -> None:
    from warroom.web.room_view import room_page

    ctx = warroom_app.context
    ops.fact(ctx, "a", incident, {"text": "f", "source": "s"})
    ops.add_change(ctx, "ci", {"service": "checkout", "kind": "deploy", "summary": "v42"})
    expected = ops.room(ctx, incident)
    expected_events = ops.timeline(ctx, incident, limit=100, newest_first=True)
    view, events, draft = room_page(ctx, incident, before=None, limit=100, with_draft=True)
    expected.pop("recent_events")
    assert view.pop("stakeholders") == ops.stakeholders(ctx, incident)
    assert view.pop("delivery_notices") == []  # the page's own, like the stakeholders
    assert view.pop("attached_alerts") == []  # the room's own: the alert store's details
    assert view.pop("reach")["public"]["subscribers"] == 0  # the update form's own: who it reaches
    for derived in ("nudges", "update_overdue"):  # computed at "now"; equal here, but not by definition
        assert view.pop(derived) == expected.pop(derived)
    assert view == expected
    assert events == expected_events
    assert draft.splitlines()[0] == ops.update_template(ctx, incident)["text"].splitlines()[0]


def test_the_room_links_to_its_postmortem_and_every_page_to_the_report(
    client: TestClient, responder: str, incident: str
) -> None:
    page = client.get(f"/incidents/{incident}").text
    assert f'href="/incidents/{incident}/postmortem"' in page
    assert 'href="/report"' in page


def test_a_room_whose_timeline_was_edited_outside_warroom_says_so(
    client: TestClient, warroom_app: App, responder: str
) -> None:
    from sqlalchemy import text

    ops.declare(warroom_app.context, "alice", {"title": "Checkout 5xx", "services": ["checkout"]})
    ops.fact(warroom_app.context, "alice", "INC-1", {"text": "5xx at 12%", "source": "Grafana"})
    with warroom_app.context.uow() as uow:
        uow.connection.execute(text("UPDATE events SET payload = '{}' WHERE incident = 1 AND seq = 2"))  # type: ignore[attr-defined]
        uow.commit()
    page = client.get("/incidents/INC-1")
    assert page.status_code == 500
    assert "INC-1 event #2 (fact_recorded) cannot be read" in page.text and "warroom verify" in page.text


def test_the_comms_lead_adds_and_removes_stakeholders_from_the_room(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    room = f"/incidents/{incident}"
    assert "Nobody gets this incident" in client.get(room).text
    added = post(client, f"{room}/stakeholder-add", responder, target="CFO@example.com", audience="public")
    assert added.status_code == 303  # type: ignore[attr-defined]
    assert added.headers["location"] == f"{room}#stakeholders"  # type: ignore[attr-defined]
    page = client.get(room).text
    assert "Stakeholders (1)" in page and "cfo@example.com" in page and "added here" in page
    answer = post(client, f"{room}/stakeholder-add", responder, target="not a channel")
    assert refused(client, answer, 'value="not a channel"') == f"{room}#stakeholders"  # kept for fixing
    assert "is neither an email address nor a channel name" not in client.get(room).text  # shown once
    removed = post(client, f"{room}/stakeholder-remove", responder, target="cfo@example.com")
    assert removed.status_code == 303  # type: ignore[attr-defined]
    assert ops.stakeholders(warroom_app.context, incident) == []


def test_the_timeline_names_people_and_the_services_acting_for_them(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    from warroom.services.oncall import directory

    ctx = warroom_app.context
    directory.put_person(ctx, {"handle": "alice", "name": "Alice Ng"})
    ops.fact(ctx, "alice", incident, {"text": "5xx at 12%", "source": "grafana"})
    ops.fact(ctx, "alice via deploy-bot", incident, {"text": "v2 is out", "source": "ci"})
    page = client.get(f"/incidents/{incident}").text
    actors = re.findall(r'<span class="actor" title="recorded as ([^"]+)">([^<]+)</span>', page)
    assert ("alice", "Alice Ng (alice)") in actors
    assert ("alice via deploy-bot", "deploy-bot (service, owner Alice Ng)") in actors
    assert ("pager", "pager") in actors  # unknown to the directory and the tokens: as recorded


def test_the_roles_name_their_holders_as_people(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    from warroom.services.oncall import directory

    ctx = warroom_app.context
    directory.put_person(ctx, {"handle": "alice", "name": "Alice Ng"})
    directory.put_person(ctx, {"handle": "bob", "name": "Bob Okafor"})
    ops.assign_role(ctx, "alice", incident, {"role": "commander", "person": "alice"})
    ops.hand_off_role(ctx, "alice", incident, {"role": "commander", "person": "bob", "note": "night shift"})
    from warroom.services.learning import operations as lops

    lops.followup_add(
        ctx, "bob", incident, {"title": "Alert on retries", "owner": "alice", "due": "14d", "kind": "detect"}
    )
    page = client.get(f"/incidents/{incident}").text
    tile = re.search(
        r'<div class="tile role-tile">\s*<dt>Commander</dt>\s*<dd><strong>([^<]+)</strong>', page
    )
    assert tile is not None and tile.group(1) == "Bob Okafor (bob)"
    assert "commander: Alice Ng (alice)," in page  # who held it before, in the role history
    assert "(held by Bob Okafor (bob))" in page  # the role form's choices
    # the timeline's descriptions of the role events name the people too
    assert "Alice Ng (alice) took commander" in page
    assert "commander handed off from Alice Ng (alice) to Bob Okafor (bob): night shift" in page
    assert "follow-up: Alert on retries (owner Alice Ng (alice))" in page
