"""Identities, their API keys (keyed hashes only) and token revocations.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Create ``identities``, ``identity_api_keys`` and ``token_revocations``."""
    op.create_table(
        "identities",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("roles", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identities"),
        sa.UniqueConstraint("name", name="uq_identities_name"),
    )
    op.create_table(
        "identity_api_keys",
        sa.Column("key_id", sa.Text, nullable=False),
        sa.Column("identity_id", sa.Text, nullable=False),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_identity_api_keys"),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name="fk_identity_api_keys_identity_id_identities",
        ),
    )
    op.create_index("ix_identity_api_keys_identity_id", "identity_api_keys", ["identity_id"])
    op.create_table(
        "token_revocations",
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", name="pk_token_revocations"),
    )


def downgrade() -> None:
    """Drop the three tables."""
    op.drop_table("token_revocations")
    op.drop_index("ix_identity_api_keys_identity_id", table_name="identity_api_keys")
    op.drop_table("identity_api_keys")
    op.drop_table("identities")
