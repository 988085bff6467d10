"""The public status page over HTTP: components, stages, maintenance, history, the cache,
and nothing non-public on any public route."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from warroom import bootstrap
from warroom.bootstrap import App
from warroom.server import create_app
from warroom.services import operations as ops
from warroom.services.comms import statuspage
from warroom.services.comms.statuspage_cache import cache_of
from warroom.settings import Settings

from .conftest import csrf_of, log_in

CATALOG = """
teams:
  - name: storefront
  - name: core
services:
  - name: checkout
    team: storefront
    tier: 1
    status_page: {name: Checkout, group: Shopping}
  - name: search
    team: storefront
    status_page: {name: Product search, group: Browsing}
  - name: ledger-db-internal
    team: core
"""


class Clock:
    def __init__(self) -> None:
        self.at = datetime.now(UTC).replace(microsecond=0)

    def now(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def status_app(tmp_path: Path, clock: Clock) -> App:
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'w.db'}", catalog_path=tmp_path / "catalog.yaml")
    return bootstrap.build(settings, clock=clock)


@pytest.fixture
def web(status_app: App) -> Iterator[TestClient]:
    with TestClient(create_app(status_app), follow_redirects=False) as client:
        yield client


SECRETS = (
    "OOM-killed",  # the title
    "zoe",  # a person named in the title and a guess
    "primary restarted",  # a fact
    "report query",  # a guess
    "ping the DBA",  # a note
    "fail over to replica",  # a decision
    "Internal: failover",  # an internal update
    "irene",  # the commander
    "pager-duty-bot",  # who declared
    "comms-carl",  # who posted the public update
    "ledger-db-internal",  # an internal service name
    "checkout-secret-scope",  # the scope
    "Demo outage text",  # a demo incident's public update
)


def fixture_incident(app: App) -> str:
    ctx = app.context
    ref = str(
        ops.declare(
            ctx,
            "pager-duty-bot",
            {
                "title": "DB primary OOM-killed by zoe's query",
                "services": ["checkout", "ledger-db-internal"],
                "scope": "checkout-secret-scope",
                "customer_impact": "40%",
            },
        )["id"]
    )
    ops.assign_role(ctx, "irene", ref, {"role": "commander", "person": "irene"})
    ops.fact(ctx, "irene", ref, {"text": "primary restarted at 10:02", "source": "pg logs"})
    ops.guess(ctx, "irene", ref, {"text": "zoe's report query"})
    ops.note(ctx, "irene", ref, {"text": "ping the DBA on call"})
    ops.decide(ctx, "irene", ref, {"text": "fail over to replica", "why": "fastest"})
    ops.update(ctx, "irene", ref, {"text": "Internal: failover in 5 min", "audience": "internal"})
    ops.update(
        ctx, "comms-carl", ref, {"text": "Checkout is failing for many customers.", "audience": "public"}
    )
    demo = ops.declare(
        ctx, "warroom-demo", {"title": "demo", "services": ["search"], "customer_impact": "40%"}
    )
    ops.update(ctx, "warroom-demo", str(demo["id"]), {"text": "Demo outage text", "audience": "public"})
    return ref


def all_routes(routes: list[Any], prefix: str = "") -> Iterator[tuple[str, set[str]]]:
    for route in routes:
        inner = getattr(route, "original_router", None)  # FastAPI's included routers
        if inner is not None:
            yield from all_routes(inner.routes, prefix + getattr(inner, "prefix", ""))
        elif isinstance(route, APIRoute):
            yield prefix + route.path if not route.path.startswith(prefix) else route.path, set(route.methods)


def public_paths(client: TestClient) -> list[str]:
    """Every GET route without a path parameter that answers an anonymous visitor with 200."""
    candidates = sorted(
        {path for path, methods in all_routes(client.app.routes) if "GET" in methods and "{" not in path}
    )  # type: ignore[attr-defined]
    assert len(candidates) > 10, candidates  # the walk found the routers' routes
    return [path for path in candidates if client.get(path).status_code == 200]


def test_no_public_route_shows_anything_that_is_not_public(web: TestClient, status_app: App) -> None:
    fixture_incident(status_app)
    paths = public_paths(web)
    assert {"/status", "/status.json"} <= set(paths)
    for path in paths:
        answer = web.get(path)
        assert "set-cookie" not in answer.headers, path
        for secret in SECRETS:
            assert secret not in answer.text, (path, secret)
    page = web.get("/status").text
    assert "Checkout is failing for many customers." in page
    assert "Major outage" in page and "Identified" in page  # a fact is confirmed
    body = web.get("/status.json").json()
    assert body["overall"] == "major_outage"
    assert [(c["name"], c["state"]) for c in body["components"]] == [
        ("Checkout", "major_outage"),
        ("Product search", "operational"),  # the demo incident does not count
    ]
    assert body["incidents"][0]["components"] == ["Checkout"]  # never the internal service


def test_stages_show_on_each_update_and_can_be_named(web: TestClient, status_app: App) -> None:
    ctx = status_app.context
    ref = str(ops.declare(ctx, "a", {"title": "t", "services": "search", "customer_impact": "6%"})["id"])
    ops.update(ctx, "a", ref, {"text": "Looking at slow search.", "audience": "public"})
    ops.fact(ctx, "a", ref, {"text": "index node down", "source": "logs"})
    ops.update(ctx, "a", ref, {"text": "Found the slow node.", "audience": "public"})
    ops.update(ctx, "a", ref, {"text": "Watching it.", "audience": "public", "stage": "monitoring"})
    incident = web.get("/status.json").json()["incidents"][0]
    assert [(u["stage"], u["text"]) for u in incident["updates"]] == [
        ("monitoring", "Watching it."),
        ("identified", "Found the slow node."),
        ("investigating", "Looking at slow search."),
    ]
    assert incident["stage"] == "monitoring"
    resolve = {
        "summary": "ok",
        "impact_stopped": True,
        "risk_controlled": True,
        "final_update": "Search is fast again.",
    }
    ops.resolve(ctx, "a", ref, resolve)
    after = web.get("/status.json").json()
    assert after["overall"] == "operational"
    assert after["incidents"][0]["stage"] == "resolved" and not after["incidents"][0]["open"]
    assert after["history"][0]["incidents"][0]["updates"][0]["text"] == "Search is fast again."
    assert 'class="uptime"' in web.get("/status").text


def test_the_page_is_rendered_once_until_a_public_event(
    web: TestClient, status_app: App, clock: Clock
) -> None:
    ctx = status_app.context
    cache = cache_of(ctx)
    ref = str(ops.declare(ctx, "a", {"title": "t", "services": "checkout", "customer_impact": "40%"})["id"])
    first = web.get("/status").text
    builds = cache.builds
    for _ in range(20):
        assert web.get("/status").text == first
    assert cache.builds == builds  # served from the rendering
    ops.note(ctx, "a", ref, {"text": "internal note"})  # not public: the page stays as it is
    assert web.get("/status").text == first and cache.builds == builds
    ops.update(ctx, "a", ref, {"text": "Checkout trouble.", "audience": "public"})
    assert "Checkout trouble." in web.get("/status").text
    assert cache.builds == builds + 1
    statuspage.set_component(ctx, "carl", "search", "degraded performance", "slow index")
    assert web.get("/status.json").json()["components"][1]["state"] == "degraded_performance"


def test_another_process_invalidates_through_the_generation(
    web: TestClient, status_app: App, tmp_path: Path
) -> None:
    assert "Operational" in web.get("/status").text
    other = bootstrap.build(status_app.settings, clock=Clock())  # a second replica or the CLI
    statuspage.set_component(other.context, "carl", "checkout", "major_outage")
    cache_of(status_app.context).recheck = 0.0  # as if a second had passed
    assert web.get("/status.json").json()["components"][0]["state"] == "major_outage"


def test_maintenance_shows_upcoming_then_in_progress(web: TestClient, status_app: App, clock: Clock) -> None:
    ctx = status_app.context
    start = clock.at + timedelta(hours=1)
    window = statuspage.schedule_maintenance(
        ctx, "carl", ["search"], start, start + timedelta(hours=2), "Index rebuild."
    )
    shown = web.get("/status.json").json()["maintenance"]
    assert [(m["id"], m["phase"], m["components"], m["text"]) for m in shown] == [
        (window.ref, "upcoming", ["Product search"], "Index rebuild.")
    ]
    clock.at = start + timedelta(minutes=1)  # the rendering ends at the window's start
    body = web.get("/status.json").json()
    assert body["maintenance"][0]["phase"] == "in_progress"
    assert body["components"][1]["state"] == "under_maintenance"
    assert "Scheduled maintenance in progress" in web.get("/status").text
    statuspage.cancel_maintenance(ctx, "carl", window.ref)
    assert web.get("/status.json").json()["maintenance"] == []


def admin_form(web: TestClient) -> str:
    return csrf_of(web.get("/status/admin").text)


def test_the_admin_page_sets_a_state_and_schedules_maintenance(
    web: TestClient, status_app: App, clock: Clock
) -> None:
    assert web.get("/status/admin").status_code == 303  # log in first
    log_in(web, status_app, "responder", "carl")
    csrf = admin_form(web)
    done = web.post(
        "/status/admin/component",
        data={
            "csrf_token": csrf,
            "service": "checkout",
            "state": "partial_outage",
            "reason": "payments slow",
        },
    )
    assert done.status_code == 303, done.text
    page = web.get("/status/admin").text
    assert "partial_outage" in page and "payments slow" in page and "carl" in page
    start = (clock.at + timedelta(hours=1)).isoformat()
    end = (clock.at + timedelta(hours=2)).isoformat()
    made = web.post(
        "/status/admin/maintenance",
        data={
            "csrf_token": csrf,
            "services": "search",
            "starts_at": start,
            "ends_at": end,
            "text": "Upgrade.",
        },
    )
    assert made.status_code == 303, made.text
    assert "MNT-1" in web.get("/status/admin").text
    assert web.get("/status.json").json()["maintenance"][0]["text"] == "Upgrade."


BAD_ADMIN_INPUT: list[tuple[str, dict[str, Any], str]] = [
    ("component", {"service": "ledger-db-internal", "state": "major_outage"}, "not a component"),
    ("component", {"service": "checkout", "state": "on fire"}, "is not one of"),
    ("component", {"service": "checkout", "state": "x" * 5000}, "is not one of"),
    (
        "maintenance",
        {"services": "search", "starts_at": "tomorrow", "ends_at": "x", "text": "t"},
        "ISO 8601",
    ),
    (
        "maintenance",
        {
            "services": "search",
            "starts_at": "2020-01-01T00:00Z",
            "ends_at": "2020-01-01T01:00Z",
            "text": "t",
        },
        "already over",
    ),
    (
        "maintenance",
        {
            "services": "<script>alert(1)</script>",
            "starts_at": "2099-01-01T00:00Z",
            "ends_at": "2099-01-01T01:00Z",
            "text": "t",
        },
        "not on the status page",
    ),
    ("cancel", {"window": "MNT-99"}, "no maintenance"),
    ("cancel", {"window": "'; DROP TABLE x"}, "not a maintenance id"),
    ("nope", {}, "no status page action"),
]


def test_bad_admin_input_is_refused_in_plain_words_and_stores_nothing(
    web: TestClient, status_app: App
) -> None:
    log_in(web, status_app, "responder", "carl")
    csrf = admin_form(web)
    for action, fields, words in BAD_ADMIN_INPUT:
        answer = web.post(
            f"/status/admin/{action}", data={"csrf_token": csrf} | fields, follow_redirects=True
        )
        assert answer.status_code in (200, 400, 404, 409, 422), action
        assert words in re.sub(r"\s+", " ", answer.text.replace("&#39;", "'")), (action, fields)
        assert "<script>alert(1)</script>" not in answer.text
    assert statuspage.manual_states(status_app.context) == {}
    assert statuspage.list_maintenance(status_app.context, include_past=True) == []


def test_a_viewer_cannot_change_the_page(web: TestClient, status_app: App) -> None:
    log_in(web, status_app, "viewer", "vic")
    answer = web.post(
        "/status/admin/component",
        data={"csrf_token": admin_form(web), "service": "checkout", "state": "major_outage"},
        follow_redirects=True,
    )
    assert "may read incidents but not change them" in answer.text
    assert statuspage.manual_states(status_app.context) == {}


def test_the_room_update_form_names_a_stage(web: TestClient, status_app: App) -> None:
    ref = str(
        ops.declare(status_app.context, "a", {"title": "t", "services": "checkout", "customer_impact": "6%"})[
            "id"
        ]
    )
    csrf = log_in(web, status_app, "responder", "carl")
    room = web.get(f"/incidents/{ref}").text
    assert 'name="stage"' in room
    form = {"csrf_token": csrf, "text": "Watching checkout.", "audience": "public", "stage": "monitoring"}
    assert web.post(f"/incidents/{ref}/update", data=form).status_code == 303
    assert web.get("/status.json").json()["incidents"][0]["updates"][0]["stage"] == "monitoring"
    bad = web.post(f"/incidents/{ref}/update", data=form | {"stage": "<b>done</b>"}, follow_redirects=True)
    assert "is not one of investigating, identified, monitoring, resolved" in bad.text.replace("&#39;", "'")
    assert "<b>done</b>" not in bad.text
    assert len(web.get("/status.json").json()["incidents"][0]["updates"]) == 1


def test_a_fresh_major_outage_shows_in_the_uptime_never_as_100_percent(
    web: TestClient, status_app: App, clock: Clock
) -> None:
    clock.at = clock.at.replace(hour=10, minute=0, second=0)
    ctx = status_app.context
    ref = str(ops.declare(ctx, "a", {"title": "t", "services": "checkout", "customer_impact": "40%"})["id"])
    ops.update(ctx, "a", ref, {"text": "Checkout is down.", "audience": "public"})
    clock.at += timedelta(minutes=5)
    page = web.get("/status").text
    checkout, search = page.split("Checkout</", 1)[1].split("Product search</", 1)
    assert "99.99% uptime" in checkout and "100.00%" not in checkout  # 5 of 90 days' minutes
    assert f"{clock.at.date().isoformat()}: Major outage, 5 min down, 99.65% uptime" in checkout
    assert "100.00% uptime" in search
    components = {c["name"]: c["uptime_90d"] for c in web.get("/status.json").json()["components"]}
    assert components == {"Checkout": 0.999961, "Product search": 1.0}  # 1 - 5/129600, rounded down
