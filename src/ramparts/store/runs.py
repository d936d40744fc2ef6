"""The history of scan runs: what was scanned when, and what it found."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa

from ramparts.store.engine import redact_url
from ramparts.store.interface import ScanRunRecord, StoreError
from ramparts.store.schema import scan_runs

__all__ = ["ScanRunStore"]


def _aware(value: datetime) -> datetime:
    # SQLite returns naive datetimes; everything we store is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class ScanRunStore:
    """Records scan runs and reads them back, newest first."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine

    def _fail(self, exc: sa.exc.SQLAlchemyError, what: str) -> StoreError:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        return StoreError(f"{what} in {redact_url(self._engine.url)} failed: {reason}")

    def record(self, run: ScanRunRecord) -> None:
        """Store ``run``; returns once the row is committed."""
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    scan_runs.insert().values(
                        id=run.id,
                        started_at=run.started_at,
                        finished_at=run.finished_at,
                        target=run.target,
                        tool_version=run.tool_version,
                        exit_code=run.exit_code,
                        findings=run.findings,
                        severity_counts=json.dumps(run.severity_counts, sort_keys=True),
                        report_json=run.report_json,
                    )
                )
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(exc, "recording a scan run") from exc

    def list(self, *, target: str | None = None, limit: int = 20) -> list[ScanRunRecord]:
        """The newest ``limit`` runs, of one target if given."""
        query = sa.select(scan_runs).order_by(scan_runs.c.started_at.desc(), scan_runs.c.id)
        if target is not None:
            query = query.where(scan_runs.c.target == target)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query.limit(limit)).mappings().all()
        except sa.exc.SQLAlchemyError as exc:
            raise self._fail(exc, "reading scan runs") from exc
        return [
            ScanRunRecord(
                id=row["id"],
                started_at=_aware(row["started_at"]),
                finished_at=_aware(row["finished_at"]),
                target=row["target"],
                tool_version=row["tool_version"],
                exit_code=row["exit_code"],
                findings=row["findings"],
                severity_counts=json.loads(row["severity_counts"]),
                report_json=row["report_json"],
            )
            for row in rows
        ]

    def latest(self, target: str) -> ScanRunRecord | None:
        """The newest run of ``target``, if any."""
        runs = self.list(target=target, limit=1)
        return runs[0] if runs else None
