from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from ramparts.store import (
    MigrationError,
    ScanRunRecord,
    ScanRunStore,
    StoreError,
    create_engine,
    current_revision,
    head_revision,
    upgrade,
)
from ramparts.store.engine import ping, redact_url

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = create_engine(db_url)
    yield eng
    eng.dispose()


def run(i: int, target: str = "proj") -> ScanRunRecord:
    return ScanRunRecord(
        id=f"00000000-0000-4000-8000-{i:012d}",
        started_at=T0 + timedelta(minutes=i),
        finished_at=T0 + timedelta(minutes=i, seconds=3),
        target=target,
        tool_version="0.1.0",
        exit_code=1,
        findings=i,
        severity_counts={"critical": i, "high": 0},
        report_json='{"schema_version": 1}',
    )


def test_migrations_apply_and_are_idempotent(engine: sa.Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert "scan_runs" in sa.inspect(engine).get_table_names()


def test_runs_round_trip_newest_first(engine: sa.Engine) -> None:
    upgrade(engine)
    store = ScanRunStore(engine)
    assert store.latest("proj") is None
    for i in range(3):
        store.record(run(i))
    store.record(run(9, target="other"))
    latest = store.latest("proj")
    assert latest == run(2)
    assert latest.started_at.tzinfo is not None
    assert [r.findings for r in store.list()] == [9, 2, 1, 0]
    assert [r.findings for r in store.list(target="proj", limit=2)] == [2, 1]
    with pytest.raises(StoreError, match="recording a scan run"):
        store.record(run(2))  # same id: the primary key refuses it


def test_sqlite_runs_in_wal_with_foreign_keys(sqlite_url: str) -> None:
    eng = create_engine(sqlite_url)
    try:
        with eng.connect() as conn:
            assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
            assert conn.execute(sa.text("PRAGMA synchronous")).scalar() == 2  # FULL
    finally:
        eng.dispose()


def test_bad_urls_are_clear_and_hide_passwords() -> None:
    with pytest.raises(StoreError, match="unsupported database URL scheme 'mysql'"):
        create_engine("mysql://u:pw@h/db")
    with pytest.raises(StoreError, match="invalid database URL"):
        create_engine("::::")
    eng = create_engine(
        "postgresql://alice:s3cret@127.0.0.1:1/nodb", connect_args={"connect_timeout": 2}
    )
    try:
        with pytest.raises(StoreError) as info:
            ping(eng)
        assert "s3cret" not in str(info.value)
        assert "alice:***@127.0.0.1:1" in str(info.value)
        with pytest.raises(MigrationError) as minfo:
            upgrade(eng)
        assert "s3cret" not in str(minfo.value)
    finally:
        eng.dispose()
    assert redact_url("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
