"""The embedded trace store's one table, on the shared ``metadata``; migration 0014 creates it.

``xray_spans``: one row per span, with only what the X-ray reads (no attribute bag), times
as integer microseconds since the epoch. ``decided`` is false until the tail-sampling job
has judged the span's trace (kept: true with the trace's ``weight``; dropped: deleted);
``received_us`` drives that job and retention.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Float, Index, Integer, SmallInteger, String, Table

from warroom.storage.tables import metadata

BigId = BigInteger().with_variant(Integer(), "sqlite")

xray_spans = Table(
    "xray_spans",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("trace_id", String(32), nullable=False),
    Column("span_id", String(16), nullable=False),
    Column("parent_id", String(16), nullable=False),
    Column("service", String(200), nullable=False),
    Column("operation", String(200), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("duration_us", BigInteger, nullable=False),
    Column("error", Boolean, nullable=False),
    Column("peer", String(200), nullable=False),
    Column("http_status", SmallInteger, nullable=False),
    Column("grpc_status", SmallInteger, nullable=False),
    Column("resend", Integer, nullable=False),
    Column("message", String(200), nullable=False),
    Column("weight", Float, nullable=False),
    Column("decided", Boolean, nullable=False),
    Column("received_us", BigInteger, nullable=False),
    Index("ix_xray_spans_trace", "trace_id"),
    Index("ix_xray_spans_service_start", "service", "start_us"),
    Index("ix_xray_spans_pending", "decided", "received_us"),
)

TABLES = (xray_spans,)
