"""The triage queue's web page: grouped by service, with declare / attach / silence."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from tests.web.conftest import csrf_of, log_in
from warroom.bootstrap import App
from warroom.server import create_app

from .conftest import Clock, with_catalog

SLOW_SEARCH = {
    "labels": {"alertname": "SlowSearch", "service": "search", "severity": "warning", "region": "eu-west"},
    "annotations": {"summary": "search p95 over 800 ms"},
    "starts_at": "2026-11-26T22:20:00Z",
}


@pytest.fixture
def web(sqlite_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[tuple[TestClient, App]]:
    app = with_catalog(build_app(sqlite_url, clock=clock))
    with TestClient(create_app(app), follow_redirects=False) as client:
        yield client, app


def _queue_one_signal(client: TestClient, app: App) -> None:
    from warroom.services.identity import auth

    token, _ = auth.create_token(app.context, "hook", "ingest", "generic")
    answer = client.post("/hooks/generic", json=SLOW_SEARCH, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["queued"] == 1  # a warning on a tier-2 service declares nothing by itself


def test_a_responder_declares_an_incident_from_the_queue_page(web: tuple[TestClient, App]) -> None:
    client, app = web
    _queue_one_signal(client, app)
    log_in(client, app, "responder", "alice")

    page = client.get("/signals")
    assert page.status_code == 200
    assert "search" in page.text and "SlowSearch" in page.text and "search p95 over 800 ms" in page.text
    answer = client.post("/signals/search/declare", data={"csrf_token": csrf_of(page.text)})

    assert answer.status_code == 303 and answer.headers["location"] == "/incidents/INC-1"
    room = client.get("/incidents/INC-1").text
    assert "SlowSearch" in room
    assert "startsAt of the first alert" in room  # impact start shown from the alert
    assert "No signals wait" in client.get("/signals").text


def test_silencing_needs_a_reason_and_hides_the_group(web: tuple[TestClient, App]) -> None:
    client, app = web
    _queue_one_signal(client, app)
    log_in(client, app, "responder", "alice")
    csrf = csrf_of(client.get("/signals").text)

    refused = client.post("/signals/search/silence", data={"csrf_token": csrf, "until": "2h", "reason": ""})
    assert refused.status_code == 303 and refused.headers["location"] == "/signals"
    assert "search: Reason:" in client.get("/signals").text
    done = client.post("/signals/search/silence", data={"csrf_token": csrf, "until": "2h", "reason": "known"})
    assert done.status_code == 303
    assert "No signals wait" in client.get("/signals").text
    assert "silenced until" in client.get("/signals?all=1").text


def test_a_viewer_sees_the_queue_without_actions_and_cannot_post(web: tuple[TestClient, App]) -> None:
    client, app = web
    _queue_one_signal(client, app)
    csrf = log_in(client, app, "viewer", "vic")

    page = client.get("/signals").text
    assert "SlowSearch" in page and "Declare an incident" not in page
    answer = client.post("/signals/search/declare", data={"csrf_token": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/signals"
    assert "may read incidents but not change them" in client.get("/signals").text
