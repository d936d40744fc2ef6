"""The JSON posture report: a stable, versioned document (``"schema": "ramparts.posture/1"``).

Keys appear in a fixed order and results in catalogue order, so two runs over the
same facts give byte-identical documents. Within a major schema version field names
never change; additions are backwards compatible. The score is of the automated
controls only (weighted passes over weighted passes and fails).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ramparts.core.report.json_report import location_to_dict
from ramparts.posture.interface import ControlResult, PostureReport, Score
from ramparts.posture.report_common import (
    SCORE_OF,
    changes,
    coverage_counts,
    mapped_controls,
    previous_run,
)

__all__ = ["SCHEMA", "render_json", "report_to_dict", "score_to_dict", "statuses"]

SCHEMA = "ramparts.posture/1"
"""The value of the document's ``schema`` field."""


def _plain(value: Any) -> Any:
    """``value`` with mappings and tuples turned into JSON's dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def score_to_dict(score: Score) -> dict[str, Any]:
    """A score as JSON: the counts, the weights and ``value`` (0-100 or ``null``)."""
    return {
        "value": score.value,
        "passed": score.passed,
        "failed": score.failed,
        "manual": score.manual,
        "not_applicable": score.not_applicable,
        "weight_passed": score.weight_passed,
        "weight_failed": score.weight_failed,
    }


def _result(r: ControlResult) -> dict[str, Any]:
    c = r.control
    return {
        "id": c.id,
        "title": c.title,
        "domain": c.domain,
        "severity": c.severity.value,
        "weight": c.weight,
        "status": r.status.value,
        "evidence": r.evidence,
        "locations": [location_to_dict(loc) for loc in r.locations],
        "rationale": c.rationale,
        "remediation": c.remediation,
        "fact": c.evidence,
        "rule": c.expect.describe(),
        "applies": c.applies,
        "mappings": {fid: list(ids) for fid, ids in c.mappings.items()},
    }


def _frameworks(report: PostureReport) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fid in sorted(set(report.frameworks) | set(report.framework_tables)):
        table = report.framework_tables.get(fid)
        score = report.frameworks.get(fid)
        out[fid] = {
            "name": table.name if table else fid,
            "version": table.version if table else None,
            "source": table.source if table else None,
            "score": None if score is None else score_to_dict(score),
        }
    return out


def _coverage(report: PostureReport) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for fid in sorted(report.coverage):
        states = report.coverage[fid]
        mapped = mapped_controls(report, fid)
        table = report.framework_tables.get(fid)
        titles = {i.id: (i.title, i.group) for i in table.items} if table else {}
        out[fid] = {
            "counts": coverage_counts(report, fid),
            "items": [
                {
                    "id": item_id,
                    "title": titles.get(item_id, ("", ""))[0],
                    "group": titles.get(item_id, ("", ""))[1],
                    "state": state,
                    "controls": mapped.get(item_id, []),
                }
                for item_id, state in states.items()
            ],
        }
    return out


def _previous(report: PostureReport) -> dict[str, Any] | None:
    previous = previous_run(report)
    if previous is None:
        return None
    return {
        "score": previous.score,
        "started_at": previous.started_at,
        "statuses": dict(sorted(previous.statuses.items())),
        "changes": [
            {
                "id": c.control_id,
                "before": c.before,
                "after": c.after,
                "evidence": c.evidence,
                "text": c.describe(),
            }
            for c in changes(report)
        ],
    }


def statuses(report: PostureReport) -> dict[str, str]:
    """Control id to status value (``PASS``...), what the trend store keeps of a run."""
    return {r.control.id: r.status.value for r in report.results}


def report_to_dict(report: PostureReport) -> dict[str, Any]:
    """The JSON document of ``report`` as plain Python data."""
    return {
        "schema": SCHEMA,
        "tool": {"name": "ramparts", "version": report.tool_version},
        "target": report.target,
        "started_at": report.started_at.isoformat(),
        "score": {"of": SCORE_OF, **score_to_dict(report.score)},
        "domains": {d: score_to_dict(s) for d, s in sorted(report.domains.items())},
        "frameworks": _frameworks(report),
        "results": [_result(r) for r in report.results],
        "coverage": _coverage(report),
        "inventory": _plain(report.inventory),
        "previous": _previous(report),
    }


def render_json(report: PostureReport) -> str:
    """``report`` as indented JSON text with a trailing newline."""
    return json.dumps(report_to_dict(report), indent=2, ensure_ascii=False) + "\n"
