"""Channel health for the outbox's circuit breaker; indexes for counts by channel and by
incident (``/metrics``, ``/readyz`` and the room read them).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_channels",
        sa.Column("name", sa.String(320), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("open_until", UTCDateTime),
        sa.Column("last_error", sa.Text),
        sa.Column("last_failure_at", UTCDateTime),
        sa.Column("last_success_at", UTCDateTime),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_deliveries_channel_status", "deliveries", ["channel", "status"])
    op.create_index("ix_outbox_incident", "outbox", ["incident"])


def downgrade() -> None:
    op.drop_index("ix_outbox_incident", "outbox")
    op.drop_index("ix_deliveries_channel_status", "deliveries")
    op.drop_table("outbox_channels")
