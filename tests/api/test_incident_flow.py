"""A whole incident through the REST API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.api.conftest import Api

INC = "/api/v1/incidents/INC-1"

LAST_WORD = {"final_update": "Search is back to normal."}


def test_an_incident_from_declaration_to_close(api: Api) -> None:
    room = api.declare(title="Search results empty", services=["search"], customer_impact="2%")
    assert room["id"] == "INC-1" and room["status"] == "triage"
    assert api.get("/api/v1/incidents", as_="vic").json()[0]["id"] == "INC-1"

    steps = [
        ("roles/assign", {"role": "commander", "person": "dana"}),
        ("roles/handoff", {"role": "commander", "person": "lee", "note": "shift change"}),
        ("facts", {"text": "Shard 3 is read-only", "source": "cluster health"}),
        ("guesses", {"text": "Disk watermark reached"}),
        ("guesses/confirm", {"guess": "G1", "source": "disk at 96%"}),
        ("guesses", {"text": "Mapping change broke queries"}),
        ("guesses/refute", {"guess": "G2", "why": "staging only"}),
        ("decisions", {"text": "Free disk first", "why": "cheap", "alternatives": ["failover"]}),
        ("notes", {"text": "vendor ticket opened", "pinned": True}),
        ("assess", {"customer_impact": 0.04}),
        ("severity", {"severity": "SEV4", "why": "minor"}),
        (
            "mitigations",
            {"title": "Delete old snapshots", "kind": "other", "risk": "low", "authority": "lee"},
        ),
        ("mitigations/approve", {"mitigation": "M1"}),
        ("mitigations/apply", {"mitigation": "M1"}),
        ("mitigations/outcome", {"mitigation": "M1", "outcome": "effective"}),
        ("mitigated", {"evidence": "errors at baseline"}),
        ("updates", {"text": "Recovering.", "audience": "public"}),
        ("resolve", {"summary": "Disk freed", "impact_stopped": True, "risk_controlled": True} | LAST_WORD),
        ("reopen", {"why": "filled up again"}),
        ("resolve", {"summary": "Alert added", "impact_stopped": True, "risk_controlled": True} | LAST_WORD),
        ("close", {}),
    ]
    for path, body in steps:
        answer = api.post(f"{INC}/{path}", body)
        assert answer.status_code == 200, (path, answer.text)
        assert answer.headers["content-type"] == "application/json"

    room = api.get(INC, as_="vic").json()
    assert room["status"] == "closed"
    assert room["roles"]["commander"]["person"] == "lee"
    assert [f["text"] for f in room["facts"]] == ["Shard 3 is read-only", "Disk watermark reached"]
    events = api.get(f"{INC}/timeline?limit=1000").json()["events"]
    assert {e["actor"] for e in events} == {"alice"}, "the actor is the token's name"
    assert api.get("/api/v1/verify", as_="vic").json() == {
        "ok": True,
        "incidents_checked": 1,
        "broken": None,
        "breaks": [],
    }
    assert api.get("/api/v1/verify?incident=INC-1").json()["ok"] is True
    # An incident that does not exist is a 404 problem, and the API's document says so.
    missing = api.get("/api/v1/verify?incident=3")
    assert missing.status_code == 404 and missing.json()["detail"] == "no incident INC-3"
    documented = api.get("/openapi.json").json()["paths"]["/api/v1/verify"]["get"]["responses"]
    assert "application/problem+json" in documented["404"]["content"]


def test_changes_near_an_incident_and_prepared_mitigations(api: Api) -> None:
    api.declare(services=["checkout"], impact_started_at="2026-11-26T09:50:00Z")
    answer = api.post(
        "/api/v1/changes",
        {"service": "checkout", "kind": "deploy", "summary": "v2.41", "at": "2026-11-26T09:45:00Z"},
    )
    assert answer.status_code == 200 and answer.json()["created"] is True and answer.json()["source"] == "api"
    near = api.get(f"{INC}/changes", as_="vic").json()
    assert [c["summary"] for c in near["changes"]] == ["v2.41"]
    assert api.get(f"{INC}/mitigations/prepared", as_="vic").json() == []
    template = api.get(f"{INC}/updates/template", as_="vic").json()
    assert template["incident"] == "INC-1" and template["text"]


def test_an_incident_is_renamed_through_the_api(api: Api) -> None:
    api.declare()
    answer = api.post("/api/v1/incidents/INC-1/retitle", {"title": "Gateway timeout after v2.14"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["title"] == "Gateway timeout after v2.14"
    refused = api.post("/api/v1/incidents/INC-1/retitle", {"title": ""})
    assert refused.status_code == 422 and refused.json()["field"] == "title"
