"""The X-ray's embedded trace store: ``xray_spans`` (see ``storage/xray_tables.py``).

Revision ID: 0014
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "xray_spans",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("trace_id", sa.String(32), nullable=False),
        sa.Column("span_id", sa.String(16), nullable=False),
        sa.Column("parent_id", sa.String(16), nullable=False),
        sa.Column("service", sa.String(200), nullable=False),
        sa.Column("operation", sa.String(200), nullable=False),
        sa.Column("kind", sa.SmallInteger, nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("duration_us", sa.BigInteger, nullable=False),
        sa.Column("error", sa.Boolean, nullable=False),
        sa.Column("peer", sa.String(200), nullable=False),
        sa.Column("http_status", sa.SmallInteger, nullable=False),
        sa.Column("grpc_status", sa.SmallInteger, nullable=False),
        sa.Column("resend", sa.Integer, nullable=False),
        sa.Column("message", sa.String(200), nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("decided", sa.Boolean, nullable=False),
        sa.Column("received_us", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_xray_spans_trace", "xray_spans", ["trace_id"])
    op.create_index("ix_xray_spans_service_start", "xray_spans", ["service", "start_us"])
    op.create_index("ix_xray_spans_pending", "xray_spans", ["decided", "received_us"])


def downgrade() -> None:
    op.drop_index("ix_xray_spans_pending", table_name="xray_spans")
    op.drop_index("ix_xray_spans_service_start", table_name="xray_spans")
    op.drop_index("ix_xray_spans_trace", table_name="xray_spans")
    op.drop_table("xray_spans")
