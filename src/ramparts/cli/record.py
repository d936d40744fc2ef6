"""Storing a scan run in the state database (``ramparts scan --record``)."""

from __future__ import annotations

from ramparts.core.clock import SystemClock
from ramparts.core.ids import new_id
from ramparts.core.report.json_report import render_json
from ramparts.core.settings import Settings
from ramparts.core.types import ExitCode, Report
from ramparts.store import ScanRunRecord, ScanRunStore, create_engine, upgrade

__all__ = ["record_run"]


def record_run(settings: Settings, report: Report, code: ExitCode) -> str:
    """Migrate the database if needed and record ``report``; return the run id."""
    engine = create_engine(settings.sqlalchemy_url())
    try:
        upgrade(engine)
        run_id = new_id()
        ScanRunStore(engine).record(
            ScanRunRecord(
                id=run_id,
                started_at=report.started_at,
                finished_at=SystemClock().now(),
                target=report.target,
                tool_version=report.tool_version,
                exit_code=int(code),
                findings=len(report.findings),
                severity_counts={s.value: n for s, n in report.severity_counts().items()},
                report_json=render_json(report),
            )
        )
        return run_id
    finally:
        engine.dispose()
