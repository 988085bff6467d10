"""The status page: hand-set component states, scheduled maintenance, the page generation,
and silences that start later (a maintenance window's).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "status_components",
        sa.Column("service", sa.String(100), primary_key=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("set_by", sa.String(120), nullable=False),
        sa.Column("set_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "status_maintenance",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("ends_at", UTCDateTime, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("cancelled_at", UTCDateTime),
    )
    op.create_index("ix_status_maintenance_ends_at", "status_maintenance", ["ends_at"])
    generation = op.create_table(
        "status_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
        sa.Column("changed_at", UTCDateTime),
    )
    op.bulk_insert(generation, [{"id": 1, "generation": 0, "changed_at": None}])
    with op.batch_alter_table("alert_silences") as batch:
        batch.add_column(sa.Column("starts_at", UTCDateTime))
        batch.add_column(sa.Column("maintenance_id", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("alert_silences") as batch:
        batch.drop_column("maintenance_id")
        batch.drop_column("starts_at")
    op.drop_table("status_generation")
    op.drop_index("ix_status_maintenance_ends_at", table_name="status_maintenance")
    op.drop_table("status_maintenance")
    op.drop_table("status_components")
