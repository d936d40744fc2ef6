"""Creating SQLAlchemy engines: SQLite with safe pragmas, PostgreSQL through psycopg 3.

SQLite runs in WAL mode with ``synchronous=FULL``: WAL lets readers proceed during a
write, and FULL makes each commit durable on disk before it returns, which the audit
log needs (an action is acknowledged only once its record is durable). Foreign keys
are enforced and a busy timeout makes concurrent writers wait instead of failing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ramparts.store.interface import StoreError

__all__ = ["create_engine", "ping", "redact_url"]

_BUSY_TIMEOUT_MS = 10_000


def redact_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:***@", str(url))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def create_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``: ``sqlite:///path`` (the file's directory is created) or
    ``postgresql://...`` (mapped to the psycopg 3 driver). Other schemes raise
    :class:`StoreError`. Connections are made lazily; :func:`ping` checks reachability.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"invalid database URL {redact_url(url)!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the state directory {path.parent}: {exc.strerror or exc}"
                ) from exc
        engine = sa.create_engine(parsed, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            return sa.create_engine(parsed, pool_pre_ping=True, **kwargs)
        except (NoSuchModuleError, ImportError) as exc:
            raise StoreError(
                "PostgreSQL needs psycopg 3: pip install 'ramparts[postgres]'"
            ) from exc
    raise StoreError(
        f"unsupported database URL scheme {parsed.drivername!r} (use sqlite:/// or postgresql://)"
    )


def ping(engine: sa.Engine) -> None:
    """Connect once; raise :class:`StoreError` (password hidden) if the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        orig = getattr(exc, "orig", None)
        reason = str(orig if orig is not None else exc).splitlines()[0]
        raise StoreError(f"cannot reach database {redact_url(engine.url)}: {reason}") from exc
