from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ramparts.store import (
    MigrationError,
    create_engine,
    current_revision,
    head_revision,
    require_current,
    upgrade,
)
from ramparts.store.schema import metadata


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    eng = create_engine(db_url)
    yield eng
    eng.dispose()


def test_migrations_apply_and_are_idempotent(engine: sa.Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision() == "0006"
    assert {"scan_runs", "alembic_version"} <= set(sa.inspect(engine).get_table_names())


def test_migrated_schema_matches_the_table_definitions(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diffs == []
    pk = sa.inspect(engine).get_pk_constraint("scan_runs")
    assert pk["name"] == "pk_scan_runs"


# Each process says it is ready, waits for the go file, then migrates: all of them hit
# the empty database at once, as replicas starting together would.
MIGRATE_AT_GO = """
import pathlib, sys, time
from ramparts.store import create_engine, upgrade
engine = create_engine(sys.argv[1])
print("ready", flush=True)
go = pathlib.Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
upgrade(engine)
engine.dispose()
"""


def test_concurrent_upgrades_from_several_processes_serialise(db_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_AT_GO, db_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None
            assert proc.stdout.readline() == "ready\n"
        go.touch()
        outcomes = [proc.communicate(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()
    assert [proc.returncode for proc in procs] == [0, 0, 0], [err for _, err in outcomes]
    engine = create_engine(db_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_concurrent_upgrades_in_one_process_serialise(db_url: str) -> None:
    errors: list[BaseException] = []

    def migrate() -> None:
        eng = create_engine(db_url)
        try:
            upgrade(eng)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            eng.dispose()

    # Alembic keeps the running migration in module globals: unserialised threads
    # deadlock, hence daemon threads and a bounded wait.
    threads = [threading.Thread(target=migrate, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert errors == []
    eng = create_engine(db_url)
    try:
        assert current_revision(eng) == head_revision()
    finally:
        eng.dispose()


def test_a_newer_schema_is_refused(engine: sa.Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(MigrationError, match="newer than this ramparts knows"):
        upgrade(engine)
    with pytest.raises(MigrationError, match="'9999', newer"):
        require_current(engine)


def test_require_current_names_the_fix(engine: sa.Engine) -> None:
    with pytest.raises(MigrationError, match="run 'ramparts db upgrade'"):
        require_current(engine)
    upgrade(engine)
    require_current(engine)


def test_unknown_target_revision_is_a_migration_error(engine: sa.Engine) -> None:
    with pytest.raises(MigrationError, match=r"migrating .* failed"):
        upgrade(engine, "nope")
    assert current_revision(engine) is None


def test_unreachable_database_is_a_migration_error_without_the_password() -> None:
    eng = create_engine(
        "postgresql://alice:s3cret-pw@127.0.0.1:1/nodb", connect_args={"connect_timeout": 2}
    )
    try:
        for attempt in (upgrade, current_revision):
            with pytest.raises(MigrationError) as info:
                attempt(eng)
            assert "s3cret" not in str(info.value)
            assert "alice:***@127.0.0.1:1" in str(info.value)
    finally:
        eng.dispose()
