"""The outbox, per-incident stakeholders and leased jobs, on the shared ``metadata``.

Migration 0005 creates these tables; 0008 adds ``outbox_channels`` and two indexes.

- ``outbox``: one row per notification, written in the transaction of the event (or
  reminder) that causes it; ``key`` is its idempotency key and, being unique, the dedup
  that makes a reminder fire once however many workers compute it. ``routed_at`` is set
  when its deliveries exist.
- ``deliveries``: one row per notification and channel; a worker leases a due row
  (``lease_token``, ``leased_until``), sends, and records the result under that token. A
  lease that expires (the worker died) makes the row claimable again: delivery is at
  least once, always with the notification's key.
- ``outbox_channels``: the health of each channel deliveries went to: consecutive failed
  attempts and, once they reach ``notify.circuit_failures``, ``open_until`` (the circuit
  is open: nobody sends to the channel before then, and then one probe). Shared by every
  worker, so all of them skip a failing channel and all of them show it.
- ``incident_stakeholders``: additions (and removals of playbook stakeholders) per
  incident; the timeline holds the matching events.
- ``jobs``: one row per scheduled job, leased so one worker runs it at a time.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from warroom.storage.tables import BigId, metadata
from warroom.storage.types import UTCDateTime

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("key", String(255), nullable=False, unique=True),
    Column("kind", String(40), nullable=False),
    Column("incident", Integer),
    Column("message", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("routed_at", UTCDateTime),
    Index("ix_outbox_routed_at", "routed_at"),
    Index("ix_outbox_incident", "incident"),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("outbox_id", BigId, ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(320), nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("lease_token", String(64)),
    Column("leased_until", UTCDateTime),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    UniqueConstraint("outbox_id", "channel", name="uq_deliveries_outbox_channel"),
    Index("ix_deliveries_status_due", "status", "next_attempt_at"),
    Index("ix_deliveries_channel_status", "channel", "status"),
)

outbox_channels = Table(
    "outbox_channels",
    metadata,
    Column("name", String(320), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("open_until", UTCDateTime),
    Column("last_error", Text),
    Column("last_failure_at", UTCDateTime),
    Column("last_success_at", UTCDateTime),
    Column("updated_at", UTCDateTime, nullable=False),
)

incident_stakeholders = Table(
    "incident_stakeholders",
    metadata,
    Column("incident", Integer, ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True),
    Column("target", String(320), primary_key=True),
    Column("audience", String(10), nullable=False),
    Column("excluded", Boolean, nullable=False),
    Column("changed_by", String(120), nullable=False),
    Column("changed_at", UTCDateTime, nullable=False),
)

jobs = Table(
    "jobs",
    metadata,
    Column("name", String(80), primary_key=True),
    Column("next_run_at", UTCDateTime, nullable=False),
    Column("lease_token", String(64)),
    Column("leased_until", UTCDateTime),
    Column("last_started_at", UTCDateTime),
    Column("last_finished_at", UTCDateTime),
    Column("last_error", Text),
)
