"""Read spans from Jaeger's query service (``GET /api/traces?service=&start=&end=&limit=``).

The response is Jaeger's ``structuredResponse``: ``data`` holds traces, each with ``spans``
(``traceID``, ``spanID``, ``operationName``, ``references``, ``startTime`` and ``duration`` in
microseconds, ``tags``, ``processID``) and ``processes`` (``serviceName`` per process id).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import httpx

from warroom.domain.xray.spans import Span
from warroom.services.ports.xray import TracesUnavailable

KINDS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
TRACES_PER_SERVICE = 500


def _tags(items: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if isinstance(items, list):
        for tag in items:
            if isinstance(tag, dict) and isinstance(tag.get("key"), str):
                found[tag["key"]] = tag.get("value")
    return found


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdecimal():
        return int(value)
    return default


def _parent(span: dict[str, Any]) -> str:
    for ref in span.get("references") or []:
        if isinstance(ref, dict) and ref.get("refType") == "CHILD_OF":
            return str(ref.get("spanID") or "")
    refs = span.get("references") or []
    return str(refs[0].get("spanID") or "") if refs and isinstance(refs[0], dict) else ""


def spans_of_trace(trace: dict[str, Any]) -> list[Span]:
    """One Jaeger trace's spans, in the X-ray's terms."""
    processes = trace.get("processes") or {}
    found = []
    for raw in trace.get("spans") or []:
        if not isinstance(raw, dict):
            continue
        tags = _tags(raw.get("tags"))
        process = processes.get(raw.get("processID")) or raw.get("process") or {}
        error = tags.get("error") in (True, "true") or tags.get("otel.status_code") == "ERROR"
        found.append(
            Span(
                trace_id=str(raw.get("traceID") or trace.get("traceID") or "").rjust(32, "0"),
                span_id=str(raw.get("spanID") or ""),
                parent_id=_parent(raw),
                service=str(process.get("serviceName") or "unknown_service"),
                operation=str(raw.get("operationName") or "")[:200],
                kind=KINDS.get(str(tags.get("span.kind") or "").lower(), 1),
                start_us=_int(raw.get("startTime"), 0),
                duration_us=_int(raw.get("duration"), 0),
                error=error,
                peer=str(tags.get("peer.service") or tags.get("server.address") or "")[:200],
                http_status=_int(tags.get("http.response.status_code", tags.get("http.status_code")), 0),
                grpc_status=_int(tags.get("rpc.grpc.status_code"), -1),
                resend=_int(tags.get("http.request.resend_count"), 0),
                message=str(tags.get("otel.status_description") or tags.get("error.type") or "")[:200],
            )
        )
    return found


class JaegerTraces:
    """A :class:`~warroom.services.ports.xray.TraceSource` over Jaeger's HTTP query API."""

    def __init__(self, url: str, timeout: float, transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._transport = transport

    @property
    def name(self) -> str:
        return f"jaeger {self.url}"

    def spans(
        self, services: Sequence[str], start: datetime, end: datetime, *, timeout: float, limit: int
    ) -> list[Span]:
        if not services:
            raise TracesUnavailable("Jaeger is searched by service, and the incident names none")
        deadline = time.monotonic() + min(timeout, self.timeout)
        seen: set[str] = set()
        found: list[Span] = []
        with httpx.Client(transport=self._transport) as client:
            for service in services:
                body = self._get(client, service, start, end, deadline)
                for trace in body.get("data") or []:
                    if not isinstance(trace, dict) or trace.get("traceID") in seen:
                        continue
                    seen.add(str(trace.get("traceID")))
                    found.extend(spans_of_trace(trace))
                    if len(found) >= limit:
                        return found[:limit]
        return found

    def _get(
        self, client: httpx.Client, service: str, start: datetime, end: datetime, deadline: float
    ) -> dict[str, Any]:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TracesUnavailable(f"Jaeger at {self.url} took longer than {self.timeout:g} s")
        params = {
            "service": service,
            "start": str(int(start.timestamp() * 1_000_000)),
            "end": str(int(end.timestamp() * 1_000_000)),
            "limit": str(TRACES_PER_SERVICE),
        }
        try:
            response = client.get(f"{self.url}/api/traces", params=params, timeout=left)
        except httpx.TimeoutException:
            raise TracesUnavailable(
                f"Jaeger at {self.url} did not answer within {self.timeout:g} s"
            ) from None
        except httpx.HTTPError as error:
            raise TracesUnavailable(f"Jaeger at {self.url} is unreachable: {error}") from None
        if response.status_code == 404:
            return {"data": []}  # Jaeger answers 404 for a service it has never seen
        if response.status_code != 200:
            raise TracesUnavailable(f"Jaeger at {self.url} answered {response.status_code}")
        try:
            body = response.json()
        except ValueError:
            raise TracesUnavailable(f"Jaeger at {self.url} answered something that is not JSON") from None
        if not isinstance(body, dict):
            raise TracesUnavailable(f"Jaeger at {self.url} answered an unexpected document")
        return body
