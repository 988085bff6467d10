"""``ix_alerts_incident`` indexes attached alerts only.

Revision ID: 0016
Revises: 0015

Reads by incident (``incident = N``) are its only use, and such a condition implies
``incident IS NOT NULL``, so PostgreSQL and SQLite both use the partial index. A storm's
alerts mostly wait unattached in the triage queue: each of them cost an entry in this
index at insert and another at every later change of the row (a resolution is not a HOT
update: ``status`` is indexed), for nothing a read ever looked up.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_ATTACHED = sa.text("incident IS NOT NULL")


def upgrade() -> None:
    op.drop_index("ix_alerts_incident", table_name="alerts")
    op.create_index(
        "ix_alerts_incident", "alerts", ["incident"], postgresql_where=_ATTACHED, sqlite_where=_ATTACHED
    )


def downgrade() -> None:
    op.drop_index("ix_alerts_incident", table_name="alerts")
    op.create_index("ix_alerts_incident", "alerts", ["incident"])
