"""The posture report as OCSF Compliance Findings (class 2003), one JSON line per control.

Each control result becomes a Compliance Finding (category 2, Findings) of the OCSF
version ramparts' audit export uses. The ``compliance`` object carries the control id,
the frameworks it maps to (``standards``) and their items (``requirements``), and the
outcome: ``status_id`` 1 Pass, 3 Fail, 2 Warning for a control a person must judge
(OCSF: "did not yield a result due to missing information"), 99 Other for a control
that does not apply; ``status_code`` is ramparts' own status word. ``finding_info.uid``
is stable per target and control, so a SIEM updates one finding run after run.
``resources`` are the files the evidence names, or the target itself.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ramparts.audit.ocsf import OCSF_VERSION
from ramparts.core.types import Severity
from ramparts.posture.interface import ControlResult, PostureReport, Status
from ramparts.posture.report_common import SCORE_OF, framework_name

__all__ = ["COMPLIANCE_FINDING", "render_ocsf", "to_ocsf"]

COMPLIANCE_FINDING = 2003
"""The OCSF class uid of a Compliance Finding."""

_FINDINGS = 2
_CREATE = 1
_SEVERITY_ID = {
    Severity.INFO: (1, "Informational"),
    Severity.LOW: (2, "Low"),
    Severity.MEDIUM: (3, "Medium"),
    Severity.HIGH: (4, "High"),
    Severity.CRITICAL: (5, "Critical"),
}
_COMPLIANCE_STATUS = {
    Status.PASS: (1, "Pass"),
    Status.MANUAL: (2, "Warning"),
    Status.FAIL: (3, "Fail"),
    Status.NOT_APPLICABLE: (99, "Not Applicable"),
}


def _uid(report: PostureReport, r: ControlResult) -> str:
    digest = hashlib.sha256(f"{report.target}\0{r.control.id}".encode()).hexdigest()
    return f"ramparts-posture-{digest[:32]}"


def _resources(report: PostureReport, r: ControlResult) -> list[dict[str, Any]]:
    if not r.locations:
        return [{"name": report.target, "type": "Repository", "uid": report.target}]
    return [{"name": loc.path, "type": "File", "uid": str(loc)} for loc in r.locations]


def to_ocsf(report: PostureReport, r: ControlResult) -> dict[str, Any]:
    """The OCSF Compliance Finding of one control result of ``report``."""
    c = r.control
    severity_id, severity = _SEVERITY_ID[c.severity]
    status_id, status = _COMPLIANCE_STATUS[r.status]
    # OCSF requires a standard; a control mapped to no framework answers to ours alone.
    standards = [framework_name(report, fid) for fid in c.mappings] or ["ramparts controls"]
    requirements = [
        f"{framework_name(report, fid)} {item}" for fid, ids in c.mappings.items() for item in ids
    ]
    return {
        "class_uid": COMPLIANCE_FINDING,
        "class_name": "Compliance Finding",
        "category_uid": _FINDINGS,
        "category_name": "Findings",
        "activity_id": _CREATE,
        "activity_name": "Create",
        "type_uid": COMPLIANCE_FINDING * 100 + _CREATE,
        "time": int(report.started_at.timestamp() * 1000),
        "severity_id": severity_id,
        "severity": severity,
        "status_id": 1,
        "status": "New",
        "message": f"{c.id} {r.status.value}: {c.title}",
        "metadata": {
            "version": OCSF_VERSION,
            "product": {
                "name": "ramparts",
                "vendor_name": "ramparts",
                "version": report.tool_version,
            },
            "log_name": "posture",
        },
        "finding_info": {
            "uid": _uid(report, r),
            "title": c.title,
            "desc": c.rationale,
            "types": ["Posture", c.domain],
        },
        "compliance": {
            "control": c.id,
            "standards": standards,
            "requirements": requirements,
            "status_id": status_id,
            "status": status,
            "status_code": r.status.value,
            "status_detail": r.evidence,
        },
        "remediation": {"desc": c.remediation},
        "resources": _resources(report, r),
        "unmapped": {
            "domain": c.domain,
            "weight": c.weight,
            "rule": c.expect.describe(),
            "fact": c.evidence,
            "score": report.score.value,
            "score_of": SCORE_OF,
        },
    }


def render_ocsf(report: PostureReport) -> str:
    """``report`` as JSON Lines: one Compliance Finding per control, catalogue order."""
    return "".join(
        json.dumps(to_ocsf(report, r), ensure_ascii=False, separators=(",", ":")) + "\n"
        for r in report.results
    )
