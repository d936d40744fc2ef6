"""Table definitions (SQLAlchemy Core): the code queries these, migrations create them.

A migration is a frozen copy of the schema at its revision and never imports this
module's tables; ``tests/store/test_migrate.py`` checks that the migrated database
matches these definitions, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "NAMING_CONVENTION",
    "audit_checkpoints",
    "audit_entries",
    "audit_head",
    "audit_subject_keys",
    "identities",
    "identity_api_keys",
    "metadata",
    "scan_runs",
    "token_revocations",
]

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

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("event", sa.Text, nullable=False),
    sa.Column("subject", sa.Text, nullable=True),
    sa.Column("sealed", sa.LargeBinary, nullable=True),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "subject"),
)
"""The tamper-evident audit log: one row per event, never updated or deleted.

``event`` is the canonical JSON the leaf hash commits to; ``root`` is the RFC 6962 tree
head after this entry; ``sealed`` holds the event's personal fields encrypted under
the subject's key (the event commits to them by salted hash). Triggers created by the
migration refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL).
"""

audit_checkpoints = sa.Table(
    "audit_checkpoints",
    metadata,
    sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("root", sa.LargeBinary(32), nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
"""Signed checkpoints (C2SP signed notes) of the audit log; append-only like the entries."""

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("frontier", sa.Text, nullable=False),
)
"""The one row that says how many entries the log holds and the hashes of its complete
subtrees (hex, JSON list), so an append needs no read of older entries. Appenders lock
it (``BEGIN IMMEDIATE`` on SQLite, ``FOR UPDATE`` on PostgreSQL)."""

audit_subject_keys = sa.Table(
    "audit_subject_keys",
    metadata,
    sa.Column("subject", sa.Text, primary_key=True),
    sa.Column("data_key", sa.LargeBinary, nullable=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
)
"""Per-subject data keys of sealed personal fields; erasure destroys the key (sets it
to NULL), after which the subject's sealed fields can never be read again."""

identities = sa.Table(
    "identities",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("roles", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("name"),
)
"""People and services that authenticate: ``kind`` is ``human`` or ``service``, ``roles``
a JSON list of role names. A revoked identity keeps its row (and its name) with
``disabled_at`` set, so that audit events naming it stay meaningful."""

identity_api_keys = sa.Table(
    "identity_api_keys",
    metadata,
    sa.Column("key_id", sa.Text, primary_key=True),
    sa.Column("identity_id", sa.Text, sa.ForeignKey("identities.id"), nullable=False),
    sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    sa.Index(None, "identity_id"),
)
"""API keys by their public id; ``key_hash`` is HMAC-SHA256 under the server's pepper,
never the key. ``expires_at`` is set when a rotation gives the key a grace period."""

token_revocations = sa.Table(
    "token_revocations",
    metadata,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)
"""Revoked token ids (``kind`` ``jti``) and identities (``sub``) when no Redis is
configured; a row is kept until every token it could deny has expired."""
