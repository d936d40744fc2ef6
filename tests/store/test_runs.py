from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from ramparts.errors import InputError
from ramparts.store import (
    ScanRunHistory,
    ScanRunRecord,
    ScanRunStore,
    StoreError,
    create_engine,
    upgrade,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
COUNTS = {"critical": 1, "high": 0, "medium": 2, "low": 0, "info": 0}


def run(i: int, **changes: object) -> ScanRunRecord:
    fields: dict[str, object] = {
        "id": f"00000000-0000-4000-8000-{i:012d}",
        "started_at": T0 + timedelta(minutes=i),
        "finished_at": T0 + timedelta(minutes=i, seconds=3),
        "target": "proj",
        "tool_version": "0.1.0",
        "exit_code": 1,
        "findings": i,
        "severity_counts": COUNTS,
        "report_json": f'{{"run": {i}, "text": "caf\\u00e9 \u2713"}}',
    }
    fields.update(changes)
    return ScanRunRecord(**fields)  # type: ignore[arg-type]


@pytest.fixture
def store(db_url: str) -> Iterator[ScanRunStore]:
    engine = create_engine(db_url)
    upgrade(engine)
    yield ScanRunStore(engine)
    engine.dispose()


def test_record_latest_list_round_trip(store: ScanRunStore) -> None:
    assert store.latest("proj") is None
    assert store.list() == []
    for i in (1, 3, 2):
        store.record(run(i))
    store.record(run(9, target="other"))
    latest = store.latest("proj")
    assert latest == run(3)
    assert latest.started_at.tzinfo is UTC
    assert latest.report_json == run(3).report_json
    assert dict(latest.severity_counts) == COUNTS
    assert [r.findings for r in store.list()] == [9, 3, 2, 1]
    assert [r.findings for r in store.list(limit=2)] == [9, 3]
    assert [r.findings for r in store.list(target="proj", limit=2)] == [3, 2]


def test_times_in_any_zone_come_back_as_the_same_instant_in_utc(store: ScanRunStore) -> None:
    tokyo = timezone(timedelta(hours=9))
    store.record(run(1, started_at=T0.astimezone(tokyo), finished_at=T0 + timedelta(seconds=1)))
    # An earlier instant whose wall-clock text is later: order must follow instants.
    store.record(run(2, started_at=(T0 - timedelta(hours=1)).astimezone(tokyo)))
    latest = store.latest("proj")
    assert latest is not None
    assert latest.findings == 1
    assert latest.started_at == T0
    assert latest.started_at.utcoffset() == timedelta(0)


def test_a_duplicate_id_is_refused(store: ScanRunStore) -> None:
    store.record(run(1))
    with pytest.raises(StoreError, match=r"recording a scan run in .* failed"):
        store.record(run(1, target="elsewhere"))
    assert [r.target for r in store.list()] == ["proj"]


def test_an_unmigrated_database_is_a_store_error(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        with pytest.raises(StoreError, match="scan_runs"):
            ScanRunStore(engine).list()
    finally:
        engine.dispose()


def test_a_corrupt_row_is_reported_not_guessed(sqlite_url: str) -> None:
    engine = create_engine(sqlite_url)
    try:
        upgrade(engine)
        store = ScanRunStore(engine)
        store.record(run(1))
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE scan_runs SET severity_counts = 'not json'"))
        with pytest.raises(StoreError, match=r"scan run row .* is invalid"):
            store.latest("proj")
    finally:
        engine.dispose()


def test_limit_must_be_positive(store: ScanRunStore) -> None:
    with pytest.raises(InputError, match="limit"):
        store.list(limit=0)


def test_the_sql_store_is_a_scan_run_history(store: ScanRunStore) -> None:
    history: ScanRunHistory = store
    history.record(run(1))
    assert history.latest("proj") == run(1)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "run-1"}, "malformed id"),
        ({"started_at": datetime(2026, 3, 1)}, "timezone-aware"),
        ({"finished_at": T0 - timedelta(seconds=1)}, "before started_at"),
        ({"target": ""}, "target"),
        ({"findings": -1}, ">= 0"),
        ({"severity_counts": {"severe": 1}}, "unknown severities in scan run counts: severe"),
        ({"severity_counts": {"high": -1}}, ">= 0"),
        ({"report_json": ""}, "JSON report"),
    ],
)
def test_records_validate_themselves(changes: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        run(0, **changes)


def test_records_are_frozen_and_canonical() -> None:
    record = run(0, id="00000000-0000-4000-8000-00000000000A")
    assert record.id == "00000000-0000-4000-8000-00000000000a"
    with pytest.raises(TypeError):
        record.severity_counts["high"] = 5  # type: ignore[index]
