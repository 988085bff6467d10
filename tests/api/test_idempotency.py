"""A retried POST with the same Idempotency-Key creates nothing new and gets the first answer."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api
from warroom.domain.shared.errors import ConcurrencyConflict

INC = "/api/v1/incidents/INC-1"


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def test_a_retried_declaration_declares_once(api: Api) -> None:
    body = {"title": "Checkout failing", "services": ["checkout"]}
    first = api.post("/api/v1/incidents", body, headers=key("decl-1"))
    api.clock.advance(seconds=30)
    again = api.post("/api/v1/incidents", body, headers=key("decl-1"))
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    assert [row["id"] for row in api.get("/api/v1/incidents").json()] == ["INC-1"]


def test_a_retried_note_is_recorded_once(api: Api) -> None:
    api.declare()
    for _ in range(3):
        answer = api.post(f"{INC}/notes", {"text": "paged the DBA"}, headers=key("note-7"))
        assert answer.status_code == 200
    events = api.get(f"{INC}/timeline").json()["events"]
    assert [e["kind"] for e in events].count("note_added") == 1


def test_different_keys_are_different_requests(api: Api) -> None:
    api.declare()
    api.post(f"{INC}/notes", {"text": "one"}, headers=key("a"))
    api.post(f"{INC}/notes", {"text": "one"}, headers=key("b"))
    api.post(f"{INC}/notes", {"text": "one"})
    events = api.get(f"{INC}/timeline").json()["events"]
    assert [e["kind"] for e in events].count("note_added") == 3


def test_keys_belong_to_one_token(api: Api) -> None:
    api.declare()
    api.post(f"{INC}/notes", {"text": "from alice"}, headers=key("shared"))
    answer = api.post(f"{INC}/notes", {"text": "from alice"}, as_="root", headers=key("shared"))
    assert "idempotent-replayed" not in answer.headers
    actors = [e["actor"] for e in api.get(f"{INC}/timeline").json()["events"] if e["kind"] == "note_added"]
    assert actors == ["alice", "root"]


def test_a_key_reused_for_another_request_is_refused(api: Api) -> None:
    api.declare()
    api.post(f"{INC}/notes", {"text": "one"}, headers=key("k"))
    other_body = api.post(f"{INC}/notes", {"text": "two"}, headers=key("k"))
    assert other_body.status_code == 422 and other_body.json()["field"] == "Idempotency-Key"
    other_path = api.post(f"{INC}/guesses", {"text": "one"}, headers=key("k"))
    assert other_path.status_code == 422


def test_a_refused_request_can_be_retried_with_its_key(api: Api) -> None:
    api.declare()
    refused = api.post(f"{INC}/mitigations/apply", {"mitigation": "M1"}, headers=key("apply-1"))
    assert refused.status_code == 404
    api.post(f"{INC}/mitigations", {"title": "Roll back", "kind": "rollback", "risk": "low"})
    retried = api.post(f"{INC}/mitigations/apply", {"mitigation": "M1"}, headers=key("apply-1"))
    assert retried.status_code == 200 and retried.json()["status"] == "mitigating"


def test_a_malformed_key_is_refused(sqlite_api: Api) -> None:
    sqlite_api.declare()
    for bad in (b"x" * 201, b"tab\tinside", "ключ".encode()):
        answer = sqlite_api.post(f"{INC}/notes", {"text": "x"}, headers={"Idempotency-Key": bad})
        assert answer.status_code == 422 and answer.json()["field"] == "Idempotency-Key"


def test_a_claim_left_by_a_dead_request_expires(sqlite_api: Api) -> None:
    from warroom.services.shared import idempotency

    sqlite_api.declare()
    ctx, path = sqlite_api.app.context, f"{INC}/notes"
    fingerprint = idempotency.request_hash("POST", path, b"{}")
    assert idempotency.claim(ctx, "alice", "crashed", "POST", path, fingerprint) is None  # never answered
    sqlite_api.clock.advance(minutes=1)
    with pytest.raises(ConcurrencyConflict, match="still running"):
        idempotency.claim(ctx, "alice", "crashed", "POST", path, fingerprint)
    sqlite_api.clock.advance(minutes=2)
    assert idempotency.claim(ctx, "alice", "crashed", "POST", path, fingerprint) is None
