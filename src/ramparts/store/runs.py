"""The history of scan runs: what was scanned when, and what it found."""

from __future__ import annotations

import builtins
import json
from datetime import UTC, datetime

import sqlalchemy as sa

from ramparts.errors import InputError
from ramparts.store.engine import begin_write, redact_url, store_error
from ramparts.store.interface import ScanRunRecord, StoreError
from ramparts.store.schema import scan_runs

__all__ = ["ScanRunStore"]


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back the naive UTC text we stored; PostgreSQL an aware time in the
    # session's zone. Both become the same aware UTC value.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _from_row(row: sa.RowMapping) -> ScanRunRecord:
    return ScanRunRecord(
        id=row["id"],
        started_at=_as_utc(row["started_at"]),
        finished_at=_as_utc(row["finished_at"]),
        target=row["target"],
        tool_version=row["tool_version"],
        exit_code=row["exit_code"],
        findings=row["findings"],
        severity_counts=json.loads(row["severity_counts"]),
        report_json=row["report_json"],
    )


class ScanRunStore:
    """Records scan runs in the SQL database and reads them back, newest first.

    The schema must be migrated (:func:`ramparts.store.upgrade`) before use.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def record(self, run: ScanRunRecord) -> None:
        """Store ``run``; returns once the row is committed (an existing id is refused)."""
        values = {
            "id": run.id,
            "started_at": run.started_at,
            "finished_at": run.finished_at,
            "target": run.target,
            "tool_version": run.tool_version,
            "exit_code": run.exit_code,
            "findings": run.findings,
            "severity_counts": json.dumps(dict(run.severity_counts), sort_keys=True),
            "report_json": run.report_json,
        }
        try:
            with begin_write(self._engine) as conn:
                conn.execute(scan_runs.insert().values(**values))
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "recording a scan run", exc) from exc

    def latest(self, target: str) -> ScanRunRecord | None:
        """The newest run of ``target``, or ``None`` when it was never recorded."""
        runs = self.list(target=target, limit=1)
        return runs[0] if runs else None

    def list(self, *, target: str | None = None, limit: int = 20) -> builtins.list[ScanRunRecord]:
        """The newest ``limit`` runs (of one ``target`` if given), newest first."""
        if limit < 1:
            raise InputError(f"limit must be at least 1, got {limit}")
        query = sa.select(scan_runs).order_by(scan_runs.c.started_at.desc(), scan_runs.c.id)
        if target is not None:
            query = query.where(scan_runs.c.target == target)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query.limit(limit)).mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise store_error(self._engine, "reading scan runs", exc) from exc
        try:
            return [_from_row(row) for row in rows]
        except (InputError, ValueError, TypeError) as exc:
            # Only a hand-edited or corrupted row gets here: report it, do not guess.
            raise StoreError(
                f"a scan run row in {redact_url(self._engine.url)} is invalid: {exc}"
            ) from exc
