"""OTLP export bodies built with the official protobuf messages, from X-ray spans."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Sequence

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from warroom.domain.xray.spans import Span


def request_of(spans: Sequence[Span]) -> ExportTraceServiceRequest:
    by_service: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        by_service[span.service].append(span)
    request = ExportTraceServiceRequest()
    for service, group in by_service.items():
        rs = request.resource_spans.add()
        rs.resource.attributes.append(KeyValue(key="service.name", value=AnyValue(string_value=service)))
        scope = rs.scope_spans.add()
        scope.scope.name = "tests"
        for s in group:
            out = scope.spans.add()
            out.trace_id = bytes.fromhex(s.trace_id)
            out.span_id = bytes.fromhex(s.span_id)
            if s.parent_id:
                out.parent_span_id = bytes.fromhex(s.parent_id)
            out.name = s.operation
            out.kind = s.kind  # type: ignore[assignment]
            out.start_time_unix_nano = s.start_us * 1000
            out.end_time_unix_nano = (s.start_us + s.duration_us) * 1000
            if s.error:
                out.status.code = Status.STATUS_CODE_ERROR
                out.status.message = s.message
            if s.peer:
                out.attributes.append(KeyValue(key="peer.service", value=AnyValue(string_value=s.peer)))
            if s.http_status:
                out.attributes.append(
                    KeyValue(key="http.response.status_code", value=AnyValue(int_value=s.http_status))
                )
            if s.resend:
                out.attributes.append(
                    KeyValue(key="http.request.resend_count", value=AnyValue(int_value=s.resend))
                )
    return request


def protobuf_body(spans: Sequence[Span]) -> bytes:
    return request_of(spans).SerializeToString()


def hex_ids(tree: dict) -> dict:  # type: ignore[type-arg]
    """OTLP JSON writes trace and span ids as hex, not protobuf JSON's base64."""
    import base64

    for rs in tree.get("resourceSpans", []):
        for scope in rs.get("scopeSpans", []):
            for span in scope.get("spans", []):
                for key in ("traceId", "spanId", "parentSpanId"):
                    if span.get(key):
                        span[key] = base64.b64decode(span[key]).hex()
    return tree


def json_body(spans: Sequence[Span]) -> bytes:
    """The OTLP JSON encoding (protobuf JSON mapping, ids in hex)."""
    return json.dumps(hex_ids(json_format.MessageToDict(request_of(spans)))).encode()


def gz(body: bytes) -> bytes:
    return gzip.compress(body)
