"""Login with a token, the signed session cookie, CSRF on every form, and roles."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.services import operations as ops
from warroom.services.identity import auth
from warroom.web.session import COOKIE

from .conftest import csrf_of, log_in


@pytest.mark.parametrize("path", ["/", "/incidents/INC-1", "/?status=triage"])
def test_anonymous_visitors_are_sent_to_login_and_back(client: TestClient, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=%2F")


def test_anonymous_live_endpoints_answer_401(client: TestClient, incident: str) -> None:
    assert client.get(f"/incidents/{incident}/fragment").status_code == 401
    assert client.get(f"/incidents/{incident}/events").status_code == 401


def test_anonymous_posts_are_sent_to_login(client: TestClient, incident: str) -> None:
    answer = client.post(f"/incidents/{incident}/fact", data={"text": "x", "source": "y"})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")


def test_the_status_and_login_pages_are_public(client: TestClient) -> None:
    assert client.get("/status").status_code == 200
    assert client.get("/login").status_code == 200


def test_logging_in_sets_a_signed_http_only_cookie_and_returns_to_next(
    client: TestClient, warroom_app: App
) -> None:
    plain, _ = auth.create_token(warroom_app.context, "alice", "responder")
    page = client.get("/login?next=/incidents/INC-3")
    answer = client.post(
        "/login", data={"token": plain, "csrf_token": csrf_of(page.text), "next": "/incidents/INC-3"}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/incidents/INC-3"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert plain not in cookie
    assert "alice" in client.get("/").text


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example", "/\\evil.example", "/\t/evil.example", "/\n/evil.example"],
)
def test_login_never_redirects_off_site(client: TestClient, warroom_app: App, target: str) -> None:
    plain, _ = auth.create_token(warroom_app.context, "alice", "responder")
    page = client.get("/login")
    answer = client.post("/login", data={"token": plain, "csrf_token": csrf_of(page.text), "next": target})
    assert answer.headers["location"] == "/"


def shown_after(client: TestClient, answer: Any, message: str) -> str:
    """A refused post redirects (post/redirect/get); the page it leads to says why, once."""
    assert answer.status_code == 303, answer.text
    page = client.get(answer.headers["location"]).text
    assert message in page
    assert message not in client.get(answer.headers["location"]).text  # shown once
    return str(answer.headers["location"])


def test_a_wrong_token_is_refused_on_the_login_page(client: TestClient) -> None:
    page = client.get("/login?next=/incidents/INC-2")
    answer = client.post(
        "/login", data={"token": "wr_nope", "csrf_token": csrf_of(page.text), "next": "/incidents/INC-2"}
    )
    location = shown_after(client, answer, "Unknown or revoked token")
    assert location == "/login?next=%2Fincidents%2FINC-2"


def test_an_ingest_token_cannot_log_in(client: TestClient, warroom_app: App) -> None:
    plain, _ = auth.create_token(warroom_app.context, "alertmanager", "ingest")
    page = client.get("/login")
    answer = client.post("/login", data={"token": plain, "csrf_token": csrf_of(page.text)})
    shown_after(client, answer, "may only post webhooks")
    assert client.get("/").status_code == 303


def test_login_without_the_forms_csrf_token_is_refused(client: TestClient, warroom_app: App) -> None:
    plain, _ = auth.create_token(warroom_app.context, "alice", "responder")
    client.get("/login")
    answer = client.post("/login", data={"token": plain, "csrf_token": "forged"})
    shown_after(client, answer, "The login form expired")
    assert client.get("/").status_code == 303


def test_a_tampered_cookie_is_no_session(client: TestClient, warroom_app: App) -> None:
    log_in(client, warroom_app, "responder")
    value = client.cookies[COOKIE]
    client.cookies.set(COOKIE, value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert client.get("/").status_code == 303


def test_a_revoked_token_ends_its_sessions_at_once(client: TestClient, warroom_app: App) -> None:
    log_in(client, warroom_app, "responder", "mallory")
    assert client.get("/").status_code == 200
    auth.revoke_token(warroom_app.context, "mallory")
    assert client.get("/").status_code == 303


def test_logout_forgets_the_session(client: TestClient, warroom_app: App, responder: str) -> None:
    answer = client.post("/logout", data={"csrf_token": responder})
    assert answer.status_code == 303
    assert client.get("/").status_code == 303


def test_a_form_post_without_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    before = ops.show(warroom_app.context, incident)["version"]
    for data in ({"text": "x", "source": "y"}, {"text": "x", "source": "y", "csrf_token": "guess"}):
        answer = client.post(f"/incidents/{incident}/fact", data=data)
        shown_after(client, answer, "This form expired")
    assert ops.show(warroom_app.context, incident)["version"] == before


def test_a_csrf_token_from_another_session_is_refused(
    client: TestClient, warroom_app: App, responder: str, incident: str
) -> None:
    from .conftest import web_app

    with TestClient(web_app(warroom_app), follow_redirects=False) as other:
        foreign = log_in(other, warroom_app, "responder", "bob")
    answer = client.post(
        f"/incidents/{incident}/fact", data={"text": "x", "source": "y", "csrf_token": foreign}
    )
    assert shown_after(client, answer, "This form expired") == f"/incidents/{incident}"


def test_a_viewer_sees_no_action_and_gets_403_when_posting_anyway(
    client: TestClient, warroom_app: App, incident: str
) -> None:
    csrf = log_in(client, warroom_app, "viewer", "victor")
    room = client.get(f"/incidents/{incident}")
    assert room.status_code == 200
    assert "Checkout errors" in room.text
    assert 'method="post" action="/incidents/' not in room.text
    assert room.text.count("<button") == 1  # only "Log out"
    assert "Declare an incident" not in client.get("/").text
    before = ops.show(warroom_app.context, incident)["version"]
    answer = client.post(f"/incidents/{incident}/fact", data={"text": "x", "source": "y", "csrf_token": csrf})
    shown_after(client, answer, "may read incidents but not change them")
    answer = client.post("/incidents", data={"title": "t", "csrf_token": csrf})
    shown_after(client, answer, "may read incidents but not change them")
    assert ops.show(warroom_app.context, incident)["version"] == before
