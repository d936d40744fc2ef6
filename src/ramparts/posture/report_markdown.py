"""The posture report as GitHub-flavoured Markdown, for pull-request comments and wikis.

Sections: the score of automated controls and the counts by status, tables per domain
and per framework, failing controls (most severe first) with evidence and fix, the
controls a person must judge, coverage per framework (counts and the items no control
covers) and, when a previous run is recorded, what changed. Every string from the
report is escaped: evidence comes from the inspected repository and must not inject
links, HTML or table cells.
"""

from __future__ import annotations

import html
import re

from ramparts.posture.interface import ControlResult, PostureReport, Score, Status
from ramparts.posture.report_common import (
    SCORE_OF,
    changes,
    coverage_counts,
    framework_name,
    inventory_counts,
    ordered,
    previous_run,
    score_text,
    shadow_items,
    status_word,
)

__all__ = ["render_markdown"]

# Enough to keep untrusted text from forming emphasis, code, links, images, headings,
# strike-through or table cells; "<" and ">" become entities (no raw HTML).
_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")


def _md(text: object) -> str:
    """``text`` on one line, inert in Markdown: entities for HTML, backslashes for syntax."""
    flat = " ".join(str(text).split())
    return _SPECIAL.sub(r"\\\1", html.escape(flat, quote=False))


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _score_row(name: str, score: Score) -> list[str]:
    return [
        _md(name),
        _md(score_text(score)),
        str(score.passed),
        str(score.failed),
        str(score.manual),
        str(score.not_applicable),
    ]


_SCORE_HEADER = ["", "score", "pass", "fail", "manual", "not applicable"]


def _control(r: ControlResult, report: PostureReport) -> list[str]:
    c = r.control
    lines = [
        f"### {_md(c.id)} {_md(c.title)}",
        "",
        f"**{status_word(r.status)}**, severity {c.severity.value}, domain {_md(c.domain)}",
        "",
        f"- Evidence: {_md(r.evidence)}",
    ]
    if r.locations:
        lines.append("- Where: " + ", ".join(_md(loc) for loc in r.locations))
    lines.append(f"- Why it matters: {_md(c.rationale)}")
    lines.append(f"- Fix: {_md(c.remediation)}")
    if c.mappings:
        mapped = "; ".join(
            f"{_md(framework_name(report, fid))}: {', '.join(_md(i) for i in ids)}"
            for fid, ids in c.mappings.items()
        )
        lines.append(f"- Maps to: {mapped}")
    return [*lines, ""]


def _trend(report: PostureReport) -> list[str]:
    previous = previous_run(report)
    if previous is None:
        return []
    before = "none" if previous.score is None else f"{previous.score:g} / 100"
    now = report.score.value
    delta = ""
    if previous.score is not None and now is not None:
        step = round(now - previous.score, 1)
        delta = "unchanged, " if step == 0 else f"{'up' if step > 0 else 'down'} {abs(step):g}, "
    lines = [
        "## Since the previous run",
        "",
        (
            f"Score {_md(before)} → {_md(score_text(report.score))} "
            f"({delta}previous run {_md(previous.started_at or 'at an unknown time')})."
        ),
        "",
    ]
    found = changes(report)
    lines += [f"- {_md(c.describe())}" for c in found] or ["No control changed status."]
    return [*lines, ""]


def _coverage(report: PostureReport) -> list[str]:
    lines = ["## Coverage per framework", ""]
    rows = []
    for fid in sorted(report.coverage):
        counts = coverage_counts(report, fid)
        rows.append(
            [
                _md(framework_name(report, fid)),
                *(str(counts[s]) for s in ("pass", "fail", "manual", "none")),
            ]
        )
    lines += _table(["framework", "pass", "fail", "manual", "not covered"], rows)
    for fid in sorted(report.coverage):
        missing = [item for item, state in report.coverage[fid].items() if state == "none"]
        if missing:
            lines.append(
                f"Not covered by any control in {_md(framework_name(report, fid))}: "
                + ", ".join(_md(i) for i in missing)
            )
            lines.append("")
    return lines


def _inventory(report: PostureReport) -> list[str]:
    counts = inventory_counts(report.inventory)
    shadow = shadow_items(report.inventory)
    if not counts and not shadow:
        return []
    lines = ["## Inventory", ""]
    if counts:
        lines += _table(["asset kind", "count"], [[_md(k), str(n)] for k, n in counts.items()])
    if shadow:
        lines += ["### Unapproved AI use (shadow AI)", ""]
        lines += _table(
            ["kind", "name", "provider", "where", "why"],
            [
                [_md(s.kind), _md(s.name), _md(s.provider), _md(s.location), _md(s.reason)]
                for s in shadow
            ],
        )
    return lines


def render_markdown(report: PostureReport) -> str:
    """``report`` as a GitHub-flavoured Markdown document."""
    s = report.score
    lines = [
        f"# ramparts posture: {_md(report.target)}",
        "",
        (
            f"**{_md(SCORE_OF.capitalize())}: {_md(score_text(s))}** "
            f"(weighted passes over passes and fails; manual and not-applicable controls "
            f"do not count). {s.failed} failing, {s.manual} manual, {s.passed} passing, "
            f"{s.not_applicable} not applicable."
        ),
        "",
        f"ramparts {_md(report.tool_version)}, run {_md(report.started_at.isoformat())}.",
        "",
    ]
    lines += _trend(report)
    lines += ["## Domains", ""]
    lines += _table(
        ["domain", *_SCORE_HEADER[1:]],
        [_score_row(d, sc) for d, sc in sorted(report.domains.items())],
    )
    lines += ["## Frameworks", ""]
    lines += _table(
        ["framework", *_SCORE_HEADER[1:]],
        [_score_row(framework_name(report, f), sc) for f, sc in sorted(report.frameworks.items())],
    )
    results = ordered(report.results)
    failing = [r for r in results if r.status is Status.FAIL]
    manual = [r for r in results if r.status is Status.MANUAL]
    lines += ["## Failing controls", ""]
    if failing:
        for r in failing:
            lines += _control(r, report)
    else:
        lines += ["No automated control fails.", ""]
    if manual:
        lines += ["## Controls to judge by hand", ""]
        for r in manual:
            lines += _control(r, report)
    others = [r for r in results if r.status in (Status.PASS, Status.NOT_APPLICABLE)]
    if others:
        lines += ["## Passing and not applicable", ""]
        lines += _table(
            ["control", "title", "status", "evidence"],
            [
                [_md(r.control.id), _md(r.control.title), status_word(r.status), _md(r.evidence)]
                for r in others
            ],
        )
    lines += _coverage(report)
    lines += _inventory(report)
    return "\n".join(lines).rstrip("\n") + "\n"
