"""The status page's tables, on the shared ``metadata``; migration 0011 creates them.

- ``status_components``: a component state set by hand (one row per service while it holds).
- ``status_maintenance``: scheduled maintenance windows; ``services`` is a JSON list.
- ``status_generation``: one row whose number grows with every public event (a public
  update, a resolve, a component state set, a maintenance change), written in the event's
  transaction; every process compares it with the one its cached rendering was made at.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from warroom.storage.tables import BigId, metadata
from warroom.storage.types import UTCDateTime

status_components = Table(
    "status_components",
    metadata,
    Column("service", String(100), primary_key=True),
    Column("state", String(32), nullable=False),
    Column("reason", Text, nullable=False),
    Column("set_by", String(120), nullable=False),
    Column("set_at", UTCDateTime, nullable=False),
)

status_maintenance = Table(
    "status_maintenance",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("services", Text, nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("text", Text, nullable=False),
    Column("created_by", String(120), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("cancelled_at", UTCDateTime),
    Index("ix_status_maintenance_ends_at", "ends_at"),
)

status_generation = Table(
    "status_generation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("generation", BigInteger, nullable=False),
    Column("changed_at", UTCDateTime),
)
