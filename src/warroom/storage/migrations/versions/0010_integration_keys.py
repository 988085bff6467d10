"""PagerDuty-shaped integration keys of ingest tokens (``warroom token create --integration-key``).

Each key is stored as its sha256, with its last four characters to tell keys apart in
listings, and the service its events route to.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integration_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("token_id", sa.Integer, sa.ForeignKey("tokens.id"), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("hint", sa.String(8), nullable=False),
        sa.Column("service", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_integration_keys_token", "integration_keys", ["token_id"])


def downgrade() -> None:
    op.drop_index("ix_integration_keys_token", table_name="integration_keys")
    op.drop_table("integration_keys")
