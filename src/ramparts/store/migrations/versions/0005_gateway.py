"""The gateway's kill switch table.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``gateway_kills``."""
    op.create_table(
        "gateway_kills",
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("scope", "value", name="pk_gateway_kills"),
    )


def downgrade() -> None:
    """Drop ``gateway_kills``."""
    op.drop_table("gateway_kills")
