"""OTLP/HTTP trace export bodies (protobuf or JSON, optionally gzip) → spans.

Parsed with the official ``opentelemetry-proto`` messages and protobuf's ``json_format``;
nothing here reads the wire format by hand. The one translation before ``json_format`` is
the OTLP JSON rule that trace and span ids are hex strings (protobuf's JSON mapping reads
``bytes`` as base64), applied by length, so base64 ids are accepted too.

Every limit fails the whole body (:class:`OtlpRejected`, with the HTTP status to answer),
so a bad request stores nothing.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from warroom.domain.xray.spans import Span

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
STATUS_ERROR = 2
PEER_KEYS = ("peer.service", "server.address", "net.peer.name")
HTTP_KEYS = ("http.response.status_code", "http.status_code")
TEXT_LIMIT = 200


class OtlpRejected(Exception):
    """The body is refused as a whole; ``status`` is 400, 413 or 415."""

    def __init__(self, status: int, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.status = status
        self.field = field


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 4 * 1024 * 1024  # decompressed
    max_spans: int = 10_000
    max_attribute_bytes: int = 16 * 1024


def inflate(raw: bytes, encoding: str | None, limit: int) -> bytes:
    """The body without its ``Content-Encoding`` (gzip or none), at most ``limit`` bytes."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        body = raw
    elif coding == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(raw, limit + 1)
        except zlib.error as error:
            raise OtlpRejected(400, f"the gzip body is corrupt: {error}") from None
        if len(body) <= limit and not inflater.eof:
            raise OtlpRejected(400, "the gzip body is truncated")
    else:
        raise OtlpRejected(415, f"Content-Encoding {encoding!r} is not supported; send gzip or none")
    if len(body) > limit:
        raise OtlpRejected(413, f"the decompressed body is larger than {limit} bytes")
    return body


def _hex_ids(node: Any) -> None:
    """OTLP JSON writes ids as hex; protobuf's JSON mapping expects base64: convert in place."""
    for resource in _items(node, "resourceSpans", "resource_spans"):
        for scope in _items(resource, "scopeSpans", "scope_spans"):
            for span in _items(scope, "spans"):
                if not isinstance(span, dict):
                    continue
                for key in ("traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id"):
                    value = span.get(key)
                    if isinstance(value, str) and value and len(value) in (16, 32):
                        try:
                            span[key] = base64.b64encode(bytes.fromhex(value)).decode()
                        except ValueError:
                            raise OtlpRejected(400, f"{key} {value[:40]!r} is not hex", key) from None
                for link in _items(span, "links"):
                    if isinstance(link, dict):
                        _hex_ids({"resourceSpans": [{"scopeSpans": [{"spans": [link]}]}]})


def _items(node: Any, *keys: str) -> list[Any]:
    if not isinstance(node, dict):
        return []
    for key in keys:
        value = node.get(key)
        if isinstance(value, list):
            return value
    return []


def decode_request(body: bytes, content_type: str | None) -> ExportTraceServiceRequest:
    """The export request of a body in either encoding; :class:`OtlpRejected` when unreadable."""
    kind = (content_type or PROTOBUF).split(";")[0].strip().lower()
    request = ExportTraceServiceRequest()
    if kind == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as error:
            raise OtlpRejected(
                400, f"the protobuf body is not an ExportTraceServiceRequest: {error}"
            ) from None
        return request
    if kind == JSON:
        try:
            tree = json.loads(body)
        except (ValueError, RecursionError) as error:
            raise OtlpRejected(400, f"the JSON body is not valid JSON: {error}") from None
        if not isinstance(tree, dict):
            raise OtlpRejected(400, "the JSON body must be an object with resourceSpans")
        _hex_ids(tree)
        try:
            json_format.ParseDict(tree, request, ignore_unknown_fields=True)
        except (json_format.ParseError, RecursionError) as error:
            raise OtlpRejected(400, f"the JSON body is not an ExportTraceServiceRequest: {error}") from None
        return request
    raise OtlpRejected(415, f"Content-Type {content_type!r} is not supported; send {PROTOBUF} or {JSON}")


def _value(value: AnyValue) -> str | int | float | bool | None:
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bool_value":
        return value.bool_value
    return None


def _check_size(attributes: Any, limit: int, where: str) -> None:
    for kv in attributes:
        value = kv.value
        which = value.WhichOneof("value")
        size = (
            len(value.string_value)
            if which == "string_value"
            else len(value.bytes_value)
            if which == "bytes_value"
            else value.ByteSize()
            if which in ("array_value", "kvlist_value")
            else 0
        )
        if size > limit:
            raise OtlpRejected(
                400, f"{where}: attribute {kv.key[:80]!r} is {size} bytes; at most {limit}", "attributes"
            )


def _attrs(attributes: Any) -> dict[str, Any]:
    return {kv.key: _value(kv.value) for kv in attributes}


def _first(attrs: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        found = attrs.get(key)
        if found not in (None, ""):
            return found
    return None


def _int(value: Any, default: int) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdecimal():
        return int(value)
    return default


def span_count(request: ExportTraceServiceRequest) -> int:
    return sum(len(scope.spans) for rs in request.resource_spans for scope in rs.scope_spans)


def spans_of(request: ExportTraceServiceRequest, limits: Limits) -> Iterator[Span]:
    """The request's spans; raises :class:`OtlpRejected` on the first invalid one."""
    index = 0
    for rs in request.resource_spans:
        _check_size(rs.resource.attributes, limits.max_attribute_bytes, "resource")
        resource = _attrs(rs.resource.attributes)
        service = str(resource.get("service.name") or "unknown_service")[:TEXT_LIMIT]
        for scope in rs.scope_spans:
            for span in scope.spans:
                yield _span(span, service, index, limits)
                index += 1


def _span(span: Any, service: str, index: int, limits: Limits) -> Span:
    where = f"span {index}"
    if len(span.trace_id) != 16 or not any(span.trace_id):
        raise OtlpRejected(400, f"{where}: traceId must be 16 bytes, not all zero", "traceId")
    if len(span.span_id) != 8 or not any(span.span_id):
        raise OtlpRejected(400, f"{where}: spanId must be 8 bytes, not all zero", "spanId")
    if span.parent_span_id and len(span.parent_span_id) != 8:
        raise OtlpRejected(400, f"{where}: parentSpanId must be 8 bytes", "parentSpanId")
    if span.end_time_unix_nano < span.start_time_unix_nano:
        raise OtlpRejected(400, f"{where}: ends before it starts", "endTimeUnixNano")
    _check_size(span.attributes, limits.max_attribute_bytes, where)
    attrs = _attrs(span.attributes)
    message = span.status.message or str(attrs.get("error.type") or "")
    return Span(
        trace_id=span.trace_id.hex(),
        span_id=span.span_id.hex(),
        parent_id=span.parent_span_id.hex(),
        service=service,
        operation=span.name[:TEXT_LIMIT],
        kind=int(span.kind),
        start_us=span.start_time_unix_nano // 1000,
        duration_us=(span.end_time_unix_nano - span.start_time_unix_nano) // 1000,
        error=span.status.code == STATUS_ERROR,
        peer=str(_first(attrs, PEER_KEYS) or "")[:TEXT_LIMIT],
        http_status=_int(_first(attrs, HTTP_KEYS), 0),
        grpc_status=_int(attrs.get("rpc.grpc.status_code"), -1),
        resend=_int(attrs.get("http.request.resend_count"), 0),
        message=message[:TEXT_LIMIT],
    )


def parse(raw: bytes, content_type: str | None, encoding: str | None, limits: Limits) -> list[Span]:
    """Every span of one export body, or :class:`OtlpRejected` (nothing partial)."""
    body = inflate(raw, encoding, limits.max_bytes)
    request = decode_request(body, content_type)
    count = span_count(request)
    if count > limits.max_spans:
        raise OtlpRejected(413, f"{count} spans in one request; at most {limits.max_spans}", "resourceSpans")
    return list(spans_of(request, limits))


def response_body(content_type: str | None, rejected: int = 0, message: str = "") -> tuple[bytes, str]:
    """An ``ExportTraceServiceResponse`` in the request's encoding (partial_success when
    spans were rejected)."""
    response = ExportTraceServiceResponse()
    if rejected:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(rejected_spans=rejected, error_message=message)
        )
    kind = (content_type or PROTOBUF).split(";")[0].strip().lower()
    if kind == JSON:
        return json_format.MessageToJson(response, indent=None).encode(), JSON
    return response.SerializeToString(), PROTOBUF


__all__ = ["JSON", "PROTOBUF", "KeyValue", "Limits", "OtlpRejected", "parse", "response_body"]
