"""The posture report as SARIF 2.1.0: failing controls as results, for GitHub code scanning.

Every control of the catalogue is a rule (title, rationale, remediation, its domain and
framework items as tags, a numeric ``security-severity``); every *failing* control is
one result. Levels and severities are those of ``ramparts scan``'s SARIF, so both read
the same in GitHub. Choices made for GitHub's ingestion rules:

- every result has a physical location with ``region.startLine`` (line 1 when the
  evidence names no line); a control whose evidence names no file points at the
  repository root (``.``), since GitHub rejects a whole file when one result has no
  location;
- ``partialFingerprints`` hashes the control id and the files (not lines), so an alert
  survives edits and closes when the control passes;
- ``automationDetails.id`` is ``ramparts/posture/``, a category of its own, so that
  uploading a posture report never closes the alerts of a scan report.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

# Levels, security severities and URIs exactly as ``ramparts scan``'s SARIF has them.
from ramparts.core.report.sarif import (
    SARIF_LEVELS,
    SECURITY_SEVERITY,
    sarif_location,
    sarif_log,
)
from ramparts.core.types import Location
from ramparts.posture.interface import ControlResult, PostureReport, Status
from ramparts.posture.report_common import SCORE_OF

__all__ = ["FINGERPRINT_KEY", "ROOT_URI", "render_sarif", "report_to_sarif"]

FINGERPRINT_KEY = "rampartsPosture/v1"
"""The ``partialFingerprints`` key of posture results."""

ROOT_URI = "."
"""Where a result points when its evidence names no file: the repository root."""


def _rule(r: ControlResult) -> dict[str, Any]:
    c = r.control
    items = [item for ids in c.mappings.values() for item in ids]
    return {
        "id": c.id,
        "name": "".join(part.capitalize() for part in c.title.replace("-", " ").split()),
        "shortDescription": {"text": c.title},
        "fullDescription": {"text": c.rationale},
        "help": {"text": c.remediation},
        "defaultConfiguration": {"level": SARIF_LEVELS[c.severity]},
        "properties": {
            "tags": ["security", "posture", c.domain, *items],
            "security-severity": SECURITY_SEVERITY[c.severity],
            "domain": c.domain,
            "mappings": {fid: list(ids) for fid, ids in c.mappings.items()},
        },
    }


def _fingerprint(r: ControlResult) -> str:
    where = sorted({"!".join((loc.path, *loc.member)) for loc in r.locations}) or [ROOT_URI]
    text = "\0".join([r.control.id, *where])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _result(r: ControlResult, rule_index: int) -> dict[str, Any]:
    c = r.control
    locations = [sarif_location(loc) for loc in r.locations] or [sarif_location(Location(ROOT_URI))]
    return {
        "ruleId": c.id,
        "ruleIndex": rule_index,
        "level": SARIF_LEVELS[c.severity],
        "message": {"text": f"{c.title}: {r.evidence} Fix: {c.remediation}"},
        "locations": locations,
        "partialFingerprints": {FINGERPRINT_KEY: _fingerprint(r)},
        "properties": {
            "status": r.status.value,
            "severity": c.severity.value,
            "domain": c.domain,
            "evidence": r.evidence,
        },
    }


def report_to_sarif(report: PostureReport) -> dict[str, Any]:
    """The SARIF log of ``report`` as plain Python data (one run)."""
    rules = [_rule(r) for r in report.results]
    index = {r.control.id: i for i, r in enumerate(report.results)}
    results = [_result(r, index[r.control.id]) for r in report.results if r.status is Status.FAIL]
    return sarif_log(
        tool_version=report.tool_version,
        category="ramparts/posture/",
        rules=rules,
        results=results,
        invocation={
            "executionSuccessful": True,
            "startTimeUtc": report.started_at.isoformat().replace("+00:00", "Z"),
        },
        properties={"target": report.target, "score": report.score.value, "scoreOf": SCORE_OF},
    )


def render_sarif(report: PostureReport) -> str:
    """``report`` as SARIF 2.1.0 JSON text with a trailing newline."""
    return json.dumps(report_to_sarif(report), indent=2, ensure_ascii=False) + "\n"
