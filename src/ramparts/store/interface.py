"""The store's errors, value types and protocols.

Errors::

    RampartsError
    └── StoreError          the database or Redis refused, is unreachable, or is misconfigured
        └── MigrationError  the schema could not be brought to (or is not at) this version

Every message is one line and names the backend by its URL with the password hidden.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Protocol

from ramparts.core.ids import parse_id
from ramparts.core.records import record
from ramparts.core.types import Severity
from ramparts.errors import InputError, RampartsError

__all__ = ["MigrationError", "ScanRunHistory", "ScanRunRecord", "StoreError"]

_SEVERITIES = frozenset(s.value for s in Severity)


class StoreError(RampartsError):
    """A backend refused an operation or could not be reached; messages never hold passwords."""


class MigrationError(StoreError):
    """The database schema could not be migrated, or is not at the version this code needs."""


def _utc(name: str, value: datetime) -> datetime:
    if value.tzinfo is None:
        raise InputError(f"scan run {name} must be timezone-aware")
    # SQLite keeps wall-clock text without an offset: storing UTC keeps instants and
    # their text order right on both backends.
    return value.astimezone(UTC)


@record
class ScanRunRecord:
    """One recorded scan run: when, what, its outcome, and the full JSON report.

    Built records are checked: ``id`` is a UUID (kept in canonical form), times are
    timezone-aware (kept in UTC), counts are non-negative, ``severity_counts`` keys are
    severity names (``"critical"``...). ``report_json`` is the report as the caller
    rendered it; the store keeps it verbatim.
    """

    id: str
    started_at: datetime
    finished_at: datetime
    target: str
    tool_version: str
    exit_code: int
    findings: int
    severity_counts: Mapping[str, int]
    report_json: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", parse_id(self.id))
        started = _utc("started_at", self.started_at)
        finished = _utc("finished_at", self.finished_at)
        if finished < started:
            raise InputError("scan run finished_at is before started_at")
        object.__setattr__(self, "started_at", started)
        object.__setattr__(self, "finished_at", finished)
        if not self.target:
            raise InputError("a scan run needs a target")
        if self.exit_code < 0 or self.findings < 0:
            raise InputError("scan run exit_code and findings must be >= 0")
        unknown = sorted(set(self.severity_counts) - _SEVERITIES)
        if unknown:
            raise InputError(f"unknown severities in scan run counts: {', '.join(unknown)}")
        if any(n < 0 for n in self.severity_counts.values()):
            raise InputError("scan run severity counts must be >= 0")
        counts = MappingProxyType(dict(sorted(self.severity_counts.items())))
        object.__setattr__(self, "severity_counts", counts)
        if not self.report_json:
            raise InputError("a scan run needs its JSON report")


class ScanRunHistory(Protocol):
    """Where scan runs are kept; :class:`ramparts.store.ScanRunStore` is the SQL one."""

    def record(self, run: ScanRunRecord) -> None:
        """Store ``run`` durably or raise :class:`StoreError`."""
        ...

    def latest(self, target: str) -> ScanRunRecord | None:
        """The newest run of ``target``, or ``None`` when it was never recorded."""
        ...

    def list(self, *, target: str | None = None, limit: int = 20) -> builtins.list[ScanRunRecord]:
        """The newest ``limit`` runs (of one ``target`` if given), newest first."""
        ...
