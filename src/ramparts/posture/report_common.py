"""What every posture report format shares: result order, words, the trend and inventory.

The formats (HTML, Markdown, JSON, SARIF, OCSF) differ in syntax only; the order in
which controls are listed, how a score reads, which controls changed since the
previous run and how the inventory is summarised are decided here once. No wording
here ever says "compliant": a score measures the automated controls, nothing more.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from ramparts.core.records import record
from ramparts.posture.interface import (
    ControlResult,
    PostureError,
    PostureReport,
    Score,
    Status,
)

__all__ = [
    "COVERAGE_STATES",
    "SCORE_OF",
    "STATUS_ORDER",
    "PreviousRun",
    "ShadowItem",
    "StatusChange",
    "changes",
    "coverage_counts",
    "framework_name",
    "inventory_counts",
    "mapped_controls",
    "ordered",
    "previous_run",
    "score_text",
    "shadow_items",
    "status_word",
]

SCORE_OF = "score of automated controls"
"""How every format names the score (never "compliant")."""

STATUS_ORDER: tuple[Status, ...] = (
    Status.FAIL,
    Status.MANUAL,
    Status.PASS,
    Status.NOT_APPLICABLE,
)
"""The order in which reports list results: what needs work first."""

COVERAGE_STATES: tuple[str, ...] = ("fail", "manual", "pass", "none")
"""The states of a framework item in :attr:`PostureReport.coverage`, worst first."""

_SHADOW_FIELDS = ("kind", "name", "provider", "location", "reason")


def status_word(status: Status | str) -> str:
    """A status as people read it: ``PASS``, ``FAIL``, ``MANUAL``, ``NOT APPLICABLE``."""
    value = status.value if isinstance(status, Status) else str(status)
    return value.replace("_", " ")


def ordered(results: Sequence[ControlResult]) -> list[ControlResult]:
    """``results`` failing first, then manual, passing and not applicable; within a
    status the most severe first, then by control id."""
    rank = {status: i for i, status in enumerate(STATUS_ORDER)}
    return sorted(results, key=lambda r: (rank[r.status], -r.control.severity.rank, r.control.id))


def score_text(score: Score | None) -> str:
    """``72.5 / 100``, or a sentence when no automated control passed or failed."""
    value = None if score is None else score.value
    return "no automated control passed or failed" if value is None else f"{value:g} / 100"


def framework_name(report: PostureReport, framework_id: str) -> str:
    """The framework's name and version (``NIST AI RMF 1.0``), or its id when the report
    has no table for it."""
    table = report.framework_tables.get(framework_id)
    if table is None:
        return framework_id
    return f"{table.name} {table.version}".strip()


def mapped_controls(report: PostureReport, framework_id: str) -> dict[str, list[str]]:
    """Each item id of ``framework_id`` to the ids of the controls mapped to it."""
    mapped: dict[str, list[str]] = {}
    for result in report.results:
        for item_id in result.control.mappings.get(framework_id, ()):
            mapped.setdefault(item_id, []).append(result.control.id)
    return mapped


def coverage_counts(report: PostureReport, framework_id: str) -> dict[str, int]:
    """How many items of ``framework_id`` are in each coverage state."""
    seen = Counter(report.coverage.get(framework_id, {}).values())
    return {state: seen.get(state, 0) for state in COVERAGE_STATES}


@record
class PreviousRun:
    """The recorded run this report is compared with."""

    score: float | None
    statuses: Mapping[str, str]
    started_at: str


@record
class StatusChange:
    """A control whose status differs from the previous run's.

    ``before`` is ``None`` for a control new to the catalogue, ``after`` is ``None``
    for one no longer evaluated; ``evidence`` is the current result's, if any.
    """

    control_id: str
    title: str
    before: str | None
    after: str | None
    evidence: str

    def describe(self) -> str:
        """``RP-SC-01 FAIL → PASS: CI now runs ramparts scan``."""
        before = "new" if self.before is None else status_word(self.before)
        after = "no longer evaluated" if self.after is None else status_word(self.after)
        text = f"{self.control_id} {before} → {after}"
        return f"{text}: {self.evidence}" if self.evidence else text


def previous_run(report: PostureReport) -> PreviousRun | None:
    """The previous run of ``report``, checked; ``None`` when none is recorded.

    Raises :class:`PostureError` when the record does not have the documented shape
    (``{"score": float | None, "statuses": {id: status}, "started_at": iso}``).
    """
    previous = report.previous
    if previous is None:
        return None
    score = previous.get("score")
    statuses = previous.get("statuses", {})
    started = previous.get("started_at", "")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)):
        raise PostureError(f"the previous run's score must be a number, got {score!r}")
    if not isinstance(statuses, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in statuses.items()
    ):
        raise PostureError("the previous run's statuses must map control ids to statuses")
    if not isinstance(started, str):
        raise PostureError("the previous run's started_at must be an ISO 8601 string")
    return PreviousRun(
        score=None if score is None else float(score),
        statuses=dict(statuses),
        started_at=started,
    )


def changes(report: PostureReport) -> list[StatusChange]:
    """The controls whose status changed since the previous run, in the order of
    :func:`ordered` (controls no longer evaluated last, by id)."""
    previous = previous_run(report)
    if previous is None:
        return []
    found = [
        StatusChange(
            control_id=r.control.id,
            title=r.control.title,
            before=previous.statuses.get(r.control.id),
            after=r.status.value,
            evidence=r.evidence,
        )
        for r in ordered(report.results)
        if previous.statuses.get(r.control.id) != r.status.value
    ]
    current = {r.control.id for r in report.results}
    found += [
        StatusChange(control_id=cid, title="", before=status, after=None, evidence="")
        for cid, status in sorted(previous.statuses.items())
        if cid not in current
    ]
    return found


def inventory_counts(inventory: Mapping[str, Any]) -> dict[str, int]:
    """Assets per kind: ``inventory["counts"]`` when it maps kinds to numbers, otherwise
    the ``kind`` of each entry of ``inventory["assets"]`` counted."""
    counts = inventory.get("counts")
    if isinstance(counts, Mapping):
        return {
            str(kind): int(n)
            for kind, n in sorted(counts.items(), key=lambda kv: str(kv[0]))
            if isinstance(n, int) and not isinstance(n, bool)
        }
    assets = inventory.get("assets")
    if isinstance(assets, Sequence) and not isinstance(assets, str):
        seen = Counter(str(a.get("kind", "unknown")) for a in assets if isinstance(a, Mapping))
        return dict(sorted(seen.items()))
    return {}


@record
class ShadowItem:
    """An AI use the organisation has not approved (an SDK call, an endpoint...)."""

    kind: str
    name: str
    provider: str
    location: str
    reason: str


def shadow_items(inventory: Mapping[str, Any]) -> list[ShadowItem]:
    """The entries of ``inventory["shadow"]``; missing fields read as empty strings."""
    shadow = inventory.get("shadow")
    if not isinstance(shadow, Sequence) or isinstance(shadow, str):
        return []
    return [
        ShadowItem(*(str(item.get(name) or "") for name in _SHADOW_FIELDS))
        for item in shadow
        if isinstance(item, Mapping)
    ]
