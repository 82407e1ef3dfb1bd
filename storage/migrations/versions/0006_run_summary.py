"""The run summary (``storage.summary``): one row per run of equal verdicts of a (check,
target), and the id range it was derived from. Migration 0007 gives it its current columns and
derives it from the records already stored (until then, with no id range, reads use the
records).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "evidence_run",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("target_key", sa.String(300), nullable=False),
        sa.Column("first_id", sa.BigInteger(), nullable=False),
        sa.Column("first_at", utc, nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("last_at", utc, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failing", sa.Text(), nullable=False),
        sa.Column("conclusive_at", utc, nullable=True),
        sa.Column("max_gap_us", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_evidence_run_key", "evidence_run", ["check_id", "target_key", "first_at", "first_id"]
    )
    op.create_index("ix_evidence_run_first", "evidence_run", ["first_at"])
    op.create_table(
        "evidence_run_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("low_id", sa.BigInteger(), nullable=True),
        sa.Column("high_id", sa.BigInteger(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("evidence_run_state")
    op.drop_index("ix_evidence_run_first", table_name="evidence_run")
    op.drop_index("ix_evidence_run_key", table_name="evidence_run")
    op.drop_table("evidence_run")
