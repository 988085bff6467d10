"""The Jaeger and Tempo readers against their documented HTTP API responses, served by a
small local HTTP server: Jaeger's ``/api/traces`` (``data``, ``spans`` with ``references``
and ``tags``, ``processes``) and Tempo's ``/api/search`` + ``/api/traces/{id}`` (OTLP JSON
``batches`` with base64 ids and enum names). Both give back the spans they were built from."""

from __future__ import annotations

import base64
import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from warroom.domain.xray.spans import KIND_NAMES, Span
from warroom.domain.xray.verdict import xray
from warroom.integrations.jaeger import JaegerTraces
from warroom.integrations.tempo import TempoTraces
from warroom.services.ports.xray import TracesUnavailable

from .shop import T0_US, shop

SPANS = shop(21, 40, fault_share=0.25, retries=1)
START = datetime.fromtimestamp(T0_US / 1e6 - 60, UTC)
END = datetime.fromtimestamp(T0_US / 1e6 + 600, UTC)


def _traces() -> dict[str, list[Span]]:
    grouped: dict[str, list[Span]] = defaultdict(list)
    for span in SPANS:
        grouped[span.trace_id].append(span)
    return grouped


def jaeger_trace(trace_id: str, spans: list[Span]) -> dict[str, Any]:
    processes = {
        f"p{i}": {"serviceName": name, "tags": []}
        for i, name in enumerate(sorted({s.service for s in spans}))
    }
    pid = {v["serviceName"]: k for k, v in processes.items()}
    out = []
    for s in spans:
        tags: list[dict[str, Any]] = [{"key": "span.kind", "type": "string", "value": KIND_NAMES[s.kind]}]
        if s.error:
            tags.append({"key": "error", "type": "bool", "value": True})
            tags.append({"key": "otel.status_description", "type": "string", "value": s.message})
        if s.peer:
            tags.append({"key": "peer.service", "type": "string", "value": s.peer})
        if s.http_status:
            tags.append({"key": "http.response.status_code", "type": "int64", "value": s.http_status})
        if s.resend:
            tags.append({"key": "http.request.resend_count", "type": "int64", "value": s.resend})
        refs = [{"refType": "CHILD_OF", "traceID": trace_id, "spanID": s.parent_id}] if s.parent_id else []
        out.append({"traceID": trace_id, "spanID": s.span_id, "flags": 1, "operationName": s.operation,
                    "references": refs, "startTime": s.start_us, "duration": s.duration_us, "tags": tags,
                    "logs": [], "processID": pid[s.service], "warnings": None})  # fmt: skip
    return {"traceID": trace_id, "spans": out, "processes": processes, "warnings": None}


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode()


def tempo_trace(spans: list[Span]) -> dict[str, Any]:
    batches = []
    for service in sorted({s.service for s in spans}):
        out = []
        for s in (x for x in spans if x.service == service):
            attributes = []
            if s.peer:
                attributes.append({"key": "peer.service", "value": {"stringValue": s.peer}})
            if s.http_status:
                attributes.append(
                    {"key": "http.response.status_code", "value": {"intValue": str(s.http_status)}}
                )
            if s.resend:
                attributes.append({"key": "http.request.resend_count", "value": {"intValue": str(s.resend)}})
            span = {"traceId": _b64(s.trace_id), "spanId": _b64(s.span_id), "name": s.operation,
                    "kind": f"SPAN_KIND_{KIND_NAMES[s.kind].upper()}",
                    "startTimeUnixNano": str(s.start_us * 1000), "endTimeUnixNano": str(s.end_us * 1000),
                    "attributes": attributes, "status": {}}  # fmt: skip
            if s.parent_id:
                span["parentSpanId"] = _b64(s.parent_id)
            if s.error:
                span["status"] = {"code": "STATUS_CODE_ERROR", "message": s.message}
            out.append(span)
        batches.append({
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
            "scopeSpans": [{"scope": {"name": "shop"}, "spans": out}],
        })  # fmt: skip
    return {"batches": batches}


class Handler(BaseHTTPRequestHandler):
    mode = "ok"

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        traces = _traces()
        if self.mode == "broken":
            return self._send(500, {"error": "boom"})
        if url.path == "/api/traces":  # Jaeger
            assert int(query["start"][0]) <= T0_US <= int(query["end"][0])
            service = query["service"][0]
            data = [jaeger_trace(t, s) for t, s in traces.items() if any(x.service == service for x in s)]
            return self._send(200, {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None})
        if url.path == "/api/search":  # Tempo
            assert query["tags"] == ["service.name=checkout"]
            found = [{"traceID": t, "rootServiceName": "checkout", "rootTraceName": "POST /checkout",
                      "startTimeUnixNano": str(min(x.start_us for x in s) * 1000), "durationMs": 5}
                     for t, s in traces.items()]  # fmt: skip
            return self._send(
                200, {"traces": found, "metrics": {"inspectedBytes": "1024", "completedJobs": 1}}
            )
        if url.path.startswith("/api/traces/"):
            return self._send(200, tempo_trace(traces[url.path.rsplit("/", 1)[1]]))
        return self._send(404, {"error": "not found"})

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.mark.parametrize("reader", [JaegerTraces, TempoTraces], ids=["jaeger", "tempo"])
def test_the_reader_gives_back_the_spans_and_the_failing_hop(server: str, reader: Any) -> None:
    source = reader(server, 5.0)
    spans = source.spans(["checkout"], START, END, timeout=5, limit=100_000)
    assert sorted(spans, key=lambda s: s.span_id) == sorted(SPANS, key=lambda s: s.span_id)
    report = xray(spans, [], now_seconds=60, baseline_seconds=60, owners={"payments": "payments"})
    assert report.verdict.startswith(
        "100% of failed checkout requests end in payments → adyen (timeout after 5 s)"
    )


@pytest.mark.parametrize("reader", [JaegerTraces, TempoTraces], ids=["jaeger", "tempo"])
def test_a_failing_store_is_one_line(server: str, reader: Any) -> None:
    Handler.mode = "broken"
    try:
        with pytest.raises(TracesUnavailable, match=r"answered 500"):
            reader(server, 5.0).spans(["checkout"], START, END, timeout=5, limit=10)
    finally:
        Handler.mode = "ok"
    with pytest.raises(TracesUnavailable, match="unreachable"):
        reader("http://127.0.0.1:9", 1.0).spans(["checkout"], START, END, timeout=1, limit=10)
