"""Every /api/v1 route needs a live token with the right role."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api

INC = "/api/v1/incidents/INC-1"


def _is_problem(answer: object, status: int) -> None:
    assert answer.status_code == status, answer.text  # type: ignore[attr-defined]
    assert answer.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert answer.json()["status"] == status  # type: ignore[attr-defined]


def test_no_token_is_401_with_a_bearer_challenge(api: Api) -> None:
    for answer in (api.client.get("/api/v1/incidents"), api.client.post("/api/v1/incidents", json={})):
        _is_problem(answer, 401)
        assert answer.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer wr_notatoken", "Bearer ", "Basic YWxpY2U6c2VjcmV0", "wr_raw", "Bearer " + "x" * 5000],
)
def test_unknown_or_malformed_tokens_are_401(sqlite_api: Api, header: str) -> None:
    _is_problem(sqlite_api.client.get("/api/v1/incidents", headers={"Authorization": header}), 401)


def test_a_revoked_token_is_401(api: Api) -> None:
    assert api.get("/api/v1/incidents", as_="vic").status_code == 200
    assert api.client.delete("/api/v1/tokens/vic", headers=api.auth("root")).status_code == 200
    _is_problem(api.get("/api/v1/incidents", as_="vic"), 401)


def test_a_viewer_reads_but_cannot_write(api: Api) -> None:
    api.declare()
    assert api.get(INC, as_="vic").status_code == 200
    _is_problem(api.post(f"{INC}/notes", {"text": "hi"}, as_="vic"), 403)
    _is_problem(api.post("/api/v1/incidents", {"title": "x"}, as_="vic"), 403)


def test_an_ingest_token_cannot_read_or_write_incidents(api: Api) -> None:
    api.declare()
    for answer in (
        api.get("/api/v1/incidents", as_="hook"),
        api.get(INC, as_="hook"),
        api.get(f"{INC}/timeline", as_="hook"),
        api.post(f"{INC}/notes", {"text": "hi"}, as_="hook"),
        api.get("/api/v1/whoami", as_="hook"),
        api.get("/api/v1/tokens", as_="hook"),
    ):
        _is_problem(answer, 403)


def test_only_an_admin_manages_tokens(sqlite_api: Api) -> None:
    for name in ("alice", "vic"):
        _is_problem(sqlite_api.get("/api/v1/tokens", as_=name), 403)
        _is_problem(sqlite_api.post("/api/v1/tokens", {"name": "x", "role": "viewer"}, as_=name), 403)
        _is_problem(sqlite_api.client.delete("/api/v1/tokens/hook", headers=sqlite_api.auth(name)), 403)


def test_an_admin_also_responds(sqlite_api: Api) -> None:
    answer = sqlite_api.post("/api/v1/incidents", {"title": "Login slow"}, as_="root")
    assert answer.status_code == 201
    events = sqlite_api.get("/api/v1/incidents/INC-1/timeline", as_="root").json()["events"]
    assert events[0]["actor"] == "root"


def test_token_admin_endpoints(api: Api) -> None:
    created = api.post("/api/v1/tokens", {"name": "ci-bot", "role": "responder"}, as_="root")
    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("wr_") and created.json()["role"] == "responder"
    listed = api.get("/api/v1/tokens", as_="root").json()
    assert [t["name"] for t in listed] == ["alice", "vic", "root", "hook", "ci-bot"]
    assert all("token" not in t and "hash" not in t for t in listed)
    me = api.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {secret}"}).json()
    assert (me["name"], me["role"], me["active"]) == ("ci-bot", "responder", True)
    again = api.post("/api/v1/tokens", {"name": "ci-bot", "role": "viewer"}, as_="root")
    _is_problem(again, 422)
    assert again.json()["field"] == "name"
    bad_role = api.post("/api/v1/tokens", {"name": "z", "role": "root"}, as_="root")
    assert bad_role.status_code == 422 and bad_role.json()["field"] == "role"
    _is_problem(api.client.delete("/api/v1/tokens/nobody", headers=api.auth("root")), 404)
    revoked = api.client.delete(f"/api/v1/tokens/{me['id']}", headers=api.auth("root")).json()
    assert revoked["active"] is False


def test_an_admin_binds_an_ingest_token_to_its_source(sqlite_api: Api) -> None:
    made = sqlite_api.post(
        "/api/v1/tokens", {"name": "prod-am", "role": "ingest", "source": "alertmanager"}, as_="root"
    )
    assert made.status_code == 201 and made.json()["source"] == "alertmanager"
    listed = {t["name"]: t for t in sqlite_api.get("/api/v1/tokens", as_="root").json()}
    assert listed["prod-am"]["source"] == "alertmanager"
    wrong = sqlite_api.post(
        "/api/v1/tokens", {"name": "v2", "role": "viewer", "source": "grafana"}, as_="root"
    )
    _is_problem(wrong, 422)
    assert wrong.json()["field"] == "source"
    assert "v2" not in {t["name"] for t in sqlite_api.get("/api/v1/tokens", as_="root").json()}


def test_a_viewer_lists_stakeholders_and_a_responder_changes_them(api: Api) -> None:
    api.declare()
    path = "/api/v1/incidents/INC-1/stakeholders"
    _is_problem(api.post(path, {"target": "cfo@example.com"}, as_="vic"), 403)
    _is_problem(api.post(path, {"target": "cfo@example.com"}, as_="hook"), 403)
    added = api.post(path, {"target": "CFO@example.com", "audience": "public"})
    assert added.status_code == 200, added.text
    assert added.json() == [{"target": "cfo@example.com", "audience": "public", "source": "incident"}]
    assert api.get(path, as_="vic").json() == added.json()
    _is_problem(api.post(path, {"target": "not a channel"}), 422)
    assert api.post(f"{path}/remove", {"target": "cfo@example.com"}).json() == []
    kinds = [e["kind"] for e in api.get("/api/v1/incidents/INC-1/timeline").json()["events"]]
    assert kinds[-2:] == ["stakeholder_added", "stakeholder_removed"]
