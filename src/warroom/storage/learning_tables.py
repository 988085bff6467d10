"""Postmortems, the follow-up read model and reliability records, on the shared ``metadata``.

Migration 0006 creates exactly these tables.

- ``postmortems``: one per incident, the structured document as JSON, draft or
  published, with who published it and any recorded lint override.
- ``followups``: every follow-up of every incident, rewritten from the folded state in
  the transaction that appends the follow-up's event; ``followup list`` reads it across
  incidents (overdue first) without folding a single timeline.
- ``reliability_records``: what the reliability review needs of one incident, one row
  each. Imported history (``source`` json, csv or pagerduty, with the other tool's id)
  and warroom's own incidents (``source`` warroom, with ``incident`` and the
  ``version`` it was built from: a cache, rebuilt when the timeline moved on) live side
  by side, so a review over 50,000 incidents is one indexed scan. Each row also keeps
  what the review computes from the times (the five durations, the declaration's month),
  measured once when it is written.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from warroom.storage.tables import metadata
from warroom.storage.types import UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
# The review's five durations, measured when a record is written (NULL: not measured).
DURATIONS = ("detect", "declare", "acknowledge", "mitigate", "resolve")

postmortems = Table(
    "postmortems",
    metadata,
    Column("incident", Integer, ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True),
    Column("status", String(12), nullable=False),
    Column("document", Text, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", String(120), nullable=False),
    Column("published_at", UTCDateTime),
    Column("published_by", String(120)),
    Column("override_why", Text),
    Column("findings", Integer, nullable=False),
)

followups = Table(
    "followups",
    metadata,
    Column("incident", Integer, ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True),
    Column("ref", String(12), primary_key=True),
    Column("title", Text, nullable=False),
    Column("owner", String(120), nullable=False),
    Column("due", UTCDateTime, nullable=False),
    Column("kind", String(12), nullable=False),
    Column("status", String(8), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("closed_at", UTCDateTime),
    Column("why", Text),
    Index("ix_followups_status_due", "status", "due"),
    Index("ix_followups_owner", "owner"),
)

reliability_records = Table(
    "reliability_records",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("external_id", String(200), nullable=False),
    Column("incident", Integer, ForeignKey("incidents.number", ondelete="CASCADE"), unique=True),
    Column("version", Integer),
    Column("title", String(500), nullable=False),
    Column("services", Text, nullable=False),
    Column("severity", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("anchor_at", UTCDateTime),
    Column("impact_started_at", UTCDateTime),
    Column("detected_at", UTCDateTime),
    Column("declared_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("mitigated_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("closed_at", UTCDateTime),
    Column("month", String(7)),
    *(Column(f"{name}_seconds", Float) for name in DURATIONS),
    Column("factors", Text, nullable=False),
    Column("followups_done", Text, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    UniqueConstraint("source", "external_id", name="uq_reliability_records_source_id"),
    Index("ix_reliability_records_anchor", "anchor_at"),
)
