"""Postmortems, follow-ups and reliability records (``storage/learning_tables.py``).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _incident(*, primary_key: bool = False, unique: bool = False) -> sa.Column[int]:
    return sa.Column(
        "incident",
        sa.Integer,
        sa.ForeignKey("incidents.number", ondelete="CASCADE"),
        primary_key=primary_key,
        unique=unique,
    )


def upgrade() -> None:
    op.create_table(
        "postmortems",
        _incident(primary_key=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("updated_by", sa.String(120), nullable=False),
        sa.Column("published_at", UTCDateTime),
        sa.Column("published_by", sa.String(120)),
        sa.Column("override_why", sa.Text),
        sa.Column("findings", sa.Integer, nullable=False),
    )
    op.create_table(
        "followups",
        _incident(primary_key=True),
        sa.Column("ref", sa.String(12), primary_key=True),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("owner", sa.String(120), nullable=False),
        sa.Column("due", UTCDateTime, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("closed_at", UTCDateTime),
        sa.Column("why", sa.Text),
    )
    op.create_index("ix_followups_status_due", "followups", ["status", "due"])
    op.create_index("ix_followups_owner", "followups", ["owner"])
    op.create_table(
        "reliability_records",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("external_id", sa.String(200), nullable=False),
        _incident(unique=True),
        sa.Column("version", sa.Integer),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("services", sa.Text, nullable=False),
        sa.Column("severity", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("anchor_at", UTCDateTime),
        *(
            sa.Column(name, UTCDateTime)
            for name in (
                "impact_started_at",
                "detected_at",
                "declared_at",
                "acknowledged_at",
                "mitigated_at",
                "resolved_at",
                "closed_at",
            )
        ),
        sa.Column("month", sa.String(7)),
        *(
            sa.Column(f"{name}_seconds", sa.Float)
            for name in ("detect", "declare", "acknowledge", "mitigate", "resolve")
        ),
        sa.Column("factors", sa.Text, nullable=False),
        sa.Column("followups_done", sa.Text, nullable=False),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("source", "external_id", name="uq_reliability_records_source_id"),
    )
    op.create_index("ix_reliability_records_anchor", "reliability_records", ["anchor_at"])


def downgrade() -> None:
    for table in ("reliability_records", "followups", "postmortems"):
        op.drop_table(table)
