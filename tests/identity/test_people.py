"""People are one directory, tokens belong to someone, and every event names a person:
through the API with personal and owned service tokens, and roles picked from the
directory, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import dispose
from tests.identity.support import cheap_app
from warroom.bootstrap import App
from warroom.domain.shared.errors import ValidationError
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.identity import accounts, auth


@pytest.fixture
def app(database_url: str) -> Iterator[App]:
    built = cheap_app(database_url)
    accounts.add_user(built.context, "alice", "responder", name="Alice Liddell")
    accounts.add_user(built.context, "bob", "viewer", name="Bob Marley")
    yield built
    dispose(built)


def _client(app: App, token: str) -> TestClient:
    client = TestClient(create_app(app, with_web=False))
    client.headers["Authorization"] = f"Bearer {token}"
    return client


def _declare(client: TestClient) -> str:
    answer = client.post("/api/v1/incidents", json={"title": "Checkout failing", "services": ["checkout"]})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def test_a_personal_token_acts_as_its_person_and_an_owned_service_token_via_itself(app: App) -> None:
    personal, info = auth.create_token(
        app.context, "alice-laptop", "responder", owner="alice", kind="personal"
    )
    bot, _ = auth.create_token(app.context, "deploy-bot", "responder", owner="alice")
    legacy, _ = auth.create_token(app.context, "ci", "responder")
    assert (info.kind, info.owner) == ("personal", "alice")
    with _client(app, personal) as client:
        ref = _declare(client)
        assert client.get("/api/v1/whoami").status_code == 200
    with _client(app, bot) as client:
        assert (
            client.post(f"/api/v1/incidents/{ref}/notes", json={"text": "deploy paused"}).status_code == 200
        )
    with _client(app, legacy) as client:
        assert client.post(f"/api/v1/incidents/{ref}/notes", json={"text": "from ci"}).status_code == 200
        events = client.get(f"/api/v1/incidents/{ref}/timeline").json()["events"]
    assert [(e["actor"], e["via"]) for e in events] == [
        ("alice", None),
        ("alice", "deploy-bot"),
        ("ci", None),
    ]
    listed = {v["name"]: (v["kind"], v["owner"]) for v in _views(app)}
    assert listed == {
        "alice-laptop": ("personal", "alice"),
        "deploy-bot": ("service", "alice"),
        "ci": ("service", None),
    }


def _views(app: App) -> list[dict[str, Any]]:
    return [auth.token_view(t) for t in auth.list_tokens(app.context)]


@pytest.mark.parametrize(
    ("owner", "kind", "role", "problem"),
    [
        (None, "personal", "responder", "acts as its owner"),
        ("nobody", "personal", "viewer", "not in the directory"),
        ("Ålice", "service", "viewer", "is not a handle"),
        ("bob", "personal", "admin", "bob is a viewer"),
        ("alice", "personal", "ingest", "a person's"),
        ("alice", "robot", "viewer", "not one of service, personal"),
    ],
)
def test_tokens_with_an_impossible_owner_are_refused_and_not_stored(
    app: App, owner: str | None, kind: str, role: str, problem: str
) -> None:
    with pytest.raises(ValidationError, match=problem):
        auth.create_token(
            app.context, "t", role, "alertmanager" if role == "ingest" else None, owner=owner, kind=kind
        )
    assert auth.list_tokens(app.context) == []


def test_roles_go_to_people_of_the_directory(app: App) -> None:
    ref = str(ops.declare(app.context, "alice", {"title": "Checkout failing", "services": "checkout"})["id"])
    view = ops.assign_role(app.context, "alice", ref, {"role": "commander", "person": "bob"})
    assert view["roles"]["commander"]["person"] == "bob"
    for person in ("carol", "Bob", "bob\u202e", "x" * 5000, ""):
        with pytest.raises(ValidationError, match="not in the directory; pick a handle \\(alice, bob\\)"):
            ops.assign_role(app.context, "alice", ref, {"role": "scribe", "person": person})
    assert ops.people(app.context) == [
        {"handle": "alice", "name": "Alice Liddell"},
        {"handle": "bob", "name": "Bob Marley"},
    ]


def test_without_a_directory_any_name_may_hold_a_role(sqlite_url: str) -> None:
    app = cheap_app(sqlite_url)
    try:
        ref = str(
            ops.declare(app.context, "cli", {"title": "Checkout failing", "services": "checkout"})["id"]
        )
        view = ops.assign_role(app.context, "cli", ref, {"role": "commander", "person": "whoever"})
        assert view["roles"]["commander"]["person"] == "whoever"
    finally:
        dispose(app)
