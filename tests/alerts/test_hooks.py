"""The webhooks over HTTP: each source, bad bodies, tokens, size limit and transient faults."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event

from warroom.bootstrap import App, build
from warroom.services.identity import auth
from warroom.settings import Settings

from .conftest import Clock, Hooks, TestClient, load, make_hooks

AM = "/hooks/alertmanager"


def count_alerts(hooks: Hooks) -> int:
    with hooks.app.context.uow() as uow:
        return sum(uow.alerts.queue_counts().values()) + len(uow.alerts.for_incident(1))


def test_grafana_generic_and_change_bodies_are_accepted(sqlite_hooks: Hooks) -> None:
    grafana = sqlite_hooks.post("/hooks/grafana", load("grafana_firing.json"))
    assert grafana.status_code == 200, grafana.text
    assert grafana.json()["declared"] == ["INC-1"]  # critical on checkout, a tier-1 service
    put = sqlite_hooks.client.put(
        "/hooks/grafana",
        json=load("grafana_firing.json"),
        headers={"Authorization": f"Bearer {sqlite_hooks.tokens['grafana-hook']}"},
    )
    assert put.status_code == 200 and put.json()["unchanged"] == 1  # Grafana can be set to PUT
    batch = sqlite_hooks.post("/hooks/generic", load("generic_batch.json"))
    assert batch.json()["new"] == 2
    single = sqlite_hooks.post("/hooks/generic", load("generic_single.json"))
    assert single.status_code == 200, single.text
    binary = load("cloudevents_config_binary.json")
    answer = sqlite_hooks.post(
        "/hooks/changes", None, content=json.dumps(binary["data"]), headers=binary["headers"]
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["new"] == 1


def test_every_hook_is_in_the_openapi_document_once(sqlite_hooks: Hooks) -> None:
    paths = sqlite_hooks.client.get("/openapi.json").json()["paths"]
    for source in ("alertmanager", "grafana", "pagerduty", "generic", "changes"):
        assert paths[f"/hooks/{source}"]["post"]["operationId"] == f"hook_{source}"
    assert paths["/hooks/grafana"]["put"]["operationId"] == "hook_grafana_put"
    assert "/api/v1/signals" in paths


def test_alerts_the_sender_dropped_are_reported_back(sqlite_hooks: Hooks) -> None:
    body = load("alertmanager_firing.json") | {"truncatedAlerts": 7}
    assert sqlite_hooks.post(AM, body).json()["truncated_alerts"] == 7


def test_a_replayed_body_changes_nothing(sqlite_hooks: Hooks) -> None:
    body = load("alertmanager_firing_with_resolved_alert.json")
    assert sqlite_hooks.post(AM, body).json()["changed"] == 3
    replay = sqlite_hooks.post(AM, body).json()
    assert (replay["changed"], replay["unchanged"]) == (0, 3)


def test_malformed_json_is_refused_naming_the_problem_and_stores_nothing(sqlite_hooks: Hooks) -> None:
    cases = [b"", b"{not json", b"\xff\xfe", b"[" * 200_000]
    for raw in cases:
        answer = sqlite_hooks.post(AM, None, content=raw, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, (raw[:10], answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["field"] == "body" and answer.json()["detail"]
    assert count_alerts(sqlite_hooks) == 0


def test_an_invalid_body_lists_every_problem_by_its_json_path(sqlite_hooks: Hooks) -> None:
    body = load("alertmanager_firing.json")
    body["alerts"].append({"status": "burning", "labels": {"severity": 3}})
    answer = sqlite_hooks.post(AM, body)
    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert any(e.startswith("alerts[1].status") for e in errors)
    assert any(e.startswith("alerts[1].labels.severity") for e in errors)
    assert count_alerts(sqlite_hooks) == 0
    custom = sqlite_hooks.post("/hooks/grafana", {"title": "custom payload", "message": "hi"})
    assert custom.status_code == 400 and custom.json()["errors"][0].startswith("alerts: is required")


def test_an_invalid_pagerduty_event_is_answered_the_way_pagerduty_answers(sqlite_hooks: Hooks) -> None:
    answer = sqlite_hooks.post("/hooks/pagerduty", load("pagerduty_trigger_as_documented.json"))
    assert answer.status_code == 400
    assert answer.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Length of 'routing_key' is incorrect (should be 32 characters)"],
    }


def test_an_oversize_body_is_refused_with_413(sqlite_hooks: Hooks) -> None:
    body = load("alertmanager_firing.json")
    body["padding"] = "x" * (1024 * 1024)
    answer = sqlite_hooks.post(AM, body)
    assert answer.status_code == 413
    assert count_alerts(sqlite_hooks) == 0


def test_tokens_come_as_bearer_or_query_parameter_and_must_allow_ingest(sqlite_hooks: Hooks) -> None:
    body = load("alertmanager_firing.json")
    client = sqlite_hooks.client
    assert client.post(AM, json=body).status_code == 401
    assert client.post(AM, json=body, headers={"Authorization": "Bearer wr_nope"}).status_code == 401
    assert client.post(AM, json=body, headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert sqlite_hooks.post(AM, body, as_="alice").status_code == 403  # responder
    assert sqlite_hooks.post(AM, body, as_="vic").status_code == 403  # viewer
    assert client.post(f"{AM}?token={sqlite_hooks.tokens['alertmanager-hook']}", json=body).status_code == 200
    assert sqlite_hooks.post(AM, body, as_="root").status_code == 200  # admin may ingest too


def test_a_token_named_after_a_source_opens_only_that_source(sqlite_hooks: Hooks) -> None:
    assert sqlite_hooks.post(AM, load("alertmanager_firing.json"), as_="alertmanager:prod").status_code == 200
    other = sqlite_hooks.post("/hooks/grafana", load("grafana_firing.json"), as_="alertmanager:prod")
    assert other.status_code == 403 and "/hooks/alertmanager" in other.json()["detail"]


def test_a_token_created_for_a_source_opens_only_that_source(sqlite_hooks: Hooks) -> None:
    plain, _ = auth.create_token(sqlite_hooks.app.context, "prod-grafana", "ingest", "grafana")
    headers = {"Authorization": f"Bearer {plain}"}
    client = sqlite_hooks.client
    assert client.post("/hooks/grafana", json=load("grafana_firing.json"), headers=headers).status_code == 200
    for path, body in ((AM, load("alertmanager_firing.json")), ("/hooks/changes", {"specversion": "1.0"})):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 403 and "/hooks/grafana" in refused.json()["detail"]


def test_an_ingest_token_stored_without_a_source_opens_no_webhook(sqlite_hooks: Hooks) -> None:
    """A token from before sources were recorded, whose name names none: refused, not all-access."""
    plain = "wr_" + "legacy" * 8
    with sqlite_hooks.app.context.uow() as uow:
        uow.tokens.add("old-ci", "ingest", auth.hash_token(plain), sqlite_hooks.clock.now())
        uow.commit()
    for path in (AM, "/hooks/generic"):
        refused = sqlite_hooks.client.post(
            path, json={"labels": {"a": "b"}}, headers={"Authorization": f"Bearer {plain}"}
        )
        assert refused.status_code == 403 and "opens no webhook" in refused.json()["detail"]


def test_a_revoked_token_stops_working_within_the_cache_time(sqlite_hooks: Hooks) -> None:
    body = load("alertmanager_firing.json")
    assert sqlite_hooks.post(AM, body).status_code == 200
    sqlite_hooks.client.app.state.hooks.tokens.ttl = 0.2  # type: ignore[attr-defined]
    auth.revoke_token(sqlite_hooks.app.context, "alertmanager-hook")
    time.sleep(0.25)
    assert sqlite_hooks.post(AM, body).status_code == 401


def test_a_locked_database_answers_503_so_alertmanager_retries(sqlite_hooks: Hooks, sqlite_url: str) -> None:
    engine = sqlite_hooks.app.context.uow.args[0]  # type: ignore[attr-defined]
    engine.dispose()

    @event.listens_for(engine, "connect")
    def short_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=50")

    sqlite_hooks.post(AM, load("alertmanager_resolved.json"))  # warms the token cache
    blocker = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        answer = sqlite_hooks.post(AM, load("alertmanager_firing.json"))
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        assert answer.headers["content-type"] == "application/problem+json"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert sqlite_hooks.post(AM, load("alertmanager_firing.json")).status_code == 200


def test_an_unreachable_database_answers_503(build_app: Callable[..., App], sqlite_url: str) -> None:
    app = build(Settings(database_url="postgresql+psycopg://postgres@127.0.0.1:1/nowhere"), migrate=False)
    try:
        client = TestClient(make_hooks.__globals__["create_app"](app, with_web=False))
        answer = client.post(
            AM, json=load("alertmanager_firing.json"), headers={"Authorization": "Bearer wr_x"}
        )
        assert answer.status_code == 503, answer.text
    finally:
        app.context.uow.args[0].dispose()  # type: ignore[attr-defined]


def test_the_signals_api_needs_a_responder_to_act(sqlite_hooks: Hooks, clock: Clock) -> None:
    assert sqlite_hooks.get("/api/v1/signals", as_="vic").status_code == 200
    refused = sqlite_hooks.post(
        "/api/v1/signals/demo-shop/silence", {"until": "1h", "reason": "x"}, as_="vic"
    )
    assert refused.status_code == 403
    unknown = sqlite_hooks.post("/api/v1/signals/demo-shop/declare", {}, as_="alice")
    assert unknown.status_code == 404
