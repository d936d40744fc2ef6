from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from ramparts.errors import AuditError
from ramparts.store import StoreError, begin_write, create_engine, ping, redact_url
from ramparts.store.engine import recorded_or_undone


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(sqlite_url)
    yield engine
    engine.dispose()


def test_sqlite_file_is_created_with_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ramparts.db"
    engine = create_engine(f"sqlite:///{path.as_posix()}")
    try:
        ping(engine)
    finally:
        engine.dispose()
    assert path.is_file()


def test_sqlite_runs_in_wal_with_durable_commits_and_foreign_keys(
    sqlite_engine: sa.Engine,
) -> None:
    with sqlite_engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,
        "busy_timeout": 10_000,
    }


def test_sqlite_enforces_foreign_keys(sqlite_engine: sa.Engine) -> None:
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
    with pytest.raises(sa.exc.IntegrityError), sqlite_engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO child VALUES (42)")


def test_sqlite_ddl_is_transactional(sqlite_engine: sa.Engine) -> None:
    # The sqlite3 driver would autocommit the CREATE TABLE; a failed migration must not
    # leave half a schema behind.
    def migrate_and_fail() -> None:
        with sqlite_engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE half (id INTEGER)")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        migrate_and_fail()
    assert "half" not in sa.inspect(sqlite_engine).get_table_names()


def _write_now(url: str) -> None:
    """Another process's writer that does not wait for locks."""
    path = sa.make_url(url).database
    assert path is not None
    with sqlite3.connect(path, timeout=0, isolation_level=None) as other:
        other.execute("INSERT INTO t VALUES (2)")
    other.close()


def test_begin_write_takes_the_sqlite_write_lock_at_begin(
    sqlite_url: str, sqlite_engine: sa.Engine
) -> None:
    with sqlite_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
    with sqlite_engine.begin():
        _write_now(sqlite_url)  # a deferred transaction holds no lock yet
    with begin_write(sqlite_engine) as conn:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _write_now(sqlite_url)
        conn.exec_driver_sql("INSERT INTO t VALUES (1)")
    with sqlite_engine.connect() as conn:
        assert sorted(conn.exec_driver_sql("SELECT id FROM t").scalars()) == [1, 2]


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "postgresql+psycopg"])
def test_postgres_urls_use_psycopg_3(scheme: str) -> None:
    engine = create_engine(f"{scheme}://u:pw@db.example/ramparts")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2@h/db", "unsupported database URL scheme 'mysql'"),
        ("postgresql+psycopg2://u:hunter2@h/db", "unsupported database URL scheme"),
        ("sqlite+aiosqlite:///x.db", "unsupported database URL scheme"),
        ("::::", "invalid database URL"),
        ("postgresql://u:hun@ter2:x/y@h/db", "invalid database URL"),
        ("postgresql://u:hun@ter2@h/db", "unescaped '@' in its password: write it as %40"),
    ],
)
def test_bad_urls_are_one_clear_line_without_the_password(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message) as info:
        create_engine(url)
    assert "hunter2" not in str(info.value)
    assert "ter2" not in str(info.value)
    assert "\n" not in str(info.value)


def test_unreachable_postgres_is_a_store_error_without_the_password() -> None:
    engine = create_engine(
        "postgresql://alice:s3cret-pw@127.0.0.1:1/nodb", connect_args={"connect_timeout": 2}
    )
    try:
        with pytest.raises(StoreError) as info:
            ping(engine)
    finally:
        engine.dispose()
    text = str(info.value)
    assert "s3cret" not in text
    assert text.startswith("cannot reach database postgresql+psycopg://alice:***@127.0.0.1:1/nodb")
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)


def test_unwritable_sqlite_directory_is_a_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot create the state directory"):
        create_engine(f"sqlite:///{(blocker / 'ramparts.db').as_posix()}")


# codec="utf-8" leaves out lone surrogates, which no URL can carry.
@given(password=st.text(alphabet=st.characters(codec="utf-8"), min_size=6))
def test_redact_url_never_shows_a_quoted_password(password: str) -> None:
    quoted = quote(password, safe="")
    shown = redact_url(f"postgresql://user:{quoted}@db.example:5432/ramparts")
    assert shown == "postgresql://user:***@db.example:5432/ramparts"


@given(password=st.text(alphabet="abc:@/?#%[]", min_size=6))
def test_redact_url_hides_raw_passwords_it_cannot_parse(password: str) -> None:
    shown = redact_url(f"postgresql://user:{password}@db.example/ramparts")
    assert password not in shown


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u@h:5432/db", "postgresql://u@h:5432/db"),
        ("postgresql://u:p@ss@h/db", "postgresql://u:***@h/db"),
        ("redis://:pw@h:6379/0", "redis://:***@h:6379/0"),
        ("sqlite:///state/ramparts.db", "sqlite:///state/ramparts.db"),
    ],
)
def test_redact_url_examples(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_a_change_whose_audit_fails_is_undone(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    with begin_write(engine) as conn:
        conn.execute(sa.text("CREATE TABLE grants (who TEXT)"))
        conn.execute(sa.text("INSERT INTO grants VALUES ('alice')"))

    def audit_down() -> None:
        raise AuditError("the audit log is down")

    def undo(conn: sa.Connection) -> None:
        conn.execute(sa.text("DELETE FROM grants WHERE who = 'alice'"))

    with pytest.raises(AuditError, match=r"the audit log is down$"):
        recorded_or_undone(engine, audit_down, undo, "identity.grant")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM grants")).scalar() == 0

    def broken_undo(conn: sa.Connection) -> None:
        conn.execute(sa.text("DELETE FROM no_such_table"))

    with pytest.raises(AuditError, match=r"undoing identity\.grant also failed"):
        recorded_or_undone(engine, audit_down, broken_undo, "identity.grant")
    recorded_or_undone(engine, lambda: None, broken_undo, "identity.grant")  # recorded: no undo
    engine.dispose()
