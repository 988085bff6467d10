"""The status page's subscribers, on the shared ``metadata`` (migration 0012 creates it).

One row per address or webhook URL (``kind`` + ``target`` unique). ``services`` and
``pending_services`` are JSON lists (empty: every service); a confirmation copies the
pending choice into ``services``. ``confirm_sent_at`` rate-limits confirmation mails.
An unsubscribe deletes the row: nothing about a former subscriber is kept.
"""

from __future__ import annotations

from sqlalchemy import Column, Index, String, Table, Text, UniqueConstraint

from warroom.storage.tables import BigId, metadata
from warroom.storage.types import UTCDateTime

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("target", String(2000), nullable=False),
    Column("services", Text, nullable=False),
    Column("pending_services", Text, nullable=False),
    Column("state", String(10), nullable=False),
    Column("secret", String(100)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("confirmed_at", UTCDateTime),
    Column("confirm_sent_at", UTCDateTime),
    UniqueConstraint("kind", "target", name="uq_subscribers_kind_target"),
    Index("ix_subscribers_state", "state"),
)
