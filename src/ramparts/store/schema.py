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
    "gateway_kills",
    "identities",
    "identity_api_keys",
    "identity_mfa",
    "lineage_edges",
    "lineage_transforms",
    "metadata",
    "posture_runs",
    "registry_approvals",
    "registry_assets",
    "registry_deployments",
    "registry_exceptions",
    "registry_stage_history",
    "registry_stages",
    "registry_versions",
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
    sa.Column("teams", sa.Text, nullable=False, server_default="[]"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
    sa.UniqueConstraint("name"),
)
"""People and services that authenticate: ``kind`` is ``human`` or ``service``, ``roles``
a JSON list of role names, ``teams`` the JSON list of teams whose registry assets the
identity may see (empty: organisation-wide). A revoked identity keeps its row (and its name) with
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

identity_mfa = sa.Table(
    "identity_mfa",
    metadata,
    sa.Column("principal_id", sa.Text, primary_key=True),
    sa.Column("secret_sealed", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_step", sa.BigInteger, nullable=True),
)
"""TOTP second factors by principal id (an identity's id, or ``local-admin``): the
shared secret sealed with AES-GCM under a key-store key, and the last time step
accepted, so that a code is never accepted twice."""

registry_assets = sa.Table(
    "registry_assets",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("team", sa.Text, nullable=True),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("classification", sa.Text, nullable=False),
    sa.Column("tags", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("kind", "name"),
)
"""Models, datasets and endpoints: ``kind`` says which, ``team`` owns it (no team: an
orphan), ``tags`` is a JSON object."""

registry_versions = sa.Table(
    "registry_versions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("asset_id", sa.Text, sa.ForeignKey("registry_assets.id"), nullable=False),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("author", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("blob", sa.Text, nullable=True),
    sa.Column("signature", sa.Text, nullable=True),
    sa.Column("provenance", sa.Text, nullable=True),
    sa.Column("scan", sa.Text, nullable=True),
    sa.Column("bom", sa.Text, nullable=True),
    sa.Column("metrics", sa.Text, nullable=False),
    sa.Column("approved_by", sa.Text, nullable=True),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("asset_id", "version"),
    sa.Index(None, "asset_id", "seq"),
)
"""Versions of an asset. ``seq`` orders them within the asset; ``digest`` is the
artifact's SHA-256 (a folder's OpenSSF Model Signing subject digest); ``state`` is
``registered``, ``approved``, ``rejected``, ``quarantined`` or ``deleted``; ``blob``
names the encrypted artifact in the artifact store (NULL once deleted). ``signature``
and ``provenance`` hold the bundles as given; ``scan`` the scan summary (JSON),
``bom`` the CycloneDX document, ``metrics`` a JSON object."""

registry_stages = sa.Table(
    "registry_stages",
    metadata,
    sa.Column("asset_id", sa.Text, sa.ForeignKey("registry_assets.id"), primary_key=True),
    sa.Column("stage", sa.Text, primary_key=True),
    sa.Column("version_id", sa.Text, sa.ForeignKey("registry_versions.id"), nullable=True),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)
"""Which version each stage of an asset holds now (NULL: none)."""

registry_stage_history = sa.Table(
    "registry_stage_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asset_id", sa.Text, sa.ForeignKey("registry_assets.id"), nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("version_id", sa.Text, sa.ForeignKey("registry_versions.id"), nullable=True),
    sa.Column("action", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "asset_id", "stage", "id"),
)
"""Every move of a stage (promote, rollback, quarantine), in order; rollback reads it."""

registry_approvals = sa.Table(
    "registry_approvals",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("version_id", sa.Text, sa.ForeignKey("registry_versions.id"), nullable=False),
    sa.Column("principal", sa.Text, nullable=False),
    sa.Column("decision", sa.Text, nullable=False),
    sa.Column("comment", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "version_id"),
)
"""Approvals and rejections of versions, by whom and when."""

registry_exceptions = sa.Table(
    "registry_exceptions",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("version_id", sa.Text, sa.ForeignKey("registry_versions.id"), nullable=False),
    sa.Column("stage", sa.Text, nullable=False),
    sa.Column("gates", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("justification", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
"""Break-glass promotions: the gates bypassed (JSON list), by whom, and why."""

registry_deployments = sa.Table(
    "registry_deployments",
    metadata,
    sa.Column("endpoint_id", sa.Text, sa.ForeignKey("registry_assets.id"), primary_key=True),
    sa.Column("version_id", sa.Text, sa.ForeignKey("registry_versions.id"), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
)
"""Which model version each endpoint serves."""

lineage_transforms = sa.Table(
    "lineage_transforms",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("code_commit", sa.Text, nullable=True),
    sa.Column("environment", sa.Text, nullable=True),
    sa.Column("builder", sa.Text, nullable=True),
    sa.Column("attributes", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "environment"),
)
"""Transformations (training, fine-tuning, preprocessing runs): the code commit, the
environment or builder that ran them, and other attributes (JSON)."""

lineage_edges = sa.Table(
    "lineage_edges",
    metadata,
    sa.Column("source", sa.Text, primary_key=True),
    sa.Column("target", sa.Text, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index(None, "target"),
)
"""Directed edges of the lineage graph between nodes named ``KIND:ID``: ``version:ID``
(a dataset or model version), ``transform:ID`` and ``endpoint:ID``. Data flows from
``source`` to ``target``."""

posture_runs = sa.Table(
    "posture_runs",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("target", sa.Text, nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("tool_version", sa.Text, nullable=False),
    sa.Column("score", sa.Float, nullable=True),
    sa.Column("statuses", sa.Text, nullable=False),
    sa.Index(None, "target", "started_at"),
)
"""History of ``ramparts posture`` runs: the score (``NULL`` when no control passed or
failed) and each control's status as JSON text (``{"RP-SC-01": "PASS", ...}``), so that
a run can say what changed since the previous one."""

gateway_kills = sa.Table(
    "gateway_kills",
    metadata,
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("value", sa.Text, primary_key=True),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)
"""The gateway's kill switch when no Redis is configured: one row per engaged switch,
``scope`` ``global`` (``value`` ``*``), ``model`` or ``identity``; replicas poll it."""
