"""SARIF 2.1.0 output that GitHub code scanning accepts.

Choices made for GitHub's ingestion rules (its GH10xx validator checks):

- every result has ``region.startLine``; findings in binary files (byte offsets,
  archive members) point at line 1 and carry the offset and member path in
  ``properties`` and ``logicalLocations``;
- artifact URIs are relative to ``%SRCROOT%`` so alerts match across checkouts;
- ``partialFingerprints`` carries our line-independent fingerprint, so an alert
  survives edits above it;
- each rule has short and full descriptions, help text and a numeric
  ``security-severity`` that GitHub maps to its critical/high/medium/low levels.
"""

from __future__ import annotations

import json
from pathlib import PurePosixPath
from urllib.parse import quote

from ramparts.core.types import Finding, Location, Report, Severity

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "FINGERPRINT_KEY",
    "SARIF_LEVELS",
    "SARIF_SCHEMA_URI",
    "SECURITY_SEVERITY",
    "artifact_uri",
    "render_sarif",
    "report_to_sarif",
    "sarif_location",
    "sarif_log",
]

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "rampartsFingerprint/v1"

SARIF_LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub reads these as: >= 9.0 critical, >= 7.0 high, >= 4.0 medium, else low.
SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "3.0",
    Severity.INFO: "1.0",
}


def artifact_uri(path: str) -> str:
    return quote(PurePosixPath(path).as_posix(), safe="/")


def _rule(f: Finding) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": f.rule_id,
        "name": "".join(part.capitalize() for part in f.title.replace("-", " ").split()),
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": f.title},
        "help": {"text": f.remediation or f.title},
        "defaultConfiguration": {"level": SARIF_LEVELS[f.severity]},
        "properties": {
            "tags": ["security", *f.references],
            "security-severity": SECURITY_SEVERITY[f.severity],
            "precision": {"high": "high", "medium": "medium", "low": "low"}[f.confidence.value],
        },
    }
    return rule


def sarif_location(loc: Location) -> dict[str, Any]:
    """A SARIF ``location`` for ``loc``: the file under ``%SRCROOT%``, its region (line
    1 when unknown: GitHub refuses results without one), archive members as logical
    locations."""
    region: dict[str, Any] = {"startLine": loc.line or 1}
    if loc.line is not None and loc.column is not None:
        region["startColumn"] = loc.column
    if loc.line is not None and loc.end_line is not None:
        region["endLine"] = loc.end_line
    location: dict[str, Any] = {
        "physicalLocation": {
            "artifactLocation": {"uri": artifact_uri(loc.path), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }
    if loc.member:
        location["logicalLocations"] = [
            {"fullyQualifiedName": "!".join(loc.member), "kind": "member"}
        ]
    return location


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    loc = f.location
    location = sarif_location(loc)
    properties: dict[str, Any] = {
        "severity": f.severity.value,
        "confidence": f.confidence.value,
        "scanner": f.scanner,
    }
    if loc.member:
        properties["member"] = list(loc.member)
    if loc.offset is not None:
        properties["byteOffset"] = loc.offset
    if f.evidence is not None:
        properties["evidence"] = f.evidence
    return {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[f.severity],
        "message": {"text": f.message},
        "locations": [location],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": properties,
    }


def report_to_sarif(report: Report) -> dict[str, Any]:
    """The SARIF log of ``report`` as plain Python data (one run)."""
    rule_index: dict[str, int] = {}
    rules: list[dict[str, Any]] = []
    results: list[dict[str, Any]] = []
    for f in report.findings:
        if f.rule_id not in rule_index:
            rule_index[f.rule_id] = len(rules)
            rules.append(_rule(f))
        results.append(_result(f, rule_index[f.rule_id]))
    notifications = [
        {
            "level": "error",
            "message": {"text": e.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(e.path), "uriBaseId": "%SRCROOT%"}
                    }
                }
            ],
        }
        for e in report.errors
    ]
    notifications += [
        {"level": "note", "message": {"text": f"skipped {s.path}: {s.reason}"}}
        for s in report.skips
    ]
    invocation: dict[str, Any] = {
        "executionSuccessful": not report.errors,
        "startTimeUtc": report.started_at.isoformat().replace("+00:00", "Z"),
    }
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return sarif_log(
        tool_version=report.tool_version,
        category="ramparts/",
        rules=rules,
        results=results,
        invocation=invocation,
    )


def sarif_log(
    *,
    tool_version: str,
    category: str,
    rules: list[dict[str, Any]],
    results: list[dict[str, Any]],
    invocation: dict[str, Any],
    properties: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A SARIF 2.1.0 log of one ramparts run; ``category`` is its automation id, which
    code scanning uses to keep the alerts of different analyses apart."""
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "ramparts",
                "version": tool_version,
                "semanticVersion": tool_version,
                "rules": rules,
            }
        },
        "automationDetails": {"id": category},
        "invocations": [invocation],
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if properties:
        run["properties"] = properties
    return {"$schema": SARIF_SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Report) -> str:
    """``report`` as SARIF 2.1.0 JSON text with a trailing newline."""
    return json.dumps(report_to_sarif(report), indent=2, ensure_ascii=False) + "\n"
