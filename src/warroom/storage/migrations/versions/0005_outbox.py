"""Notification outbox, stakeholders and leased jobs.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("incident", sa.Integer),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("routed_at", UTCDateTime),
    )
    op.create_index("ix_outbox_routed_at", "outbox", ["routed_at"])
    op.create_table(
        "deliveries",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("outbox_id", BigId, sa.ForeignKey("outbox.id", ondelete="CASCADE"), nullable=False),
        sa.Column("channel", sa.String(320), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", UTCDateTime, nullable=False),
        sa.Column("lease_token", sa.String(64)),
        sa.Column("leased_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("delivered_at", UTCDateTime),
        sa.UniqueConstraint("outbox_id", "channel", name="uq_deliveries_outbox_channel"),
    )
    op.create_index("ix_deliveries_status_due", "deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "incident_stakeholders",
        sa.Column(
            "incident", sa.Integer, sa.ForeignKey("incidents.number", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("target", sa.String(320), primary_key=True),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("excluded", sa.Boolean, nullable=False),
        sa.Column("changed_by", sa.String(120), nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("name", sa.String(80), primary_key=True),
        sa.Column("next_run_at", UTCDateTime, nullable=False),
        sa.Column("lease_token", sa.String(64)),
        sa.Column("leased_until", UTCDateTime),
        sa.Column("last_started_at", UTCDateTime),
        sa.Column("last_finished_at", UTCDateTime),
        sa.Column("last_error", sa.Text),
    )


def downgrade() -> None:
    for table in ("jobs", "incident_stakeholders", "deliveries", "outbox"):
        op.drop_table(table)
