"""Table definitions (SQLAlchemy Core): the code queries these, migrations create them.

A migration is a frozen copy of the schema at its revision and never imports this
module's tables; ``tests/store/test_migrate.py`` checks that the migrated database
matches these definitions, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = ["NAMING_CONVENTION", "metadata", "scan_runs"]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
"""Constraint names are explicit so that later migrations can alter them by name on
both backends (SQLite otherwise leaves them unnamed)."""

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)
"""Every table ramparts keeps in its database."""

scan_runs = sa.Table(
    "scan_runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("tool_version", sa.Text, nullable=False),
    sa.Column("exit_code", sa.Integer, nullable=False),
    sa.Column("findings", sa.Integer, nullable=False),
    sa.Column("severity_counts", sa.Text, nullable=False),
    sa.Column("report_json", sa.Text, nullable=False),
    sa.Index(None, "target", "started_at"),
)
"""History of ``ramparts scan --record`` runs, for baselines and trends.

``severity_counts`` and ``report_json`` are JSON text, not a JSON type: the same
bytes on both backends, and the report is stored exactly as rendered.
"""
