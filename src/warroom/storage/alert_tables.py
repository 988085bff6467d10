"""The alert tables: one row per (source, fingerprint), its transitions, and silences.

Defined on the shared ``metadata`` of :mod:`warroom.storage.tables`; migration ``0003``
creates exactly these. ``uq_alerts_source_fingerprint`` is what makes ingest idempotent
across processes (``INSERT ... ON CONFLICT DO NOTHING``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from warroom.storage.tables import BigId, metadata
from warroom.storage.types import UTCDateTime

alerts = Table(
    "alerts",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("fingerprint", String(255), nullable=False),
    Column("status", String(10), nullable=False),
    Column("name", String(200), nullable=False),
    Column("summary", Text, nullable=False),
    Column("severity", String(10)),
    Column("service", String(100), nullable=False),
    Column("team", String(120)),
    Column("ownership_unclear", Boolean, nullable=False),
    Column("labels", Text, nullable=False),
    Column("annotations", Text, nullable=False),
    Column("extra", Text, nullable=False),
    Column("group_key", Text),
    Column("starts_at", UTCDateTime),
    Column("ends_at", UTCDateTime),
    Column("acknowledged_at", UTCDateTime),
    Column("first_seen_at", UTCDateTime, nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
    Column("incident", Integer, ForeignKey("incidents.number")),
    UniqueConstraint("source", "fingerprint", name="uq_alerts_source_fingerprint"),
    Index("ix_alerts_queue", "status", "incident", "service"),
    # attached alerts only (migration 0016): reads by incident imply it, and a storm's
    # unattached alerts cost no entry
    Index(
        "ix_alerts_incident",
        "incident",
        postgresql_where=text("incident IS NOT NULL"),
        sqlite_where=text("incident IS NOT NULL"),
    ),
)

# Every firing/resolved transition of an alert, in the order they were recorded. Migration
# 0015 drops the foreign key on PostgreSQL (it cost a row lock per transition; only the
# alert store writes transitions, with their alert, and alerts are never deleted).
alert_transitions = Table(
    "alert_transitions",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("alert", BigId, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(10), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Index("ix_alert_transitions_alert", "alert"),
)

alert_silences = Table(
    "alert_silences",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("service", String(100), nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # A scheduled maintenance window's silence starts with the window (NULL: at once).
    Column("starts_at", UTCDateTime),
    Column("maintenance_id", BigInteger),
    Index("ix_alert_silences_service_until", "service", "until"),
)
