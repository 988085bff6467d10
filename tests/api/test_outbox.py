"""The outbox over REST (``/api/v1/outbox``), ``warroom outbox list|retry --url``, and a
failing channel in ``/readyz`` and ``/metrics``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.api.conftest import Api
from tests.comms.support import Receiver, http_receiver
from tests.web.browser import serving
from warroom.cli.backend import EmbeddedBackend
from warroom.cli.main import app as cli_app
from warroom.integrations.notify_config import NotifySettings, make_notifier, parse_notify
from warroom.server import create_app
from warroom.services.comms import delivery, outbox


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with http_receiver() as state:
        yield state


def deliver(api: Api, notify: NotifySettings) -> outbox.DeliveryReport:
    notifier, close = make_notifier(notify)
    try:
        return delivery.deliver(api.app.context, notify.outbox, notifier)
    finally:
        close()


def one_channel(receiver: Receiver, **extra: Any) -> NotifySettings:
    section = {
        "channels": [{"name": "incidents", "type": "slack", "url": receiver.url}],
        "routes": [{"channels": ["incidents"]}],
        **extra,
    }
    return parse_notify({"notify": section})


def test_ready_lists_no_channel_while_all_deliver(api: Api) -> None:
    assert api.client.get("/readyz").json() == {
        "status": "ready",
        "notifications": {"status": "ok", "channels": []},
    }


def test_a_failing_channel_shows_in_readyz_and_metrics_and_ready_stays_200(
    api: Api, receiver: Receiver
) -> None:
    receiver.respond = lambda _: (503, {})
    api.declare()
    assert deliver(api, one_channel(receiver, circuit_failures=1)).retrying == 1

    answer = api.client.get("/readyz")
    assert answer.status_code == 200  # readiness is about the database
    body = answer.json()
    assert body["status"] == "ready" and body["notifications"]["status"] == "degraded"
    [channel] = body["notifications"]["channels"]
    assert (channel["channel"], channel["circuit"], channel["failures"], channel["pending"]) == (
        "incidents", "open", 1, 1,
    )  # fmt: skip
    assert channel["last_error"] == "channel incidents: HTTP 503" and channel["open_until"]

    text = api.client.get("/metrics").text
    assert "# TYPE warroom_outbox_deliveries gauge" in text
    assert 'warroom_outbox_deliveries{channel="incidents",state="pending"} 1' in text
    assert 'warroom_outbox_deliveries{channel="incidents",state="dead"} 0' in text
    assert 'warroom_outbox_channel_circuit_open{channel="incidents"} 1' in text
    assert 'warroom_outbox_channel_failures{channel="incidents"} 1' in text
    assert "warroom_outbox_unrouted 0" in text

    receiver.respond = lambda _: (204, {})
    api.clock.advance(minutes=2)  # past the cool-down: the probe gets through
    assert deliver(api, one_channel(receiver, circuit_failures=1)).delivered == 1
    assert api.client.get("/readyz").json()["notifications"] == {"status": "ok", "channels": []}
    text = api.client.get("/metrics").text
    assert 'warroom_outbox_channel_circuit_open{channel="incidents"} 0' in text
    assert 'warroom_outbox_deliveries{channel="incidents",state="delivered"} 1' in text


def test_dead_letters_are_listed_and_retried_over_rest(api: Api, receiver: Receiver) -> None:
    receiver.respond = lambda _: (410, {})
    api.declare()
    assert deliver(api, one_channel(receiver)).dead == 1

    listed = api.get("/api/v1/outbox")
    assert listed.status_code == 200, listed.text
    [dead] = listed.json()
    assert (dead["status"], dead["channel"], dead["incident"], dead["kind"]) == (
        "dead", "incidents", "INC-1", "incident_declared",
    )  # fmt: skip
    assert "HTTP 410" in dead["last_error"]
    assert api.get("/api/v1/outbox", params={"status": "delivered"}).json() == []
    assert len(api.get("/api/v1/outbox", params={"status": "all", "limit": 5}).json()) == 1

    retried = api.post("/api/v1/outbox/retry", {"ids": [dead["id"]]}, headers={"Idempotency-Key": "k1"})
    assert retried.status_code == 200 and retried.json() == {"retried": [dead["id"]]}
    replay = api.post("/api/v1/outbox/retry", {"ids": [dead["id"]]}, headers={"Idempotency-Key": "k1"})
    assert replay.headers["idempotent-replayed"] == "true"
    [pending] = api.get("/api/v1/outbox", params={"status": "pending"}).json()
    assert (pending["id"], pending["attempts"]) == (dead["id"], 0)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("GET", "/api/v1/outbox?status=lost", None, "status"),
        ("GET", "/api/v1/outbox?limit=0", None, "limit"),
        ("GET", "/api/v1/outbox?limit=many", None, "limit"),
        ("POST", "/api/v1/outbox/retry", {}, "ids"),
        ("POST", "/api/v1/outbox/retry", {"ids": [0]}, "ids"),
        ("POST", "/api/v1/outbox/retry", {"ids": [2**63]}, "ids"),
        ("POST", "/api/v1/outbox/retry", {"everything": True}, "everything"),
    ],
)
def test_bad_outbox_requests_are_problems_naming_the_field(
    sqlite_api: Api, method: str, path: str, body: Any, field: str
) -> None:
    answer = sqlite_api.client.request(method, path, json=body, headers=sqlite_api.auth("alice"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["field"].split(".")[0] == field


def test_the_outbox_needs_a_responder(sqlite_api: Api) -> None:
    assert sqlite_api.client.get("/api/v1/outbox").status_code == 401
    assert sqlite_api.get("/api/v1/outbox", as_="vic").status_code == 403
    assert sqlite_api.post("/api/v1/outbox/retry", {"all_dead": True}, as_="vic").status_code == 403
    assert sqlite_api.post("/api/v1/outbox/retry", {"all_dead": True}).json() == {"retried": []}


def test_outbox_list_and_retry_work_with_url(api: Api, receiver: Receiver) -> None:
    receiver.respond = lambda _: (503, {})
    api.declare()
    deliver(api, one_channel(receiver, max_attempts=1))
    embedded = EmbeddedBackend(lambda: api.app.context, "alice").call("outbox_list", None, {"status": "all"})

    with serving(create_app(api.app, with_web=False)) as (base, _server):
        env = {"WARROOM_URL": base, "WARROOM_TOKEN": api.tokens["alice"], "WARROOM_CONFIG": "/nonexistent"}

        def cli(*args: str) -> Any:
            result = CliRunner().invoke(cli_app, list(args), env=env)
            assert result.exit_code == 0, result.output
            return json.loads(result.stdout) if "--json" in args else result.output

        assert cli("outbox", "list", "--status", "all", "--json") == embedded
        [dead] = cli("outbox", "list", "--json")
        assert "incidents" in cli("outbox", "list")
        assert cli("outbox", "retry", "--all-dead", "--json") == {"retried": [dead["id"]]}
        assert cli("outbox", "list", "--json") == []
        refused = CliRunner().invoke(cli_app, ["outbox", "list", "--status", "lost"], env=env)
        assert refused.exit_code == 1 and "status: 'lost' is not one of" in refused.output
        deliver_refused = CliRunner().invoke(cli_app, ["outbox", "deliver"], env=env)
        assert deliver_refused.exit_code == 2 and "local database" in deliver_refused.output
