"""Alerts, their transitions, silences (alert ingestion).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("fingerprint", sa.String(255), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("severity", sa.String(10)),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("team", sa.String(120)),
        sa.Column("ownership_unclear", sa.Boolean, nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("annotations", sa.Text, nullable=False),
        sa.Column("extra", sa.Text, nullable=False),
        sa.Column("group_key", sa.Text),
        sa.Column("starts_at", UTCDateTime),
        sa.Column("ends_at", UTCDateTime),
        sa.Column("acknowledged_at", UTCDateTime),
        sa.Column("first_seen_at", UTCDateTime, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
        sa.Column("incident", sa.Integer, sa.ForeignKey("incidents.number")),
        sa.UniqueConstraint("source", "fingerprint", name="uq_alerts_source_fingerprint"),
    )
    op.create_index("ix_alerts_queue", "alerts", ["status", "incident", "service"])
    op.create_index("ix_alerts_incident", "alerts", ["incident"])
    op.create_table(
        "alert_transitions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("alert", BigId, sa.ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_alert_transitions_alert", "alert_transitions", ["alert"])
    op.create_table(
        "alert_silences",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("service", sa.String(100), nullable=False),
        sa.Column("until", UTCDateTime, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_alert_silences_service_until", "alert_silences", ["service", "until"])


def downgrade() -> None:
    for table in ("alert_silences", "alert_transitions", "alerts"):
        op.drop_table(table)
