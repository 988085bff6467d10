"""The room's first screen: roles, impact and trend, the mitigation tried, impact start."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.web.first_screen import first_screen, impact_start, impact_trend, trying

NOW = datetime(2026, 1, 1, 11, 0, tzinfo=UTC)


def _event(kind: str, at: str, impact: dict[str, Any]) -> dict[str, Any]:
    return {"kind": kind, "occurred_at": at, "payload": {"impact": impact}}


def test_the_trend_compares_the_last_two_assessments() -> None:
    declared = _event("incident_declared", "2026-01-01T10:00:00.000000Z", {"customer_share": 0.12})
    worse = _event("impact_assessed", "2026-01-01T10:20:00.000000Z", {"customer_share": 0.3})
    assert impact_trend([worse, declared], {"customer_share": 0.3}) == "worse than at 10:00 (customers 12%)"
    better = _event("impact_assessed", "2026-01-01T10:30:00.000000Z", {"customer_share": 0.02})
    assert impact_trend([better, worse], {"customer_share": 0.02}).startswith("better than at 10:20")
    assert impact_trend([declared], {"customer_share": 0.12}) == "at declaration 10:00, not re-assessed since"


def test_the_mitigation_tried_is_the_applied_one_before_newer_proposals() -> None:
    items = [
        {"ref": "M1", "state": "applied"},
        {"ref": "M2", "state": "proposed"},
        {"ref": "M3", "state": "reverted"},
    ]
    assert trying(items) == items[0]
    assert trying([{"ref": "M1", "state": "reverted"}]) is None


def test_impact_start_falls_back_to_the_first_alerts_starts_at() -> None:
    by_alert = {
        "detected_at": {
            "at": "2026-01-01T09:58:00.000000Z",
            "by": "am",
            "evidence": "alert X (am f1) startsAt",
        }
    }
    found = impact_start(by_alert)
    assert found is not None and found.at.startswith("2026-01-01T09:58") and "startsAt" in found.source
    by_person = {
        "detected_at": {"at": "2026-01-01T09:58:00.000000Z", "by": "ann", "evidence": "declared by a person"}
    }
    assert impact_start(by_person) is None
    attached = [
        {"name": "CheckoutErrors", "starts_at": "2026-01-01T09:50:00+00:00"},
        {"name": "CheckoutSlow", "starts_at": "2026-01-01T09:41:00Z"},
        {"name": "NoStart", "starts_at": None},
    ]
    derived = impact_start(by_person, attached)
    assert derived is not None and derived.at.startswith("2026-01-01T09:41")
    assert derived.source == "from alert CheckoutSlow"
    assert impact_start(by_person, [{"name": "NoStart", "starts_at": None}]) is None


def test_time_since_detection_stops_at_resolve() -> None:
    incident = {
        "status": "resolved",
        "impact": {"customer_share": 0.1},
        "mitigations": [],
        "milestones": {
            "detected_at": {"at": "2026-01-01T10:00:00.000000Z", "by": "a", "evidence": ""},
            "resolved_at": {"at": "2026-01-01T10:30:00.000000Z", "by": "a", "evidence": ""},
        },
    }
    assert first_screen(incident, [], NOW, newest_page=True)["since_detection"] == "30m 00s"


def test_the_room_opens_with_roles_impact_mitigation_and_countdown(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    ctx = warroom_app.context
    ops.assign_role(ctx, "pager", incident, {"role": "comms", "person": "bob"})
    ops.propose(ctx, "pager", incident, {"title": "Roll back v42", "verification": "rate(errors[5m]) < 0.01"})
    ops.apply(ctx, "pager", incident, {"mitigation": "M1"})
    page = client.get(f"/incidents/{incident}").text
    summary = page[page.index('id="summary"') : page.index('id="impact"')]
    assert "no commander" in summary and "Take command" in summary
    assert "bob" in summary and "customers 12%" in summary
    assert (
        "Roll back v42" in summary
        and "applied, verifying" in summary
        and "rate(errors[5m]) &lt; 0.01" in summary
    )
    assert 'class="countdown"' in summary and "Since detection" in summary
    assert "milestones-table" not in page and page.count('class="countdown"') == 1


def test_take_command_assigns_the_logged_in_person(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    answer = client.post(
        f"/incidents/{incident}/role-assign",
        data={"csrf_token": responder, "role": "commander", "person": "alice"},
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("#summary")
    assert ops.show(warroom_app.context, incident)["roles"]["commander"]["person"] == "alice"
