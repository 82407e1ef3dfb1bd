"""Status from sealed facts: the unsealed latest-evidence pointer table goes (status reads the
sealed records); the ledger chains every non-evidence fact; runs record annexa's version and
the identities that collected them. Existing rows enter the ledger in table order.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.drop_table("latest_evidence")
    # plain ADD COLUMN (a batch copy of "run" would trip the evidence foreign key on SQLite)
    op.add_column("run", sa.Column("annexa_version", sa.String(64), nullable=True))
    op.add_column("run", sa.Column("collected_by", sa.JSON, nullable=True))
    op.create_table(
        "ledger",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(64), nullable=False),
        sa.Column("body", sa.JSON, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False, unique=True),
    )
    op.create_index("ix_ledger_ref", "ledger", ["kind", "ref", "id"])
    _backfill_ledger()


def _backfill_ledger() -> None:
    from storage.ledger import LEDGER_TABLES, append_entry

    conn = op.get_bind()
    for kind, table in LEDGER_TABLES.items():
        order = table.c.started_at if kind == "run" else table.c.id
        for row in conn.execute(sa.select(table).order_by(order, table.c.id)).all():
            append_entry(conn, kind, row.id, row._asdict())


def downgrade() -> None:
    op.drop_index("ix_ledger_ref", table_name="ledger")
    op.drop_table("ledger")
    op.execute("ALTER TABLE run DROP COLUMN collected_by")
    op.execute("ALTER TABLE run DROP COLUMN annexa_version")
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
        sa.Column("failing_resources", sa.JSON, nullable=False, server_default="[]"),
    )
