"""Subscribers of the public status page (email with double opt-in, or signed webhook).

Revision ID: 0012
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "subscribers",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("target", sa.String(2000), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("pending_services", sa.Text, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("secret", sa.String(100)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("confirmed_at", UTCDateTime),
        sa.Column("confirm_sent_at", UTCDateTime),
        sa.UniqueConstraint("kind", "target", name="uq_subscribers_kind_target"),
    )
    op.create_index("ix_subscribers_state", "subscribers", ["state"])


def downgrade() -> None:
    op.drop_index("ix_subscribers_state", table_name="subscribers")
    op.drop_table("subscribers")
