"""Control status transitions recorded by the daemon, with their alert delivery state.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

big_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
utc = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "status_transition",
        sa.Column("id", big_id, primary_key=True, autoincrement=True),
        sa.Column("control_id", sa.String(16), nullable=False),
        sa.Column("from_state", sa.String(32), nullable=True),
        sa.Column("to_state", sa.String(32), nullable=False),
        sa.Column("at", utc, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("alert_state", sa.String(16), nullable=False),
        sa.Column("alerted_at", utc, nullable=True),
    )
    op.create_index("ix_status_transition_control", "status_transition", ["control_id", "id"])
    op.create_index("ix_status_transition_at", "status_transition", ["at"])
    op.create_index("ix_status_transition_alert", "status_transition", ["alert_state"])


def downgrade() -> None:
    op.drop_index("ix_status_transition_alert", table_name="status_transition")
    op.drop_index("ix_status_transition_at", table_name="status_transition")
    op.drop_index("ix_status_transition_control", table_name="status_transition")
    op.drop_table("status_transition")
