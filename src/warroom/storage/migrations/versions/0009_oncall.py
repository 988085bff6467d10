"""On call: people, teams, schedules, overrides, policies, pages, notifications, heartbeats
(``storage/oncall_tables.py``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _document(name: str, key: str, length: int = 64) -> None:
    op.create_table(
        name,
        sa.Column(key, sa.String(length), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )


def upgrade() -> None:
    _document("oncall_people", "handle")
    _document("oncall_teams", "name")
    _document("oncall_schedules", "name")
    op.create_table(
        "oncall_overrides",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column(
            "schedule",
            sa.String(64),
            sa.ForeignKey("oncall_schedules.name", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("start_at", UTCDateTime, nullable=False),
        sa.Column("end_at", UTCDateTime, nullable=False),
        sa.Column("replaces", sa.String(64)),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created_by", sa.String(120), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_oncall_overrides_schedule_end", "oncall_overrides", ["schedule", "end_at"])
    _document("oncall_policies", "name")
    op.create_table(
        "oncall_service_policies",
        sa.Column("service", sa.String(100), primary_key=True),
        sa.Column("policy", sa.String(64), nullable=False),
    )
    op.create_table(
        "pages",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("policy", sa.String(64)),
        sa.Column("first_policy", sa.String(64)),
        sa.Column("targets", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("incident", sa.Integer),
        sa.Column("team", sa.String(100)),
        sa.Column("dedup", sa.String(200)),
        sa.Column("open_dedup", sa.String(200), unique=True),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("trigger", sa.Integer, nullable=False),
        sa.Column("fell_back", sa.Boolean, nullable=False),
        sa.Column("due_at", UTCDateTime),
        sa.Column("opened_at", UTCDateTime, nullable=False),
        sa.Column("opened_by", sa.String(120), nullable=False),
        sa.Column("triggered_at", UTCDateTime, nullable=False),
        sa.Column("acked_at", UTCDateTime),
        sa.Column("acked_by", sa.String(120)),
        sa.Column("ack_step", sa.Integer),
        sa.Column("resolved_at", UTCDateTime),
        sa.Column("resolved_by", sa.String(120)),
    )
    op.create_index("ix_pages_due_at", "pages", ["due_at"])
    op.create_index("ix_pages_incident", "pages", ["incident"])
    op.create_index("ix_pages_opened_at", "pages", ["opened_at"])
    op.create_table(
        "page_notifications",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("page_id", BigId, sa.ForeignKey("pages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("key", sa.String(255), nullable=False, unique=True),
        sa.Column("person", sa.String(64), nullable=False),
        sa.Column("method", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("step", sa.Integer, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("trigger", sa.Integer, nullable=False),
        sa.Column("policy", sa.String(64), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
    )
    op.create_index("ix_page_notifications_status_due", "page_notifications", ["status", "due_at"])
    op.create_index("ix_page_notifications_page", "page_notifications", ["page_id"])
    op.create_table(
        "heartbeats",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("document", sa.Text, nullable=False),
        sa.Column("last_seen", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "heartbeats",
        "page_notifications",
        "pages",
        "oncall_service_policies",
        "oncall_policies",
        "oncall_overrides",
        "oncall_schedules",
        "oncall_teams",
        "oncall_people",
    ):
        op.drop_table(table)
