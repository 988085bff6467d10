"""The X-ray of an incident over the API and the CLI, on SQLite and PostgreSQL: spans
posted over OTLP, judged by tail sampling, analyzed, pinned as a fact; and a trace source
that is down gives one degraded line, quickly."""

from __future__ import annotations

import socket
import time
from datetime import timedelta

import pytest

from tests.api.conftest import T0, Api
from warroom.services.identity import auth
from warroom.services.xray.config import XrayConfig
from warroom.services.xray.retention import run_sampling

from .otlp_bodies import protobuf_body
from .shop import shop

PB = {"Content-Type": "application/x-protobuf"}
NOW_US = int((T0 - timedelta(minutes=10)).timestamp() * 1_000_000)
BASE_US = int((T0 - timedelta(minutes=45)).timestamp() * 1_000_000)


def _send(api: Api, spans: list) -> None:  # type: ignore[type-arg]
    for i in range(0, len(spans), 2000):
        answer = api.client.post(
            "/v1/traces", content=protobuf_body(spans[i : i + 2000]), headers=api.auth("otel") | PB
        )
        assert answer.status_code == 200, answer.text


@pytest.fixture
def traced(api: Api) -> Api:
    api.tokens["otel"] = auth.create_token(api.app.context, "otel", "ingest", "otlp")[0]
    _send(api, shop(11, 150, fault_share=0.3, start_us=NOW_US, retries=2))
    _send(api, shop(12, 150, fault_share=0.0, start_us=BASE_US))
    api.declare()
    return api


def test_the_xray_names_the_failing_hop_and_survives_tail_sampling(traced: Api) -> None:
    view = traced.get("/api/v1/incidents/INC-1/xray").json()
    assert view["status"] == "ok", view
    assert view["verdict"].startswith(
        "100% of failed checkout requests end in payments → adyen (timeout after 5 s)"
    )
    assert view["origins"][0]["path"] == ["checkout", "payments", "adyen"]
    adyen = next(e for e in view["edges"] if e["callee"] == "adyen")
    assert adyen["baseline"]["calls_per_request"] == 1.0 and adyen["now"]["calls_per_request"] > 1.5
    before = view["requests"]

    traced.clock.advance(minutes=1)  # past the decision wait: tail sampling judges every trace
    config = traced.app.context.xray
    total = config.store.count()
    assert run_sampling(config, traced.clock.now()) > 0
    assert config.store.count() < total
    after = traced.get("/api/v1/incidents/INC-1/xray").json()
    assert after["status"] == "ok", (after, config.store.count(), total)
    assert after["origins"][0]["share"] == 1.0  # every error trace was kept
    assert abs(after["requests"] - before) / before < 0.35  # kept healthy traces stand for the rest


def test_a_finding_is_pinned_as_a_fact_with_its_evidence(traced: Api) -> None:
    answer = traced.post("/api/v1/incidents/INC-1/xray/pin", {"finding": 0})
    assert answer.status_code == 200, answer.text
    pinned = answer.json()
    assert pinned["text"].startswith("X-ray: 100% of failed checkout requests end in payments → adyen")
    assert pinned["source"].startswith("xray /incidents/INC-1/xray?start=")
    room = traced.get("/api/v1/incidents/INC-1").json()
    assert pinned["text"] in [entry["text"] for entry in room["ledger"]]
    for bad in ({"finding": 99}, {"finding": -1}, {"finding": "x"}, {"finding": True}):
        refused = traced.post("/api/v1/incidents/INC-1/xray/pin", bad)
        assert refused.status_code in (400, 422), refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert traced.post("/api/v1/incidents/INC-1/xray/pin", {"finding": 0}, as_="vic").status_code == 403


def test_an_incident_without_traces_says_so_in_one_line(sqlite_api: Api) -> None:
    sqlite_api.declare()
    view = sqlite_api.get("/api/v1/incidents/INC-1/xray").json()
    assert view["status"] == "no_traces"
    assert view["verdict"] == "degraded: no traces of checkout in the window"
    assert sqlite_api.post("/api/v1/incidents/INC-1/xray/pin", {}).status_code == 422
    assert sqlite_api.get("/api/v1/incidents/INC-999/xray").status_code == 404


def test_a_trace_store_that_does_not_answer_is_degraded_within_the_timeout(sqlite_api: Api) -> None:
    from warroom.integrations.jaeger import JaegerTraces
    from warroom.integrations.tempo import TempoTraces

    sqlite_api.declare()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts the connection, never answers
    port = silent.getsockname()[1]
    try:
        for source in (
            JaegerTraces(f"http://127.0.0.1:{port}", 1.0),
            TempoTraces(f"http://127.0.0.1:{port}", 1.0),
        ):
            sqlite_api.app.context.__dict__["xray"] = XrayConfig(source=source, store=None, timeout=1.0)
            started = time.monotonic()
            view = sqlite_api.get("/api/v1/incidents/INC-1/xray").json()
            assert time.monotonic() - started < 3
            assert view["status"] == "degraded"
            assert view["verdict"].startswith("degraded: ") and "did not answer within 1 s" in view["verdict"]
    finally:
        silent.close()


def test_hostile_requests_to_the_xray_routes_get_a_clear_4xx(sqlite_api: Api) -> None:
    sqlite_api.declare()
    for path in (
        "/api/v1/incidents/%00/xray",
        "/api/v1/incidents/INC-" + "9" * 5000 + "/xray",
        "/api/v1/incidents/%ED%A0%80/xray",
    ):
        answer = sqlite_api.get(path)
        assert 400 <= answer.status_code < 500, (path[:40], answer.status_code)
        assert answer.headers["content-type"] == "application/problem+json"
    pin = "/api/v1/incidents/INC-1/xray/pin"
    for kwargs in (
        {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
        {"content": b"[]", "headers": {"Content-Type": "application/json"}},
        {
            "content": b'{"finding": 0, "x": "' + b"a" * (2 * 1024 * 1024) + b'"}',
            "headers": {"Content-Type": "application/json"},
        },
    ):
        answer = sqlite_api.post(pin, None, **kwargs)
        assert 400 <= answer.status_code < 500, answer.text[:200]
        assert answer.headers["content-type"] == "application/problem+json"
    assert sqlite_api.get("/api/v1/incidents/INC-1").json()["ledger"] == []
