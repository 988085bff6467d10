"""An incident's scope is the union of what its alerts name, and the timeline says when it grows."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from warroom.domain.alerts.declaring import AlertFacts, scope_event
from warroom.domain.incidents.events import Event
from warroom.domain.incidents.fold import apply
from warroom.domain.incidents.severity import Impact, IncidentKind, Severity
from warroom.domain.incidents.state import IncidentState
from warroom.domain.learning.timeline import factual_timeline

from .conftest import Hooks, load

AM = "/hooks/alertmanager"
NOW = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
LABELS = ("region", "route")


def state(scope: str) -> IncidentState:
    return IncidentState(
        number=1,
        title="t",
        scope=scope,
        symptom="",
        trigger="",
        kind=IncidentKind.AVAILABILITY,
        services=["demo-shop"],
        impact=Impact(),
        severity=Severity.SEV2,
        severity_explanation="",
        policy_severity=Severity.SEV2,
    )


def alert(fingerprint: str, **labels: str) -> AlertFacts:
    return AlertFacts("alertmanager", fingerprint, "HighErrors", "s", "critical", labels, NOW)


def folded(current: IncidentState, payload: dict[str, Any]) -> IncidentState:
    event = Event(1, current.version + 1, "scope_widened", payload, "am", NOW, NOW, "", "h")
    return apply(current, event)


def test_a_new_route_widens_the_scope_and_a_known_one_does_not() -> None:
    current = state("route: /api/cart")
    assert scope_event(current, [alert("a", route="/api/cart")], LABELS, now=NOW) is None
    event = scope_event(
        current, [alert("b", route="/api/search"), alert("c", route="/api/checkout")], LABELS, now=NOW
    )
    assert event is not None and event.kind == "scope_widened"
    assert event.payload == {
        "scope": "route: /api/cart, /api/checkout, /api/search",
        "added": {"route": ["/api/checkout", "/api/search"]},
        "alerts": ["b", "c"],
        "before": "route: /api/cart",
    }
    after = folded(current, event.payload)
    assert after.scope == "route: /api/cart, /api/checkout, /api/search"
    assert scope_event(after, [alert("d", route="/api/search")], LABELS, now=NOW) is None


def test_a_written_scope_is_kept_and_new_labels_follow_the_policys_order() -> None:
    current = state("EU customers, web checkout; route: /api/cart")
    event = scope_event(
        current, [alert("a", route="/api/pay", region="eu-west", env="prod")], LABELS, now=NOW
    )
    assert event is not None
    assert event.payload["scope"] == "EU customers, web checkout; route: /api/cart, /api/pay; region: eu-west"
    assert event.payload["added"] == {"region": ["eu-west"], "route": ["/api/pay"]}  # env is no scope label
    assert scope_event(state(""), [alert("a", env="prod")], LABELS, now=NOW) is None


def test_a_scope_too_long_to_show_whole_still_remembers_what_it_named() -> None:
    current = state("")
    routes = [f"/api/{'x' * 40}/{n}" for n in range(30)]
    event = scope_event(current, [alert(str(n), route=r) for n, r in enumerate(routes)], LABELS, now=NOW)
    assert event is not None and len(event.payload["scope"]) == 1000 and event.payload["scope"].endswith("…")
    after = folded(current, event.payload)
    assert after.scope_named == {"route": sorted(routes)}
    assert scope_event(after, [alert("z", route=routes[-1])], LABELS, now=NOW) is None  # no widening again


def firing(fingerprint: str, route: str, minute: int) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load("alertmanager_firing.json"))
    body["alerts"][0] |= {"fingerprint": fingerprint, "startsAt": f"2026-11-26T22:{minute:02}:00Z"}
    body["alerts"][0]["labels"] = body["alerts"][0]["labels"] | {"route": route}
    return body


def test_three_alerts_naming_three_routes_give_a_scope_naming_all_three(hooks: Hooks) -> None:
    declared = hooks.post(AM, firing("cart0000cart0000", "/api/cart", 20))
    assert declared.json()["declared"] == ["INC-1"]
    assert hooks.show("INC-1")["scope"] == "route: /api/cart"
    for fingerprint, route in (("chk00000chk00000", "/api/checkout"), ("srch0000srch0000", "/api/search")):
        hooks.clock.advance(minutes=1)
        assert hooks.post(AM, firing(fingerprint, route, 22)).json()["updated"] == ["INC-1"]
    assert hooks.post(AM, firing("cart1111cart1111", "/api/cart", 23)).json()["updated"] == ["INC-1"]
    room = hooks.show("INC-1")
    assert room["scope"] == "route: /api/cart, /api/checkout, /api/search"
    events = hooks.timeline("INC-1")
    widened = [e for e in events if e["kind"] == "scope_widened"]
    assert [(e["payload"]["added"], e["payload"]["alerts"]) for e in widened] == [
        ({"route": ["/api/checkout"]}, ["chk00000chk00000"]),
        ({"route": ["/api/search"]}, ["srch0000srch0000"]),
    ]  # the fourth alert named a route already in scope: no event
    assert [e["kind"] for e in events].count("alert_attached") == 4


def test_signals_attached_by_a_responder_widen_the_scope_too(hooks: Hooks) -> None:
    body = firing("wait0000wait0000", "/api/search", 25)
    body["alerts"][0]["labels"] = body["alerts"][0]["labels"] | {"severity": "warning", "region": "eu-west"}
    assert hooks.post(AM, body).json()["queued"] == 1
    incident = hooks.post(
        "/api/v1/incidents",
        {"title": "Shop errors", "services": ["checkout"], "scope": "route: /api/cart"},
        as_="alice",
    )
    assert incident.status_code == 201, incident.text
    attached = hooks.post("/api/v1/signals/demo-shop/attach", {"incident": "INC-1"}, as_="alice")
    assert attached.status_code == 200, attached.text
    assert attached.json()["scope"] == "route: /api/cart, /api/search; region: eu-west"


def test_the_postmortem_timeline_says_what_the_scope_grew_by() -> None:
    payload = {"scope": "route: /a, /b", "added": {"route": ["/b"]}, "alerts": ["f"], "before": "route: /a"}
    event = Event(1, 2, "scope_widened", payload, "am", NOW, NOW, "", "h")
    declared = Event(
        1,
        1,
        "incident_declared",
        {
            "title": "t",
            "kind": "availability",
            "impact": Impact().to_dict(),
            "severity": "SEV2",
            "policy_severity": "SEV2",
            "explanation": "",
            "milestones": {},
        },
        "am",
        NOW,
        NOW,
        "",
        "g",
    )
    texts = [entry.text for entry in factual_timeline([declared, event])]
    assert "Scope widened by later alerts: route /b" in texts
