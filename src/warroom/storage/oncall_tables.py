"""On call: the directory, schedules, policies, pages and heartbeats, on the shared ``metadata``.

Migration 0008 creates exactly these tables.

- ``oncall_people``, ``oncall_teams``, ``oncall_schedules``, ``oncall_policies``: one row
  each, the validated document as JSON (contact methods hold credentials: they are only
  ever shown redacted). ``oncall_service_policies`` names a service's escalation policy.
- ``oncall_overrides``: one row per override; overrides of a schedule never overlap.
- ``pages``: one row per page. ``due_at`` is when it next needs the escalation tick (a
  step to fire, an ack timeout); the tick locks due rows with ``FOR UPDATE SKIP LOCKED``
  so each step fires on one worker, once. ``open_dedup`` is the dedup key while the page
  is open (NULL once resolved): one incident, or one silent heartbeat, has one open page.
- ``page_notifications``: every notification a step planned, one person and one contact
  method each; the ones a notification rule delays wait here (``pending``) until due, and
  are ``cancelled`` when the page is acknowledged first. ``key`` is the outbox key.
- ``heartbeats``: monitors and when their last beat arrived.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text

from warroom.storage.tables import BigId, metadata
from warroom.storage.types import UTCDateTime

oncall_people = Table(
    "oncall_people",
    metadata,
    Column("handle", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

oncall_teams = Table(
    "oncall_teams",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

oncall_schedules = Table(
    "oncall_schedules",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

oncall_overrides = Table(
    "oncall_overrides",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("schedule", String(64), ForeignKey("oncall_schedules.name", ondelete="CASCADE"), nullable=False),
    Column("person", String(64), nullable=False),
    Column("start_at", UTCDateTime, nullable=False),
    Column("end_at", UTCDateTime, nullable=False),
    Column("replaces", String(64)),
    Column("note", Text, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_oncall_overrides_schedule_end", "schedule", "end_at"),
)

oncall_policies = Table(
    "oncall_policies",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

oncall_service_policies = Table(
    "oncall_service_policies",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("policy", String(64), nullable=False),
)

pages = Table(
    "pages",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("status", String(12), nullable=False),
    Column("policy", String(64)),
    Column("first_policy", String(64)),
    Column("targets", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("incident", Integer),
    Column("team", String(100)),
    Column("dedup", String(200)),
    Column("open_dedup", String(200), unique=True),
    Column("step", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("trigger", Integer, nullable=False),
    Column("fell_back", Boolean, nullable=False),
    Column("due_at", UTCDateTime),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_by", String(120), nullable=False),
    Column("triggered_at", UTCDateTime, nullable=False),
    Column("acked_at", UTCDateTime),
    Column("acked_by", String(120)),
    Column("ack_step", Integer),
    Column("resolved_at", UTCDateTime),
    Column("resolved_by", String(120)),
    Index("ix_pages_due_at", "due_at"),
    Index("ix_pages_incident", "incident"),
    Index("ix_pages_opened_at", "opened_at"),
)

page_notifications = Table(
    "page_notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("page_id", BigId, ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
    Column("key", String(255), nullable=False, unique=True),
    Column("person", String(64), nullable=False),
    Column("method", String(64), nullable=False),
    Column("kind", String(12), nullable=False),
    Column("step", Integer, nullable=False),
    Column("round", Integer, nullable=False),
    Column("trigger", Integer, nullable=False),
    Column("policy", String(64), nullable=False),
    Column("status", String(12), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime),
    Index("ix_page_notifications_status_due", "status", "due_at"),
    Index("ix_page_notifications_page", "page_id"),
)

heartbeats = Table(
    "heartbeats",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("document", Text, nullable=False),
    Column("last_seen", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
)

TABLES = (
    oncall_people,
    oncall_teams,
    oncall_schedules,
    oncall_overrides,
    oncall_policies,
    oncall_service_policies,
    pages,
    page_notifications,
    heartbeats,
)
