"""The real OpenTelemetry Python SDK exports spans to a live warroom over OTLP/HTTP: its own
protobuf exporter (gzip), and the same spans in the OTLP JSON encoding; the X-ray then finds
the hop that failed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from warroom.bootstrap import App, build
from warroom.server import create_app
from warroom.services.identity import auth
from warroom.settings import Settings

from .otlp_bodies import hex_ids

SERVICES = ("checkout", "payments")


@dataclass
class Live:
    url: str
    app: App
    token: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    folder: Path = tmp_path_factory.mktemp("sdk")
    app = build(Settings(database_url=f"sqlite:///{folder / 'warroom.db'}"))
    token = auth.create_token(app.context, "otel-collector", "ingest", "otlp")[0]
    config = uvicorn.Config(create_app(app, with_web=False), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-otlp", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Live(f"http://127.0.0.1:{port}", app, token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.context.uow.args[0].dispose()  # type: ignore[attr-defined]


def _checkout(providers: dict[str, TracerProvider], failing: bool) -> None:
    """checkout → payments → adyen; adyen times out when ``failing``."""
    checkout = providers["checkout"].get_tracer("shop")
    payments = providers["payments"].get_tracer("shop")
    with (
        checkout.start_as_current_span("POST /checkout", kind=SpanKind.SERVER) as root,
        checkout.start_as_current_span("POST /pay", kind=SpanKind.CLIENT) as call,
        payments.start_as_current_span("POST /pay", kind=SpanKind.SERVER) as serve,
    ):
        with payments.start_as_current_span(
            "POST /authorise", kind=SpanKind.CLIENT, attributes={"peer.service": "adyen"}
        ) as out:
            if failing:
                out.set_status(Status(StatusCode.ERROR, "context deadline exceeded"))
        if failing:
            for span in (serve, call, root):
                span.set_status(Status(StatusCode.ERROR, "upstream failed"))


def _providers(processor_for: object) -> dict[str, TracerProvider]:
    providers = {}
    for service in SERVICES:
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(processor_for)  # type: ignore[arg-type]
        providers[service] = provider
    return providers


def _xray_verdict(live: Live) -> dict:  # type: ignore[type-arg]
    from warroom.services import operations as ops

    view = ops.declare(
        live.app.context,
        "alice",
        {"title": "Checkout failing", "services": ["checkout"], "customer_impact": "10%"},
    )
    return ops.xray(live.app.context, view["id"])


def test_the_sdk_exporter_sends_protobuf_and_the_xray_finds_the_hop(live: Live) -> None:
    exporter = OTLPSpanExporter(
        endpoint=f"{live.url}/v1/traces",
        headers={"Authorization": f"Bearer {live.token}"},
        compression=Compression.Gzip,
        timeout=10,
    )
    memory = InMemorySpanExporter()
    processor = SimpleSpanProcessor(memory)
    providers = _providers(processor)
    for i in range(20):
        _checkout(providers, failing=i % 4 == 0)
    spans = memory.get_finished_spans()
    assert exporter.export(spans) == SpanExportResult.SUCCESS
    store = live.app.context.xray.store
    assert store.count() == len(spans) == 80
    view = _xray_verdict(live)
    assert view["status"] == "ok", view
    assert view["verdict"].startswith(
        "100% of failed checkout requests end in payments → adyen (timeout after"
    )

    refused = OTLPSpanExporter(
        endpoint=f"{live.url}/v1/traces", headers={"Authorization": "Bearer wr_wrong"}, timeout=5
    )
    assert refused.export(spans) == SpanExportResult.FAILURE
    assert store.count() == 80


def test_the_sdk_spans_in_the_json_encoding_are_taken_too(live: Live) -> None:
    memory = InMemorySpanExporter()
    providers = _providers(SimpleSpanProcessor(memory))
    for i in range(10):
        _checkout(providers, failing=i % 2 == 0)
    spans = memory.get_finished_spans()
    body = hex_ids(json_format.MessageToDict(encode_spans(spans)))
    before = live.app.context.xray.store.count()
    answer = httpx.post(
        f"{live.url}/v1/traces", json=body, headers={"Authorization": f"Bearer {live.token}"}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {}
    assert live.app.context.xray.store.count() == before + len(spans)
    start = datetime.now(UTC) - timedelta(minutes=5)
    back = live.app.context.xray.store.spans(
        ["payments"], start, datetime.now(UTC) + timedelta(minutes=1), timeout=5, limit=10_000
    )
    ids = {f"{s.context.span_id:016x}" for s in spans}
    assert ids <= {s.span_id for s in back}
    adyen = [s for s in back if s.span_id in ids and s.peer == "adyen"]
    assert len(adyen) == 10 and sum(s.error for s in adyen) == 5
    assert all(s.message == "context deadline exceeded" for s in adyen if s.error)
