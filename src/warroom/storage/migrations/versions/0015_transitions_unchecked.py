"""On PostgreSQL, ``alert_transitions.alert`` loses its foreign key to ``alerts.id``.

Revision ID: 0015
Revises: 0014

The key was checked row by row by a trigger that locks the referenced alert (``FOR KEY
SHARE``, a WAL record of its own): a quarter of PostgreSQL's CPU per ingested alert
(bench/cluster_bench.py). Nothing it guarded against can happen: transitions are written
only by the alert store, in the transaction and statement that insert their alert
(``INSERT ... RETURNING`` joined to the transitions) or for an alert read under the
service's lock in that transaction, and alerts are never deleted. SQLite keeps the key: it
checks it cheaply, and dropping it there would mean rebuilding the table.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_NAME = "alert_transitions_alert_fkey"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(_NAME, "alert_transitions", type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key(_NAME, "alert_transitions", "alerts", ["alert"], ["id"], ondelete="CASCADE")
