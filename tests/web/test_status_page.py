"""The public status page: no login, service states, public updates only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from warroom.bootstrap import App
from warroom.services import operations as ops


def test_the_status_page_shows_public_updates_and_nothing_internal(
    client: TestClient, warroom_app: App
) -> None:
    ctx = warroom_app.context
    ref = ops.declare(
        ctx,
        "pager-duty-bot",
        {"title": "DB primary OOM-killed by zoe's query", "services": "checkout", "customer_impact": "40%"},
    )["id"]
    ops.assign_role(ctx, "irene", ref, {"role": "commander", "person": "irene"})
    ops.fact(ctx, "irene", ref, {"text": "primary restarted at 10:02", "source": "pg logs"})
    ops.guess(ctx, "irene", ref, {"text": "zoe's report query"})
    ops.note(ctx, "irene", ref, {"text": "ping the DBA on call"})
    ops.decide(ctx, "irene", ref, {"text": "fail over to replica", "why": "fastest"})
    ops.update(ctx, "irene", ref, {"text": "Internal: failover in 5 min", "audience": "internal"})
    ops.update(
        ctx, "comms-carl", ref, {"text": "Checkout is failing for many customers.", "audience": "public"}
    )

    page = client.get("/status")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers
    text = page.text
    assert "Checkout is failing for many customers." in text
    assert "outage" in text and "checkout" in text
    for secret in (
        "OOM-killed",
        "zoe",
        "primary restarted",
        "report query",
        "ping the DBA",
        "fail over to replica",
        "Internal: failover",
        "irene",
        "pager-duty-bot",
        "comms-carl",
    ):
        assert secret not in text, secret


def test_a_logged_in_visitor_is_not_named_on_the_status_page(
    client: TestClient, warroom_app: App, responder: str
) -> None:
    assert "alice" not in client.get("/status").text


def test_all_clear_when_nothing_is_open(client: TestClient, warroom_app: App) -> None:
    ctx = warroom_app.context
    ref = ops.declare(ctx, "a", {"title": "t", "services": "api", "customer_impact": "40%"})["id"]
    ops.update(ctx, "a", ref, {"text": "Investigating API errors.", "audience": "public"})
    last_word = {"final_update": "The API answers normally again."}
    ops.resolve(ctx, "a", ref, {"summary": "ok", "impact_stopped": True, "risk_controlled": True} | last_word)
    text = client.get("/status").text
    assert "All systems operational" in text
    assert "The API answers normally again." in text
    assert "Resolved: api" in text and "Investigating API errors." in text
