"""The job key of evidence collected by a Celery worker (one record per scheduled slot).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("evidence") as batch:
        batch.add_column(sa.Column("job_key", sa.String(400), nullable=True))
    op.create_index("ux_evidence_job_key", "evidence", ["job_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_evidence_job_key", table_name="evidence")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("job_key")
