"""The run summary keeps what each run's first record shows (``storage.summary.Head``:
provider, account, region, summary, error, finding counts), so that a period's runs are read
without their records; derived here from the records already stored.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage import summary

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_HEAD = (
    ("provider", sa.String(32), False),
    ("account", sa.String(128), False),
    ("region", sa.String(64), True),
    ("summary", sa.Text(), False),
    ("error", sa.Text(), True),
    ("passed", sa.Integer(), False),
    ("failed", sa.Integer(), False),
)


def upgrade() -> None:
    # emptied first: a NOT NULL column is added to an empty table, then every run derived
    op.execute(sa.text("DELETE FROM evidence_run"))
    op.execute(sa.text("DELETE FROM evidence_run_state"))
    with op.batch_alter_table("evidence_run") as batch:
        for name, kind, nullable in _HEAD:
            batch.add_column(sa.Column(name, kind, nullable=nullable))
    summary.rebuild(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("evidence_run") as batch:
        for name, _, _ in reversed(_HEAD):
            batch.drop_column(name)
