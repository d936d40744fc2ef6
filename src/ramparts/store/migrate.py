"""Versioned migrations, run programmatically with Alembic (no alembic.ini needed).

:func:`upgrade` applies every migration in one transaction, so a failure leaves the
schema as it was (PostgreSQL and, with our engine, SQLite both have transactional
DDL). Concurrent upgrades serialise: across processes on PostgreSQL through a
transaction-scoped advisory lock, on SQLite through ``BEGIN IMMEDIATE``; the second
one finds the schema current and does nothing. Within one process a lock serialises
them as well, because Alembic keeps the running migration in module globals
(``alembic.context``, ``alembic.op``).
"""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from ramparts.store.engine import begin_write, failure_reason, redact_url
from ramparts.store.interface import MigrationError

__all__ = ["current_revision", "head_revision", "require_current", "upgrade"]

_SCRIPTS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key: "ramparts" read as ASCII bytes, fixed so that every
# version of ramparts takes the same lock.
_PG_LOCK_KEY = int.from_bytes(b"ramparts", "big") & 0x7FFF_FFFF_FFFF_FFFF
_PROCESS_LOCK = threading.Lock()


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_SCRIPTS))
    return cfg


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    """The newest migration shipped with this version of ramparts."""
    head = _scripts().get_current_head()
    if head is None:
        raise MigrationError("no migrations found in the package")
    return head


def _revision_of(conn: sa.Connection) -> str | None:
    rev: str | None = MigrationContext.configure(conn).get_current_revision()
    return rev


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (``None`` for an empty database)."""
    try:
        with engine.connect() as conn:
            return _revision_of(conn)
    except sa.exc.SQLAlchemyError as exc:
        reason = failure_reason(exc, engine.url)
        raise MigrationError(
            f"cannot read the schema version of {redact_url(engine.url)}: {reason}"
        ) from exc


def _check_known(revision: str | None, engine: sa.Engine) -> None:
    if revision is None:
        return
    known = {script.revision for script in _scripts().walk_revisions()}
    if revision not in known:
        raise MigrationError(
            f"{redact_url(engine.url)} is at schema revision {revision!r}, newer than this "
            f"ramparts knows (head {head_revision()!r}): upgrade ramparts"
        )


def require_current(engine: sa.Engine) -> None:
    """Raise :class:`MigrationError` unless the schema is at :func:`head_revision`.

    Services call this at start-up instead of migrating on their own: a schema change
    is an operator's decision (``ramparts db upgrade``).
    """
    revision = current_revision(engine)
    _check_known(revision, engine)
    if revision != head_revision():
        raise MigrationError(
            f"{redact_url(engine.url)} is at schema revision {revision!r}, this ramparts "
            f"needs {head_revision()!r}: run 'ramparts db upgrade'"
        )


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` in one transaction; running it again is a no-op."""
    cfg = _config()
    try:
        with _PROCESS_LOCK, begin_write(engine) as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            _check_known(_revision_of(conn), engine)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except sa.exc.SQLAlchemyError as exc:
        reason = failure_reason(exc, engine.url)
        raise MigrationError(f"migrating {redact_url(engine.url)} failed: {reason}") from exc
    except CommandError as exc:
        # Alembic's own refusals (an unknown target revision, several heads).
        reason = str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__
        raise MigrationError(f"migrating {redact_url(engine.url)} failed: {reason}") from exc
