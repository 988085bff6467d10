"""One span, as every trace source (OTLP, Jaeger, Tempo) is translated to it."""

from __future__ import annotations

from typing import NamedTuple

# OpenTelemetry span kinds (the OTLP enum values).
KIND_INTERNAL, KIND_SERVER, KIND_CLIENT, KIND_PRODUCER, KIND_CONSUMER = 1, 2, 3, 4, 5
KIND_NAMES = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
GRPC_DEADLINE_EXCEEDED = 4
TIMEOUT_WORDS = ("deadline exceeded", "deadline_exceeded", "timeout", "timed out")


class Span(NamedTuple):
    """What the analysis needs of one span (a tuple: built by the hundred thousand per read).

    Times are integer microseconds since the epoch. ``error`` is the span's status
    (OTLP status code ERROR, or an error tag). ``peer`` names the remote side of a client
    span (``peer.service``, else ``server.address``), so a call into an uninstrumented
    dependency (a payment provider) is still a hop. ``http_status`` and ``grpc_status`` are
    the response codes when recorded, ``resend`` the ``http.request.resend_count`` (a retry
    when > 0), ``message`` the status message or ``error.type``. ``weight`` is how many
    traces of the stream this one stands for (the inverse of its sampling probability).
    """

    trace_id: str
    span_id: str
    parent_id: str
    service: str
    operation: str
    kind: int
    start_us: int
    duration_us: int
    error: bool = False
    peer: str = ""
    http_status: int = 0
    grpc_status: int = -1
    resend: int = 0
    message: str = ""
    weight: float = 1.0

    @property
    def end_us(self) -> int:
        return self.start_us + self.duration_us


def is_timeout(span: Span, client_timeout_us: int) -> bool:
    """A timeout: deadline exceeded, 504, a timeout message, or a failure without another
    status cut off at the client timeout (a call answered 502 after a slow upstream is not one)."""
    if span.http_status == 504 or span.grpc_status == GRPC_DEADLINE_EXCEEDED:
        return True
    lowered = span.message.lower()
    if lowered and any(word in lowered for word in TIMEOUT_WORDS):
        return True
    if span.http_status >= 400 or span.grpc_status > 0:
        return False
    return span.error and client_timeout_us > 0 and span.duration_us >= client_timeout_us * 0.98


def failure_kind(span: Span, client_timeout_us: int) -> str:
    """``timeout``, ``http <code>``, ``grpc <code>`` or ``error``: how a failed span failed."""
    if is_timeout(span, client_timeout_us):
        return "timeout"
    if span.http_status >= 400:
        return f"http {span.http_status}"
    if span.grpc_status > 0:
        return f"grpc {span.grpc_status}"
    return "error"
