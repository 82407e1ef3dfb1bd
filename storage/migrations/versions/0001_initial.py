"""Initial schema: runs, content-addressed observations, chained evidence, latest pointers.

Revision ID: 0001
Revises:
Create Date: 2024-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "run",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("started_at", utc, nullable=False),
        sa.Column("finished_at", utc, nullable=True),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("planned", sa.Integer, nullable=False),
    )
    op.create_index("ix_run_outcome", "run", ["outcome"])
    op.create_table(
        "observation",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("content", sa.JSON, nullable=False),
    )
    op.create_table(
        "evidence",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.String(32), sa.ForeignKey("run.id"), nullable=False),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("check_version", sa.Integer, nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("target_key", sa.String(300), nullable=False),
        sa.Column("collected_at", utc, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("findings", sa.JSON, nullable=False),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column(
            "observations_hash",
            sa.String(64),
            sa.ForeignKey("observation.sha256"),
            nullable=False,
        ),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_evidence_check_collected", "evidence", ["check_id", "collected_at"])
    op.create_index("ix_evidence_run", "evidence", ["run_id"])
    op.create_table(
        "latest_evidence",
        sa.Column("check_id", sa.String(200), primary_key=True),
        sa.Column("target_key", sa.String(300), primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("account", sa.String(128), nullable=False),
        sa.Column("region", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("collected_at", utc, nullable=False),
        sa.Column("last_conclusive_at", utc, nullable=True),
        sa.Column("passed", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("evidence_id", big_id, sa.ForeignKey("evidence.id"), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("latest_evidence")
    op.drop_index("ix_evidence_run", table_name="evidence")
    op.drop_index("ix_evidence_check_collected", table_name="evidence")
    op.drop_table("evidence")
    op.drop_table("observation")
    op.drop_index("ix_run_outcome", table_name="run")
    op.drop_table("run")
