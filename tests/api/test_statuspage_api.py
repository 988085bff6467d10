"""The status page over REST on SQLite and PostgreSQL: components, maintenance, bad input."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest

from warroom.bootstrap import App
from warroom.domain.incidents.catalog import Catalog, Service, StatusEntry, Team

from .conftest import T0, Api, Clock, make_api

CATALOG = Catalog(
    services=(
        Service("checkout", "storefront", tier=1, status_page=StatusEntry("Checkout", "Shopping")),
        Service("search", "storefront", status_page=StatusEntry("Search")),
        Service("ledger-db", "core"),
    ),
    teams=(Team("storefront"), Team("core")),
)


@pytest.fixture
def status_api(database_url: str, build_app: Callable[..., App], clock: Clock) -> Iterator[Api]:
    app = build_app(database_url, clock=clock)
    app = dataclasses.replace(app, context=dataclasses.replace(app.context, load_catalog=lambda: CATALOG))
    api = make_api(app, clock)
    with api.client:
        yield api


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def test_components_follow_public_incidents_and_a_hand_set_state(status_api: Api) -> None:
    ref = status_api.declare(customer_impact="6%")["id"]
    status_api.post(
        f"/api/v1/incidents/{ref}/updates",
        {"text": "Slow checkout.", "audience": "public", "stage": "identified"},
    )
    rows = status_api.get("/api/v1/status/components", as_="vic").json()
    assert [(r["service"], r["state"], r["manual"]) for r in rows] == [
        ("checkout", "partial_outage", None),
        ("search", "operational", None),
    ]
    held = status_api.post(
        "/api/v1/status/components/checkout", {"state": "major outage", "reason": "worse than it looks"}
    )
    assert held.status_code == 200, held.text
    assert held.json()["state"] == "major_outage" and held.json()["automatic"] == "partial_outage"
    assert held.json()["manual"] == {
        "state": "major_outage",
        "reason": "worse than it looks",
        "by": "alice",
        "at": "2026-11-26T10:00:00.000000Z",
    }
    assert status_api.client.get("/api/v1/status/components").status_code == 401
    assert (
        status_api.post("/api/v1/status/components/checkout", {"state": "auto"}, as_="vic").status_code == 403
    )
    back = status_api.post("/api/v1/status/components/checkout", {"state": "auto"})
    assert back.json()["state"] == "partial_outage" and back.json()["manual"] is None


def test_maintenance_is_scheduled_listed_and_cancelled(status_api: Api) -> None:
    made = status_api.post(
        "/api/v1/status/maintenance",
        {"services": ["search"], "starts_at": at(1), "ends_at": at(3), "text": "Index rebuild."},
        headers={"Idempotency-Key": "mnt-1"},
    )
    assert made.status_code == 201, made.text
    assert made.json() | {"created_at": None} == {
        "id": "MNT-1",
        "services": ["search"],
        "starts_at": "2026-11-26T11:00:00.000000Z",
        "ends_at": "2026-11-26T13:00:00.000000Z",
        "text": "Index rebuild.",
        "phase": "upcoming",
        "created_by": "alice",
        "created_at": None,
        "cancelled_at": None,
    }
    again = status_api.post(
        "/api/v1/status/maintenance",
        {"services": ["search"], "starts_at": at(1), "ends_at": at(3), "text": "Index rebuild."},
        headers={"Idempotency-Key": "mnt-1"},
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert [w["id"] for w in status_api.get("/api/v1/status/maintenance", as_="vic").json()] == ["MNT-1"]
    status_api.clock.advance(hours=2)
    assert status_api.get("/api/v1/status/maintenance").json()[0]["phase"] == "in_progress"
    ended = status_api.post("/api/v1/status/maintenance/MNT-1/cancel")
    assert ended.status_code == 200 and ended.json()["phase"] == "cancelled"
    assert status_api.post("/api/v1/status/maintenance/MNT-1/cancel").status_code == 409
    assert status_api.get("/api/v1/status/maintenance").json() == []
    assert [
        w["phase"] for w in status_api.get("/api/v1/status/maintenance", params={"all": "true"}).json()
    ] == ["cancelled"]


BAD = [
    ("/api/v1/status/components/ledger-db", {"state": "major_outage"}, 404, None),
    ("/api/v1/status/components/checkout", {"state": "on fire"}, 422, "state"),
    ("/api/v1/status/components/checkout", {"state": "x" * 41}, 422, "state"),
    ("/api/v1/status/components/checkout", {"state": "major_outage", "extra": 1}, 422, "extra"),
    ("/api/v1/status/components/checkout", {"state": "major_outage", "reason": "a\u0000b"}, 422, None),
    (
        "/api/v1/status/maintenance",
        {"services": ["search"], "starts_at": "soon", "ends_at": at(2), "text": "t"},
        422,
        "starts_at",
    ),
    (
        "/api/v1/status/maintenance",
        {"services": ["search"], "starts_at": at(2), "ends_at": at(1), "text": "t"},
        422,
        "ends_at",
    ),
    (
        "/api/v1/status/maintenance",
        {"services": ["search"], "starts_at": "2026-11-26T11:00:00", "ends_at": at(2), "text": "t"},
        422,
        "starts_at",
    ),
    (
        "/api/v1/status/maintenance",
        {"services": ["ledger-db"], "starts_at": at(1), "ends_at": at(2), "text": "t"},
        422,
        "services",
    ),
    (
        "/api/v1/status/maintenance",
        {"services": ["search"] * 51, "starts_at": at(1), "ends_at": at(2), "text": "t"},
        422,
        None,
    ),
    (
        "/api/v1/status/maintenance",
        {"services": ["search"], "starts_at": at(1), "ends_at": at(2), "text": "x" * 2001},
        422,
        None,
    ),
    ("/api/v1/status/maintenance", {"services": "search", "starts_at": at(1), "ends_at": at(2)}, 422, None),
    ("/api/v1/status/maintenance/MNT-x/cancel", None, 422, "maintenance"),
    ("/api/v1/status/maintenance/MNT-%C2%B32/cancel", None, 422, "maintenance"),
    ("/api/v1/status/maintenance/MNT-99/cancel", None, 404, None),
]


def test_malformed_oversized_and_hostile_input_is_refused_and_stores_nothing(status_api: Api) -> None:
    for path, body, status, field in BAD:
        answer = status_api.post(path, body)
        assert answer.status_code == status, (path, body, answer.text)
        assert answer.headers["content-type"] == "application/problem+json", path
        if field is not None:
            assert answer.json().get("field") == field or field in answer.text, (path, answer.text)
    assert all(r["manual"] is None for r in status_api.get("/api/v1/status/components").json())
    assert status_api.get("/api/v1/status/maintenance", params={"all": "true"}).json() == []
    assert (
        status_api.client.post(
            "/api/v1/status/components/checkout",
            content=b"{not json",
            headers=status_api.auth() | {"Content-Type": "application/json"},
        ).status_code
        == 400
    )


def test_the_cli_operations_answer_the_same_json_embedded_and_remote(status_api: Api) -> None:
    from warroom.cli.backend import EmbeddedBackend
    from warroom.cli.remote import RemoteBackend
    from warroom.domain.shared.errors import NotFound, ValidationError

    remote = RemoteBackend("http://testserver", status_api.tokens["alice"], client=status_api.client)
    embedded = EmbeddedBackend(lambda: status_api.app.context, "alice")
    window = {"services": ["search"], "starts_at": at(1), "ends_at": at(2), "text": "Rebuild."}
    made = remote.call("status_maintenance_add", None, window)
    assert (
        embedded.call("status_maintenance", None, {}) == remote.call("status_maintenance", None, {}) == [made]
    )
    held = remote.call("status_component_set", "checkout", {"state": "partial_outage", "reason": "r"})
    assert (
        embedded.call("status_components") == remote.call("status_components")
        and held["state"] == "partial_outage"
    )
    assert remote.call("status_maintenance_cancel", "MNT-1")["phase"] == "cancelled"
    for backend in (embedded, remote):
        with pytest.raises(NotFound):
            backend.call("status_component_set", "ledger-db", {"state": "major_outage"})
        with pytest.raises(ValidationError):
            backend.call("status_maintenance_cancel", "nope")
