"""Read spans from Grafana Tempo: ``GET /api/search`` finds the traces of a service in a
window, ``GET /api/traces/{id}`` returns each as OTLP JSON (``batches`` of resource spans,
or ``trace.resourceSpans`` from the v2 API), parsed with the official OTLP messages."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from warroom.domain.xray.spans import Span
from warroom.integrations.otlp import JSON, Limits, OtlpRejected, decode_request, spans_of
from warroom.services.ports.xray import TracesUnavailable

TRACES_PER_SERVICE = 200
READ_LIMITS = Limits(max_bytes=64 * 1024 * 1024, max_spans=1_000_000, max_attribute_bytes=64 * 1024 * 1024)


def spans_of_trace(body: dict[str, Any]) -> list[Span]:
    """A Tempo trace document's spans; :class:`TracesUnavailable` when it is not OTLP JSON."""
    inner = body.get("trace")
    tree: dict[str, Any] = inner if isinstance(inner, dict) else body
    batches = tree.get("resourceSpans") or tree.get("batches") or []
    for batch in batches:
        if isinstance(batch, dict) and "scopeSpans" not in batch and "instrumentationLibrarySpans" in batch:
            batch["scopeSpans"] = batch.pop("instrumentationLibrarySpans")
    try:
        request = decode_request(json.dumps({"resourceSpans": batches}).encode(), JSON)
        return list(spans_of(request, READ_LIMITS))
    except OtlpRejected as error:
        raise TracesUnavailable(f"Tempo answered a trace that is not OTLP JSON: {error}") from None


class TempoTraces:
    """A :class:`~warroom.services.ports.xray.TraceSource` over Tempo's HTTP API."""

    def __init__(self, url: str, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._transport = transport

    @property
    def name(self) -> str:
        return f"tempo {self.url}"

    def spans(
        self, services: Sequence[str], start: datetime, end: datetime, *, timeout: float, limit: int
    ) -> list[Span]:
        deadline = time.monotonic() + min(timeout, self.timeout)
        ids: list[str] = []
        with httpx.Client(transport=self._transport) as client:
            for service in services or [""]:
                params = {
                    "start": str(int(start.timestamp())),
                    "end": str(max(int(end.timestamp()), int(start.timestamp()) + 1)),
                    "limit": str(TRACES_PER_SERVICE),
                }
                if service:
                    params["tags"] = f"service.name={service}"
                found = self._get(client, "/api/search", params, deadline).get("traces") or []
                for trace in found:
                    trace_id = trace.get("traceID") if isinstance(trace, dict) else None
                    if isinstance(trace_id, str) and trace_id not in ids:
                        ids.append(trace_id)
            spans: list[Span] = []
            for trace_id in ids:
                spans.extend(spans_of_trace(self._get(client, f"/api/traces/{trace_id}", {}, deadline)))
                if len(spans) >= limit:
                    return spans[:limit]
        return spans

    def _get(
        self, client: httpx.Client, path: str, params: dict[str, str], deadline: float
    ) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TracesUnavailable(f"Tempo at {self.url} took longer than {self.timeout:g} s")
        try:
            response = client.get(
                f"{self.url}{path}", params=params, timeout=left, headers={"Accept": "application/json"}
            )
        except httpx.TimeoutException:
            raise TracesUnavailable(f"Tempo at {self.url} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise TracesUnavailable(f"Tempo at {self.url} is unreachable: {error}") from None
        if response.status_code != 200:
            raise TracesUnavailable(f"Tempo at {self.url} answered {response.status_code} to {path}")
        try:
            body = response.json()
        except ValueError:
            raise TracesUnavailable(f"Tempo at {self.url} answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise TracesUnavailable(f"Tempo at {self.url} answered an unexpected document")
        return body
