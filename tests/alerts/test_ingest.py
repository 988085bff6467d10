"""Ingest semantics on SQLite and PostgreSQL: exact dedup, per-alert state, incident work."""

from __future__ import annotations

import copy
from typing import Any

from warroom.domain.alerts.records import AlertRecord

from .conftest import Hooks, load

AM = "/hooks/alertmanager"


def stored(hooks: Hooks, fingerprint: str, source: str = "alertmanager") -> AlertRecord:
    with hooks.app.context.uow() as uow:
        found = uow.alerts.get(source, fingerprint)
    assert found is not None, fingerprint
    return found


def history(hooks: Hooks, record: AlertRecord) -> list[str]:
    with hooks.app.context.uow() as uow:
        return [status for status, _ in uow.alerts.history(record.id)]


def incidents(hooks: Hooks) -> list[dict[str, Any]]:
    answer = hooks.get("/api/v1/incidents")
    assert answer.status_code == 200, answer.text
    rows: list[dict[str, Any]] = answer.json()
    return rows


def test_a_critical_alert_on_a_tier_1_service_declares_once_however_often_it_is_delivered(
    hooks: Hooks,
) -> None:
    body = load("alertmanager_firing.json")
    first = hooks.post(AM, body)
    assert first.status_code == 200, first.text
    assert first.json()["declared"] == ["INC-1"]
    for _ in range(3):  # redelivery, and the same notification from a second Alertmanager
        again = hooks.post(AM, body)
        assert again.json() | {"status": "success"} == {
            "status": "success",
            "received": 1,
            "new": 0,
            "changed": 0,
            "unchanged": 1,
            "declared": [],
            "updated": [],
            "queued": 0,
        }
    assert [i["id"] for i in incidents(hooks)] == ["INC-1"]
    record = stored(hooks, "115c12e7e9840226")
    assert (record.status, record.incident, record.service, record.team) == (
        "firing",
        1,
        "demo-shop",
        "storefront",
    )
    assert history(hooks, record) == ["firing"]
    room = hooks.show("INC-1")
    assert room["title"] == "DemoHighErrorRatio on demo-shop"
    assert room["severity"] == "SEV2" and "alert policy rule" in room["severity_explanation"]
    assert room["milestones"]["detected_at"]["at"] == "2026-11-26T22:26:25.600000Z"
    assert room["milestones"]["declared_at"]["at"] == "2026-11-26T22:30:00.000000Z"
    assert room["symptom"] == "High 5xx ratio on demo-shop /api/checkout"
    assert room["scope"] == "route: /api/checkout"
    assert [e["kind"] for e in hooks.timeline("INC-1")] == ["incident_declared", "alert_attached"]


def test_each_alert_keeps_its_own_state_inside_a_firing_body(hooks: Hooks) -> None:
    answer = hooks.post(AM, load("alertmanager_firing_with_resolved_alert.json"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["new"] == 3
    assert stored(hooks, "2b9e0c4f6a1d3e57").status == "resolved"
    assert stored(hooks, "115c12e7e9840226").status == "firing"
    attached = [e["payload"]["fingerprint"] for e in hooks.timeline("INC-1") if e["kind"] == "alert_attached"]
    assert sorted(attached) == ["115c12e7e9840226", "7d41a2c9e0b8f613"]


def test_a_resolution_lands_on_the_timeline_and_the_room_nudges_once_all_resolved(hooks: Hooks) -> None:
    hooks.post(AM, load("alertmanager_firing.json"))
    hooks.clock.advance(minutes=3)
    resolved = load("alertmanager_resolved.json")
    for _ in range(2):
        assert hooks.post(AM, resolved).status_code == 200
    kinds = [e["kind"] for e in hooks.timeline("INC-1")]
    assert kinds == ["incident_declared", "alert_attached", "alert_resolved"]
    record = stored(hooks, "115c12e7e9840226")
    assert record.status == "resolved" and history(hooks, record) == ["firing", "resolved"]
    assert "alerts_resolved" in [n["code"] for n in hooks.show("INC-1")["nudges"]]


def test_a_firing_alert_on_a_service_with_an_open_incident_attaches_instead_of_declaring(
    hooks: Hooks,
) -> None:
    hooks.post(AM, load("alertmanager_firing.json"))
    other = load("alertmanager_firing.json")
    other["alerts"][0] |= {"fingerprint": "aaaaaaaaaaaaaaaa", "startsAt": "2026-11-26T22:28:00Z"}
    other["alerts"][0]["labels"] = other["alerts"][0]["labels"] | {"route": "/api/cart"}
    answer = hooks.post(AM, other)
    assert answer.json()["updated"] == ["INC-1"] and answer.json()["declared"] == []
    assert len(incidents(hooks)) == 1
    assert stored(hooks, "aaaaaaaaaaaaaaaa").incident == 1


def test_the_same_alert_firing_again_after_it_resolved_is_a_new_transition(hooks: Hooks) -> None:
    hooks.post(AM, load("alertmanager_firing.json"))
    hooks.post(AM, load("alertmanager_resolved.json"))
    again = load("alertmanager_firing.json")
    again["alerts"][0]["startsAt"] = "2026-11-26T22:29:00Z"
    answer = hooks.post(AM, again)
    assert answer.json()["changed"] == 1 and answer.json()["updated"] == ["INC-1"]
    record = stored(hooks, "115c12e7e9840226")
    assert history(hooks, record) == ["firing", "resolved", "firing"]
    assert record.incident == 1


def trigger(action: str = "trigger") -> dict[str, Any]:
    body: dict[str, Any] = load("pagerduty_trigger.json")
    body["event_action"] = action
    return body


def test_pagerduty_trigger_acknowledge_resolve_and_retrigger_keep_one_alert(hooks: Hooks) -> None:
    key = trigger()["dedup_key"]
    for action in ("trigger", "trigger", "acknowledge", "resolve", "resolve", "trigger"):
        answer = hooks.post("/hooks/pagerduty", trigger(action))
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"status": "success", "message": "Event processed", "dedup_key": key}
    record = stored(hooks, key, "pagerduty")
    assert record.status == "firing" and record.acknowledged_at is None
    assert history(hooks, record) == ["firing", "resolved", "firing"]


def test_pagerduty_trigger_without_a_key_gets_one_to_resolve_it_with(hooks: Hooks) -> None:
    body = trigger()
    del body["dedup_key"]
    key = hooks.post("/hooks/pagerduty", body).json()["dedup_key"]
    assert len(key) == 32
    resolve = {"routing_key": body["routing_key"], "event_action": "resolve", "dedup_key": key}
    assert hooks.post("/hooks/pagerduty", resolve).status_code == 202
    assert stored(hooks, key, "pagerduty").status == "resolved"


def warning_body() -> dict[str, Any]:
    body = copy.deepcopy(load("alertmanager_firing.json"))
    body["alerts"][0]["labels"] = body["alerts"][0]["labels"] | {"severity": "warning"}
    return body


def test_alerts_no_rule_declares_wait_in_the_queue_until_a_responder_declares(hooks: Hooks) -> None:
    answer = hooks.post(AM, warning_body())
    assert answer.json()["queued"] == 1 and answer.json()["declared"] == []
    groups = hooks.get("/api/v1/signals", as_="vic").json()
    assert [(g["service"], g["team"], g["count"]) for g in groups] == [("demo-shop", "storefront", 1)]
    assert groups[0]["firing_since"] == "2026-11-26T22:26:25.600000Z"
    declared = hooks.post(
        "/api/v1/signals/demo-shop/declare", {"severity": "SEV3", "why": "checkout errors"}, as_="alice"
    )
    assert declared.status_code == 201, declared.text
    room = declared.json()
    assert room["id"] == "INC-1" and room["severity"] == "SEV3"
    assert room["milestones"]["detected_at"]["at"] == "2026-11-26T22:26:25.600000Z"
    assert list(room["alerts"]) == ["115c12e7e9840226"]
    assert hooks.get("/api/v1/signals").json() == []


def test_a_responder_attaches_waiting_signals_to_an_open_incident(hooks: Hooks) -> None:
    hooks.post(AM, warning_body())
    incident = hooks.post(
        "/api/v1/incidents", {"title": "Shop errors", "services": ["checkout"]}, as_="alice"
    )
    assert incident.status_code == 201, incident.text
    assert (
        hooks.post("/api/v1/signals/nothing-here/attach", {"incident": "INC-1"}, as_="alice").status_code
        == 404
    )
    answer = hooks.post("/api/v1/signals/demo-shop/attach", {"incident": "INC-1"}, as_="alice")
    assert answer.status_code == 200, answer.text
    # The alert names a route the incident's (empty) scope did not: the scope takes it.
    assert [e["kind"] for e in hooks.timeline("INC-1")][-2:] == ["alert_attached", "scope_widened"]
    assert answer.json()["scope"] == "route: /api/checkout"
    assert stored(hooks, "115c12e7e9840226").incident == 1


def test_a_silence_keeps_signals_out_of_the_queue_and_from_declaring(hooks: Hooks) -> None:
    made = hooks.post(
        "/api/v1/signals/demo-shop/silence", {"until": "2h", "reason": "load test"}, as_="alice"
    )
    assert made.status_code == 201, made.text
    assert made.json()["until"] == "2026-11-27T00:30:00.000000Z"
    answer = hooks.post(AM, load("alertmanager_firing.json"))  # critical on tier 1, yet silenced
    assert answer.json()["declared"] == [] and answer.json()["queued"] == 1
    assert hooks.get("/api/v1/signals").json() == []
    shown = hooks.get("/api/v1/signals", params={"all": "true"}).json()
    assert shown[0]["silenced"]["reason"] == "load test"
    past = hooks.post(
        "/api/v1/signals/demo-shop/silence", {"until": "2020-01-01T00:00:00Z", "reason": "x"}, as_="alice"
    )
    assert past.status_code == 422 and past.json()["field"] == "until"


def test_an_alert_outside_the_catalog_records_ownership_unclear(hooks: Hooks) -> None:
    body = {"labels": {"alertname": "DiskFull", "service": "billing-batch"}, "severity": "critical"}
    assert hooks.post("/hooks/generic", body).status_code == 200
    group = hooks.get("/api/v1/signals").json()[0]
    assert (group["service"], group["team"], group["ownership_unclear"]) == ("billing-batch", "sre", True)
    declared = hooks.post("/api/v1/signals/billing-batch/declare", {}, as_="alice").json()
    facts = [f["text"] for f in declared["facts"]]
    assert facts and facts[0].startswith("ownership unclear: no catalog service matched alert DiskFull")


def test_change_events_are_stored_once_and_show_near_the_incident(hooks: Hooks) -> None:
    hooks.clock.at = hooks.clock.at.replace(minute=21)
    event = load("cloudevents_deploy_structured.json")
    event["data"]["service"] = "demo-shop"
    headers = {"Content-Type": "application/cloudevents+json"}
    for expected in (True, False):
        answer = hooks.post("/hooks/changes", None, content=__import__("json").dumps(event), headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.json()["changes"][0]["created"] is expected
    hooks.clock.at = hooks.clock.at.replace(minute=30)
    hooks.post(AM, load("alertmanager_firing.json"))
    near = hooks.get("/api/v1/incidents/INC-1/changes").json()["changes"]
    assert [c["summary"] for c in near] == ["demo-shop v2.13.2 → v2.14.0 (succeeded)"]


def test_an_incident_declared_from_an_alert_notifies_through_the_outbox(hooks: Hooks) -> None:
    from sqlalchemy import text

    answer = hooks.post(AM, load("alertmanager_firing.json"))
    assert answer.json()["declared"] == ["INC-1"]
    with hooks.app.context.uow() as uow:
        kinds = [row[0] for row in uow.connection.execute(text("SELECT kind FROM outbox WHERE incident = 1"))]
    assert kinds == ["incident_declared"]  # written in the same transaction as the declaration
