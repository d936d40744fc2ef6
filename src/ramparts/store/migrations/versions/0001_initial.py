"""Initial schema: the history of scan runs.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``scan_runs`` and its (target, started_at) index for "latest run of X"."""
    op.create_table(
        "scan_runs",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        sa.Column("tool_version", sa.Text, nullable=False),
        sa.Column("exit_code", sa.Integer, nullable=False),
        sa.Column("findings", sa.Integer, nullable=False),
        sa.Column("severity_counts", sa.Text, nullable=False),
        sa.Column("report_json", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scan_runs"),
    )
    op.create_index("ix_scan_runs_target_started_at", "scan_runs", ["target", "started_at"])


def downgrade() -> None:
    """Drop ``scan_runs``."""
    op.drop_index("ix_scan_runs_target_started_at", table_name="scan_runs")
    op.drop_table("scan_runs")
