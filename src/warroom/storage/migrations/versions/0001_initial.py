"""The event log, the incident read model, snapshots and the change log.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("commander", sa.String(120)),
        sa.Column("declared_at", UTCDateTime, nullable=False),
        sa.Column("detected_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_incidents_open_severity", "incidents", ["is_open", "severity"])
    op.create_table(
        "incident_services",
        sa.Column(
            "number", sa.Integer, sa.ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("service", sa.String(100), primary_key=True),
    )
    op.create_index("ix_incident_services_service", "incident_services", ["service"])
    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("incident", sa.Integer, sa.ForeignKey("incidents.number"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("occurred_at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.UniqueConstraint("incident", "seq", name="uq_events_incident_seq"),
    )
    op.create_table(
        "snapshots",
        sa.Column(
            "number", sa.Integer, sa.ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("format", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
    )
    op.create_table(
        "changes",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("dedup", sa.String(600), unique=True),
        sa.Column("details", sa.Text, nullable=False),
    )
    op.create_index("ix_changes_service_at", "changes", ["service", "at"])


def downgrade() -> None:
    for table in ("changes", "snapshots", "events", "incident_services", "incidents"):
        op.drop_table(table)
