"""Creating SQLAlchemy engines: SQLite with safe settings, PostgreSQL through psycopg 3.

SQLite runs in WAL mode with ``synchronous=FULL``. WAL lets readers proceed while one
writer commits. ``NORMAL`` would be the usual WAL choice and survives a crash of the
process, but a power loss or OS crash can roll back the last commits; the audit log
acknowledges an action only once its record is durable, so each commit fsyncs the WAL
(``FULL``), which costs one fsync per transaction and nothing on reads. Foreign keys
are enforced, and a busy timeout makes a second writer wait instead of failing.

The ``sqlite3`` driver by default opens no transaction before DDL or SELECT, so a
migration half-applies when it fails and a savepoint is not part of its transaction;
the engine turns that off and emits ``BEGIN`` itself (SQLAlchemy's documented recipe),
which makes schema changes atomic. :func:`begin_write` emits ``BEGIN IMMEDIATE`` for read-then-write
transactions.

Engines connect lazily; :func:`ping` checks that the database answers.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from ramparts.errors import AuditError
from ramparts.store.interface import StoreError

__all__ = [
    "begin_write",
    "create_engine",
    "failure_reason",
    "ping",
    "recorded_or_undone",
    "redact_url",
    "store_error",
]

_BUSY_TIMEOUT_MS = 10_000
_PG_CONNECT_TIMEOUT_S = 10
_SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
_PG_SCHEMES = frozenset({"postgresql", "postgres", "postgresql+psycopg"})
# Per-connection execution option read by the BEGIN hook below.
_BEGIN_OPTION = "ramparts_sqlite_begin"


def redact_url(url: str | URL) -> str:
    """The URL with its password replaced by ``***`` (safe for messages and logs)."""
    if isinstance(url, str) and url.count("@") > 1:
        # A raw "@" in a password ("u:p@ss@host") makes the parser end the password at
        # the first "@" and show the rest as the host: hide everything between "user:"
        # and the last "@" instead. Hiding too much beats showing part of a password.
        return _redact_raw(url)
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return _redact_raw(str(url))


def _redact_raw(url: str) -> str:
    return re.sub(r"://([^:/@]*):.*@", r"://\1:***@", url, count=1)


def failure_reason(exc: BaseException, url: URL) -> str:
    """The first line of the driver's message for ``exc``, with ``url``'s password scrubbed.

    Drivers do not echo passwords today; the scrub keeps it that way if one ever does.
    """
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    reason = lines[0] if lines else exc.__class__.__name__
    if url.password:
        reason = reason.replace(str(url.password), "***")
    return reason


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    # Switching a database to WAL needs an exclusive lock, and SQLite reports a busy
    # database at once here instead of waiting for busy_timeout: processes opening a
    # new database together (replicas, the first `ramparts scan --record` runs) would
    # fail. The mode is persistent, so read it first and retry the switch for as long
    # as a busy timeout would have waited.
    deadline = time.monotonic() + _BUSY_TIMEOUT_MS / 1000
    while True:
        if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() in ("wal", "memory"):
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.005)
        else:
            return


def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module (see the module docstring);
    # PRAGMAs below then run outside any transaction, as journal_mode and foreign_keys
    # require.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    mode = conn.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    conn.exec_driver_sql(f"BEGIN {'IMMEDIATE' if mode == 'IMMEDIATE' else 'DEFERRED'}")


def _sqlite_engine(url: URL, kwargs: dict[str, Any]) -> sa.Engine:
    database = url.database
    uri = str(url.query.get("uri", "")).lower() in ("1", "true")
    if database and database != ":memory:" and not uri:
        parent = Path(database).parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the state directory {parent}: {exc.strerror or exc}"
            ) from exc
    engine = sa.create_engine(url, **kwargs)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _postgres_engine(url: URL, kwargs: dict[str, Any]) -> sa.Engine:
    url = url.set(drivername="postgresql+psycopg")
    # libpq waits forever for a host that drops packets; a bounded wait gives a clear error.
    connect_args = {
        "connect_timeout": _PG_CONNECT_TIMEOUT_S,
        "application_name": "ramparts",
        **kwargs.pop("connect_args", {}),
    }
    # Pre-ping: services hold pooled connections across server restarts and failovers.
    kwargs.setdefault("pool_pre_ping", True)
    try:
        return sa.create_engine(url, connect_args=connect_args, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError("PostgreSQL needs psycopg 3: pip install 'ramparts[postgres]'") from exc


def create_engine(url: str | URL, **kwargs: Any) -> sa.Engine:
    """An engine for ``url``, configured as described in the module docstring.

    ``sqlite:///path`` creates the file's directory; ``postgresql://`` (or
    ``postgres://``) uses psycopg 3. Any other scheme or driver raises
    :class:`StoreError`. ``kwargs`` go to :func:`sqlalchemy.create_engine`.
    """
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise StoreError(f"invalid database URL {redact_url(url)!r}") from exc
    if "@" in (parsed.host or ""):
        # The parser took part of the password for the host; connecting would fail
        # later with a message that shows that part.
        raise StoreError(
            f"database URL {redact_url(url)!r} has an unescaped '@' in its password: "
            "write it as %40"
        )
    if parsed.drivername in _SQLITE_DRIVERS:
        return _sqlite_engine(parsed, dict(kwargs))
    if parsed.drivername in _PG_SCHEMES:
        return _postgres_engine(parsed, dict(kwargs))
    raise StoreError(
        f"unsupported database URL scheme {parsed.drivername!r} (use sqlite:/// or postgresql://)"
    )


@contextmanager
def begin_write(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection in a transaction that will write; committed on success.

    On SQLite the write lock is taken at ``BEGIN`` (``BEGIN IMMEDIATE``). A deferred
    transaction that reads and then writes fails at once with "database is locked" if
    another writer committed in between, whatever the busy timeout; an immediate one
    waits its turn. On PostgreSQL this is an ordinary transaction.
    """
    with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            conn.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        with conn.begin():
            yield conn


def store_error(engine: sa.Engine, what: str, exc: sa.exc.SQLAlchemyError) -> StoreError:
    """The one-line error for a failed ``what`` (``"reading scan runs"``) on ``engine``:
    the database named without its password, the driver's reason without SQL."""
    reason = failure_reason(exc, engine.url)
    return StoreError(f"{what} in {redact_url(engine.url)} failed: {reason}")


def recorded_or_undone(
    engine: sa.Engine,
    record: Callable[[], object],
    undo: Callable[[sa.Connection], None] | None,
    action: str,
) -> None:
    """Record the audit event of a change already committed; if it cannot be recorded
    (:class:`~ramparts.errors.AuditError`), undo the change in a new transaction and
    re-raise, so that no change stands unaudited. A failed undo is named in the error."""
    try:
        record()
    except AuditError as error:
        if undo is None:
            raise
        try:
            with begin_write(engine) as conn:
                undo(conn)
        except sa.exc.SQLAlchemyError as exc:
            reason = failure_reason(exc, engine.url)
            raise AuditError(f"{error}; undoing {action} also failed: {reason}") from exc
        raise


def ping(engine: sa.Engine) -> None:
    """Connect once; raise :class:`StoreError` (password hidden) if the database is unreachable."""
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError as exc:
        reason = failure_reason(exc, engine.url)
        raise StoreError(f"cannot reach database {redact_url(engine.url)}: {reason}") from exc
