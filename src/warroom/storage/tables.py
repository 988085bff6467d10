"""The schema: the append-only event log, the read models and the change log.

Alembic migrations under ``migrations/versions`` create exactly these tables; a test
compares them so the two cannot drift.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from warroom.storage.types import UTCDateTime

metadata = MetaData()

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
BigId = BigInteger().with_variant(Integer(), "sqlite")

incidents = Table(
    "incidents",
    metadata,
    Column("number", Integer, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("is_open", Boolean, nullable=False),
    Column("severity", Integer, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("services", Text, nullable=False),
    Column("commander", String(120)),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("detected_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("last_hash", String(64), nullable=False),
    Index("ix_incidents_open_severity", "is_open", "severity"),
)

incident_services = Table(
    "incident_services",
    metadata,
    Column("number", Integer, ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True),
    Column("service", String(100), primary_key=True),
    Index("ix_incident_services_service", "service"),
)

events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("incident", Integer, ForeignKey("incidents.number"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("payload", Text, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("occurred_at", UTCDateTime, nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("incident", "seq", name="uq_events_incident_seq"),
)

snapshots = Table(
    "snapshots",
    metadata,
    Column("number", Integer, ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("format", Integer, nullable=False),
    Column("state", Text, nullable=False),
)

changes = Table(
    "changes",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("service", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("summary", Text, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("source", String(40), nullable=False),
    Column("dedup", String(600), unique=True),
    Column("details", Text, nullable=False),
    Index("ix_changes_service_at", "service", "at"),
)

# API tokens: only the sha256 of the secret is stored; revoked tokens stay for the audit trail.
tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(120), nullable=False, unique=True),
    Column("role", String(20), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("revoked_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("source", String(20)),  # an ingest token bound to one webhook source
    Column("owner", String(64)),  # the handle of the person the token belongs to
    Column("kind", String(20)),  # personal (acts as its owner) or service; NULL: service
)

# PagerDuty-shaped integration keys of ingest tokens: the routing_key of an Events API v2
# body authenticates as the token that carries it, and routes to ``service``.
integration_keys = Table(
    "integration_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_id", Integer, ForeignKey("tokens.id"), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("hint", String(8), nullable=False),  # the last four characters, to tell keys apart
    Column("service", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_integration_keys_token", "token_id"),
)

# The first answer to each POST with an Idempotency-Key, per actor (status 0: in flight).
idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("actor", String(120), nullable=False),
    Column("key", String(200), nullable=False),
    Column("method", String(10), nullable=False),
    Column("path", String(500), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    UniqueConstraint("actor", "key", name="uq_idempotency_actor_key"),
)
