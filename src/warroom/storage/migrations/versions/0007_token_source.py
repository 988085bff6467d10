"""Ingest tokens bound to one webhook source (``warroom token create --source``).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("source", sa.String(20)))


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("source")
