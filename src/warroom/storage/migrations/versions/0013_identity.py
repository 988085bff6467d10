"""People sign in as themselves: local accounts, server-side sessions, the sign-in
failures the rate limits count, and tokens that belong to someone
(``storage/identity_tables.py``; ``tokens.owner``/``tokens.kind``).

Revision ID: 0013
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from warroom.storage.types import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("handle", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("setup_hash", sa.String(64), unique=True),
        sa.Column("setup_expires_at", UTCDateTime),
        sa.Column("totp_secret", sa.String(64)),
        sa.Column("totp_pending", sa.String(64)),
        sa.Column("totp_last_step", BigId),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
        sa.Column("locked_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "account_sessions",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("hash", sa.String(64), nullable=False, unique=True),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_account_sessions_handle", "account_sessions", ["handle"])
    op.create_table(
        "login_failures",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("handle", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_login_failures_handle", "login_failures", ["handle", "at"])
    op.create_index("ix_login_failures_address", "login_failures", ["address", "at"])
    op.create_table(
        "device_logins",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("device_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_code", sa.String(16), nullable=False, unique=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("approved_by", sa.String(64)),
        sa.Column("token_id", sa.Integer),
    )
    with op.batch_alter_table("tokens") as batch:
        batch.add_column(sa.Column("owner", sa.String(64)))  # the person a token belongs to
        batch.add_column(sa.Column("kind", sa.String(20)))  # personal or service (NULL: service)


def downgrade() -> None:
    with op.batch_alter_table("tokens") as batch:
        batch.drop_column("kind")
        batch.drop_column("owner")
    op.drop_table("device_logins")
    op.drop_index("ix_login_failures_address", table_name="login_failures")
    op.drop_index("ix_login_failures_handle", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_index("ix_account_sessions_handle", table_name="account_sessions")
    op.drop_table("account_sessions")
    op.drop_table("accounts")
