"""PagerDuty's Events API v2 paths under /hooks/pagerduty, with the routing key as the credential.

Over HTTP on SQLite and PostgreSQL: integration keys authenticate and route, change events
reach the change log, and every answer is PagerDuty's (202, 400 with errors, 429).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest

from warroom.api.pagerduty import RateLimiter
from warroom.bootstrap import App, build
from warroom.services.identity import auth
from warroom.services.identity import integration_keys as keys
from warroom.settings import Settings

from .conftest import Clock, Hooks, load, make_hooks
from .test_ingest import history, incidents, stored

ENQUEUE = "/hooks/pagerduty/v2/enqueue"
CHANGE = "/hooks/pagerduty/v2/change/enqueue"
IMPORTED = "e93facc04764012d7bfb002500d5d1a6"  # as PagerDuty shows an integration key


def with_key(hooks: Hooks, service: str | None = "checkout", name: str = "pd-prod") -> str:
    """A pagerduty ingest token carrying IMPORTED (and a generated key, returned)."""
    _, _, made = keys.create_with_keys(
        hooks.app.context, name, keys=[(IMPORTED, service)], generate=1, service=service
    )
    generated = made[1][0]
    assert generated is not None
    return generated


def event(routing_key: str, action: str = "trigger") -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(load("pagerduty_trigger.json"))
    body["routing_key"] = routing_key
    body["event_action"] = action
    return body


def change(routing_key: str) -> dict[str, Any]:
    return {
        "routing_key": routing_key,
        "payload": {
            "summary": "Build Success: checkout-api v2.14.0",
            "timestamp": "2026-11-26T22:20:55Z",
            "source": "ci.example.com",
            "custom_details": {"build_number": "7"},
        },
        "links": [{"href": "https://ci.example.com/builds/7", "text": "Build 7"}],
    }


def stored_extra(hooks: Hooks) -> list[str]:
    """The routing_key recorded with each stored alert, read from the table itself."""
    from sqlalchemy import select

    from warroom.storage.alert_tables import alerts

    engine = hooks.app.context.uow.args[0]
    with engine.connect() as connection:
        return [json.loads(extra)["routing_key"] for extra in connection.scalars(select(alerts.c.extra))]


def send(hooks: Hooks, path: str, body: Any, **kwargs: Any) -> Any:
    """POST as PagerDuty's clients do: no Authorization header."""
    return hooks.client.post(path, json=body, **kwargs)


def test_trigger_acknowledge_resolve_with_the_integration_key_route_to_its_service(hooks: Hooks) -> None:
    with_key(hooks)
    dedup = event(IMPORTED)["dedup_key"]
    for action in ("trigger", "acknowledge", "resolve"):
        answer = send(hooks, ENQUEUE, event(IMPORTED, action))
        assert answer.status_code == 202, answer.text
        assert answer.headers["content-type"] == "application/json"
        assert answer.json() == {"status": "success", "message": "Event processed", "dedup_key": dedup}
    record = stored(hooks, dedup, "pagerduty")
    # The fixture's labels name demo-shop; the key routes to checkout, a tier-1 service.
    assert (record.service, record.team, record.status) == ("checkout", "storefront", "resolved")
    assert record.acknowledged_at is not None
    assert history(hooks, record) == ["firing", "resolved"]
    assert stored_extra(hooks) == ["****d1a6"]  # the key is a credential: never stored
    assert [i["id"] for i in incidents(hooks)] == ["INC-1"]  # a critical alert on tier 1 declared


def test_a_trigger_without_a_dedup_key_gets_one_back(hooks: Hooks) -> None:
    generated = with_key(hooks)
    body = event(generated)
    del body["dedup_key"]
    answer = send(hooks, ENQUEUE, body)
    assert answer.status_code == 202 and len(answer.json()["dedup_key"]) == 32


def test_a_change_event_reaches_the_change_log_of_the_keys_service_once(hooks: Hooks) -> None:
    with_key(hooks)
    for _ in range(2):  # the client's retry stores nothing new
        answer = send(hooks, CHANGE, change(IMPORTED))
        assert answer.status_code == 202, answer.text
        assert answer.json() == {"status": "success", "message": "Change event processed", "dedup_key": None}
    at = hooks.clock.now()
    with hooks.app.context.uow() as uow:
        found = uow.changes.between(["checkout"], at - timedelta(days=1), at)
    assert [(c.service, c.kind.value, c.summary, c.source, c.actor) for c in found] == [
        ("checkout", "deploy", "Build Success: checkout-api v2.14.0", "pagerduty", "pd-prod")
    ]
    assert found[0].details["links"][0]["text"] == "Build 7"


def test_an_unknown_or_revoked_key_is_400_invalid_routing_key(hooks: Hooks) -> None:
    with_key(hooks)
    unknown = send(hooks, ENQUEUE, event("0" * 32))
    assert unknown.status_code == 400
    assert unknown.json() == {
        "status": "invalid event",
        "message": "Event object is invalid",
        "errors": ["Invalid routing key"],
    }
    auth.revoke_token(hooks.app.context, "pd-prod")
    for path, body in ((ENQUEUE, event(IMPORTED)), (CHANGE, change(IMPORTED))):
        revoked = send(hooks, path, body)  # at once: key lookups are not cached
        assert revoked.status_code == 400 and revoked.json()["errors"] == ["Invalid routing key"]


def test_invalid_bodies_are_answered_in_pagerdutys_shape(sqlite_hooks: Hooks) -> None:
    with_key(sqlite_hooks)
    wrong = send(sqlite_hooks, ENQUEUE, {"routing_key": "wr_notakey", "event_action": "bogus"})
    assert wrong.status_code == 400
    assert wrong.json()["errors"] == [
        "Length of 'routing_key' is incorrect (should be 32 characters)",
        "'routing_key' cannot contain non-alphanumeric characters.",
        "'event_action' is invalid (should be one of trigger, acknowledge, resolve)",
    ]
    no_summary = event(IMPORTED)
    del no_summary["payload"]["summary"]
    assert send(sqlite_hooks, ENQUEUE, no_summary).json()["errors"] == [
        "'payload.summary' is missing or blank"
    ]
    for path in (ENQUEUE, CHANGE):
        garbled = sqlite_hooks.client.post(path, content=b"{not json")
        assert garbled.status_code == 400
        assert garbled.json() == {
            "status": "Unrecognized object",
            "message": "Event object format is unrecognized",
            "errors": ["JSON parse error"],
        }
    # A change event needs no event_action (PagerDuty's change bodies have none).
    assert send(sqlite_hooks, CHANGE, change(IMPORTED) | {"payload": {"summary": ""}}).json()["errors"] == [
        "'payload.summary' is missing or blank"
    ]


def test_a_change_needs_a_service_from_the_key_or_its_details(sqlite_hooks: Hooks) -> None:
    generated = with_key(sqlite_hooks, service=None, name="pd-unrouted")
    refused = send(sqlite_hooks, CHANGE, change(generated))
    assert refused.status_code == 400 and "names no service" in refused.json()["errors"][0]
    named = change(generated)
    named["payload"]["custom_details"]["service"] = "payments"
    assert send(sqlite_hooks, CHANGE, named).status_code == 202


def test_an_ingest_token_in_the_header_works_too_and_a_wrong_one_is_401(sqlite_hooks: Hooks) -> None:
    body = event("R0UTINGKEYEXAMPLE000000000000032")
    answer = sqlite_hooks.post(ENQUEUE, body, as_="pagerduty-hook")
    assert answer.status_code == 202, answer.text
    # Routed by its labels alone, which name no catalog service: the key is what routes.
    assert stored(sqlite_hooks, body["dedup_key"], "pagerduty").service == "(unrouted)"
    wrong = sqlite_hooks.client.post(ENQUEUE, json=body, headers={"Authorization": "Bearer wr_nope"})
    assert wrong.status_code == 401
    other = sqlite_hooks.post(ENQUEUE, body, as_="grafana-hook")
    assert other.status_code == 403


@pytest.fixture
def limited(sqlite_url: str, clock: Clock) -> Iterator[Hooks]:
    app = build(
        Settings(database_url=sqlite_url, raw={"hooks": {"pagerduty_rate_per_minute": 3}}), clock=clock
    )
    made = make_hooks(app, clock)
    with made.client:
        yield made
    from tests.conftest import dispose

    dispose(app)


def test_over_the_configured_rate_a_key_gets_429_with_retry_after(limited: Hooks) -> None:
    generated = with_key(limited)
    answers = [send(limited, ENQUEUE, event(generated)).status_code for _ in range(3)]
    assert answers == [202, 202, 202]
    over = send(limited, ENQUEUE, event(generated))
    assert over.status_code == 429
    assert over.json() == {"status": "throttle event", "message": "Request Limit Exceeded"}
    assert 1 <= int(over.headers["retry-after"]) <= 20  # one event a 20 s
    assert send(limited, ENQUEUE, event(IMPORTED)).status_code == 202  # each key has its own bucket
    assert send(limited, CHANGE, change(generated)).status_code == 429  # both paths count


def test_the_bucket_refills_at_the_configured_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert [limiter.wait("k") for _ in range(60)] == [0.0] * 60
    assert limiter.wait("k") == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter.wait("k") == 0.0 and limiter.wait("k") > 0
    assert RateLimiter(0).wait("k") == 0.0  # 0: no limit


def test_a_wrong_rate_setting_stops_the_server_start(sqlite_url: str, build_app: Callable[..., App]) -> None:
    from warroom.server import check_configuration
    from warroom.settings import SettingsError

    app = build(Settings(database_url=sqlite_url, raw={"hooks": {"pagerduty_rate_per_minute": "lots"}}))
    with pytest.raises(SettingsError, match=r"hooks\.pagerduty_rate_per_minute"):
        check_configuration(app)
    from tests.conftest import dispose

    dispose(app)
