"""The store's value types and errors.

Errors::

    RampartsError
    └── StoreError          the database or Redis refused, is unreachable, or is misconfigured
        └── MigrationError  the schema could not be brought to the current version
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ramparts.errors import RampartsError

__all__ = ["MigrationError", "ScanRunRecord", "StoreError"]


class StoreError(RampartsError):
    """A backend refused an operation or could not be reached; messages never hold passwords."""


class MigrationError(StoreError):
    """The database schema could not be migrated."""


@dataclass(frozen=True, slots=True)
class ScanRunRecord:
    """One recorded scan run: when, what, its outcome, and the full JSON report."""

    id: str
    started_at: datetime
    finished_at: datetime
    target: str
    tool_version: str
    exit_code: int
    findings: int
    severity_counts: dict[str, int]
    report_json: str
