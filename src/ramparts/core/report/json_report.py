"""The JSON report: a stable, versioned document described by ``report-v1.schema.json``.

Field names never change within a major ``schema_version``; additions are backwards
compatible. ``docs/reports.md`` documents every field.
"""

from __future__ import annotations

from ramparts.core.types import Finding, Location, Report

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["JSON_SCHEMA_VERSION", "location_to_dict", "render_json", "report_to_dict"]

JSON_SCHEMA_VERSION = 1


def location_to_dict(loc: Location) -> dict[str, Any]:
    """A location as JSON; absent optional parts are ``null``."""
    return {
        "path": loc.path,
        "line": loc.line,
        "column": loc.column,
        "end_line": loc.end_line,
        "member": list(loc.member),
        "offset": loc.offset,
    }


def _finding(f: Finding) -> dict[str, Any]:
    return {
        "rule_id": f.rule_id,
        "title": f.title,
        "message": f.message,
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "location": location_to_dict(f.location),
        "evidence": f.evidence,
        "remediation": f.remediation,
        "references": list(f.references),
        "scanner": f.scanner,
        "fingerprint": f.fingerprint,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    """The JSON document of ``report`` as plain Python data."""
    counts = report.severity_counts()
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "tool": {"name": "ramparts", "version": report.tool_version},
        "target": report.target,
        "started_at": report.started_at.isoformat(),
        "summary": {
            "total": len(report.findings),
            **{sev.value: n for sev, n in counts.items()},
        },
        "stats": {
            "files_seen": report.stats.files_seen,
            "files_scanned": report.stats.files_scanned,
            "bytes_scanned": report.stats.bytes_scanned,
            "seconds": round(report.stats.seconds, 6),
        },
        "findings": [_finding(f) for f in report.findings],
        "skips": [{"path": s.path, "reason": s.reason} for s in report.skips],
        "errors": [{"path": e.path, "message": e.message} for e in report.errors],
        "properties": dict(report.properties),
    }


def render_json(report: Report) -> str:
    """``report`` as indented JSON text with a trailing newline."""
    import json  # noqa: PLC0415 - start-up time: table reports never need it

    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, default=str) + "\n"
