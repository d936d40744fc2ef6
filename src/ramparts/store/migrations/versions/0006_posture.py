"""The history of posture runs, for trends and diffs.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``posture_runs``."""
    op.create_table(
        "posture_runs",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tool_version", sa.Text, nullable=False),
        sa.Column("score", sa.Float, nullable=True),
        sa.Column("statuses", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_posture_runs"),
    )
    op.create_index("ix_posture_runs_target_started_at", "posture_runs", ["target", "started_at"])


def downgrade() -> None:
    """Drop ``posture_runs``."""
    op.drop_index("ix_posture_runs_target_started_at", table_name="posture_runs")
    op.drop_table("posture_runs")
