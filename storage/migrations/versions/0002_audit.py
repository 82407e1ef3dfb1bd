"""Audit evidence: manual evidence blobs and items, exceptions, prune tombstones, failing
resources on the latest pointers, and the indexes point-in-time queries and pruning need.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-15
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("latest_evidence") as batch:
        batch.add_column(
            sa.Column("failing_resources", sa.JSON, nullable=False, server_default="[]")
        )
    _backfill_failing_resources()
    op.create_index(
        "ix_evidence_key_collected",
        "evidence",
        ["check_id", "target_key", "collected_at", "id"],
    )
    op.create_index("ix_evidence_observations", "evidence", ["observations_hash"])
    op.create_table(
        "evidence_blob",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("content", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "manual_evidence",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("control_id", sa.String(16), nullable=False),
        sa.Column("sha256", sa.String(64), sa.ForeignKey("evidence_blob.sha256"), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("media_type", sa.String(255), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("uploaded_at", utc, nullable=False),
        sa.Column("valid_from", utc, nullable=False),
        sa.Column("valid_until", utc, nullable=False),
        sa.Column("uploaded_by", sa.String(255), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_manual_evidence_control", "manual_evidence", ["control_id", "uploaded_at"])
    op.create_table(
        "risk_exception",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("check_id", sa.String(200), nullable=False),
        sa.Column("resource_pattern", sa.String(1000), nullable=False),
        sa.Column("target_pattern", sa.String(300), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("approved_by", sa.String(255), nullable=False),
        sa.Column("created_at", utc, nullable=False),
        sa.Column("expires_at", utc, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_risk_exception_check", "risk_exception", ["check_id"])
    op.create_table(
        "risk_exception_revocation",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column(
            "exception_id",
            big_id,
            sa.ForeignKey("risk_exception.id"),
            nullable=False,
            unique=True,
        ),
        sa.Column("revoked_at", utc, nullable=False),
        sa.Column("revoked_by", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("row_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "prune_tombstone",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("pruned_at", utc, nullable=False),
        sa.Column("before", utc, nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("first_id", sa.BigInteger, nullable=False),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.Column("first_hash", sa.String(64), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
    )


def _backfill_failing_resources() -> None:
    """Failing resources of every existing latest pointer whose record failed."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT l.check_id, l.target_key, e.findings FROM latest_evidence l "
            "JOIN evidence e ON e.id = l.evidence_id WHERE l.failed > 0"
        )
    ).all()
    for check_id, target_key, findings in rows:
        if isinstance(findings, str):
            findings = json.loads(findings)
        failing = sorted({f["resource"] for f in findings or [] if not f.get("passed")})
        conn.execute(
            sa.text(
                "UPDATE latest_evidence SET failing_resources = :failing "
                "WHERE check_id = :check_id AND target_key = :target_key"
            ).bindparams(sa.bindparam("failing", type_=sa.JSON)),
            {"failing": failing, "check_id": check_id, "target_key": target_key},
        )


def downgrade() -> None:
    op.drop_table("prune_tombstone")
    op.drop_table("risk_exception_revocation")
    op.drop_index("ix_risk_exception_check", table_name="risk_exception")
    op.drop_table("risk_exception")
    op.drop_index("ix_manual_evidence_control", table_name="manual_evidence")
    op.drop_table("manual_evidence")
    op.drop_table("evidence_blob")
    op.drop_index("ix_evidence_observations", table_name="evidence")
    op.drop_index("ix_evidence_key_collected", table_name="evidence")
    with op.batch_alter_table("latest_evidence") as batch:
        batch.drop_column("failing_resources")
