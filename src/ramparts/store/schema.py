"""Table definitions (SQLAlchemy Core). Migrations create them; code queries them."""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["metadata", "scan_runs"]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

scan_runs = sa.Table(
    "scan_runs",
    metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("tool_version", sa.String(64), nullable=False),
    sa.Column("exit_code", sa.Integer, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("severity_counts", sa.Text, nullable=False),
    sa.Column("report_json", sa.Text, nullable=False),
    sa.Index("ix_scan_runs_target_started", "target", "started_at"),
)
