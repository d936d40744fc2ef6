"""The registry (assets, versions, stages, approvals, break-glass exceptions,
deployments), lineage, identity teams and TOTP second factors.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    """Create the registry and lineage tables; add ``identities.teams``."""
    with op.batch_alter_table("identities") as batch:
        batch.add_column(sa.Column("teams", sa.Text, nullable=False, server_default="[]"))
    op.create_table(
        "identity_mfa",
        sa.Column("principal_id", sa.Text, nullable=False),
        sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
        _when("created_at"),
        sa.Column("last_step", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("principal_id", name="pk_identity_mfa"),
    )
    op.create_table(
        "registry_assets",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("team", sa.Text, nullable=True),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("classification", sa.Text, nullable=False),
        sa.Column("tags", sa.Text, nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_registry_assets"),
        sa.UniqueConstraint("kind", "name", name="uq_registry_assets_kind_name"),
    )
    op.create_table(
        "registry_versions",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("asset_id", sa.Text, nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("digest", sa.Text, nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("author", sa.Text, nullable=False),
        _when("created_at"),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("blob", sa.Text, nullable=True),
        sa.Column("signature", sa.Text, nullable=True),
        sa.Column("provenance", sa.Text, nullable=True),
        sa.Column("scan", sa.Text, nullable=True),
        sa.Column("bom", sa.Text, nullable=True),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("approved_by", sa.Text, nullable=True),
        _when("approved_at", nullable=True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_registry_versions"),
        _fk("registry_versions", "asset_id", "registry_assets"),
        sa.UniqueConstraint("asset_id", "version", name="uq_registry_versions_asset_id_version"),
    )
    op.create_index("ix_registry_versions_asset_id_seq", "registry_versions", ["asset_id", "seq"])
    op.create_table(
        "registry_stages",
        sa.Column("asset_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("version_id", sa.Text, nullable=True),
        _when("updated_at"),
        sa.PrimaryKeyConstraint("asset_id", "stage", name="pk_registry_stages"),
        _fk("registry_stages", "asset_id", "registry_assets"),
        _fk("registry_stages", "version_id", "registry_versions"),
    )
    op.create_table(
        "registry_stage_history",
        sa.Column("id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("asset_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("version_id", sa.Text, nullable=True),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id", name="pk_registry_stage_history"),
        _fk("registry_stage_history", "asset_id", "registry_assets"),
        _fk("registry_stage_history", "version_id", "registry_versions"),
    )
    op.create_index(
        "ix_registry_stage_history_asset_id_stage_id",
        "registry_stage_history",
        ["asset_id", "stage", "id"],
    )
    op.create_table(
        "registry_approvals",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("version_id", sa.Text, nullable=False),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id", name="pk_registry_approvals"),
        _fk("registry_approvals", "version_id", "registry_versions"),
    )
    op.create_index("ix_registry_approvals_version_id", "registry_approvals", ["version_id"])
    op.create_table(
        "registry_exceptions",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("version_id", sa.Text, nullable=False),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("gates", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("justification", sa.Text, nullable=False),
        _when("at"),
        sa.PrimaryKeyConstraint("id", name="pk_registry_exceptions"),
        _fk("registry_exceptions", "version_id", "registry_versions"),
    )
    op.create_table(
        "registry_deployments",
        sa.Column("endpoint_id", sa.Text, nullable=False),
        sa.Column("version_id", sa.Text, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        _when("deployed_at"),
        sa.PrimaryKeyConstraint("endpoint_id", name="pk_registry_deployments"),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["registry_assets.id"],
            name="fk_registry_deployments_endpoint_id_registry_assets",
        ),
        _fk("registry_deployments", "version_id", "registry_versions"),
    )
    op.create_table(
        "lineage_transforms",
        sa.Column("id", sa.Text, nullable=False),
        sa.Column("code_commit", sa.Text, nullable=True),
        sa.Column("environment", sa.Text, nullable=True),
        sa.Column("builder", sa.Text, nullable=True),
        sa.Column("attributes", sa.Text, nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_lineage_transforms"),
    )
    op.create_index("ix_lineage_transforms_environment", "lineage_transforms", ["environment"])
    op.create_table(
        "lineage_edges",
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("target", sa.Text, nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("source", "target", name="pk_lineage_edges"),
    )
    op.create_index("ix_lineage_edges_target", "lineage_edges", ["target"])


def downgrade() -> None:
    """Drop what :func:`upgrade` created."""
    op.drop_index("ix_lineage_edges_target", table_name="lineage_edges")
    op.drop_table("lineage_edges")
    op.drop_index("ix_lineage_transforms_environment", table_name="lineage_transforms")
    op.drop_table("lineage_transforms")
    op.drop_table("registry_deployments")
    op.drop_table("registry_exceptions")
    op.drop_index("ix_registry_approvals_version_id", table_name="registry_approvals")
    op.drop_table("registry_approvals")
    op.drop_index(
        "ix_registry_stage_history_asset_id_stage_id", table_name="registry_stage_history"
    )
    op.drop_table("registry_stage_history")
    op.drop_table("registry_stages")
    op.drop_index("ix_registry_versions_asset_id_seq", table_name="registry_versions")
    op.drop_table("registry_versions")
    op.drop_table("registry_assets")
    op.drop_table("identity_mfa")
    with op.batch_alter_table("identities") as batch:
        batch.drop_column("teams")
