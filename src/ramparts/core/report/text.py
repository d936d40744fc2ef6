"""The human report as plain text, for pipes and files: no rich, no colour.

A terminal gets the rich table (:mod:`ramparts.core.report.table`); a CI log or a file
gets the same findings, folded the same way, one block each, without the import of
rich (as much start-up time as scanning a 1 GiB checkpoint) and without wrapping
evidence into narrow columns::

    ramparts: models
    CRITICAL  RMP-PICKLE-001  models/evil.pkl@2
        pickle imports a dangerous global
        loading this pickle calls (REDUCE) os.system, ...
        evidence: os.system('touch /tmp/x')
    1 finding(s) (1 critical) in 3 of 3 file(s), 0.0 MB, 0.00 s
"""

from __future__ import annotations

from collections import Counter

from ramparts.core.types import ErrorRecord, Finding, Report, Skip

__all__ = [
    "FOLD_AFTER",
    "error_line",
    "fold",
    "more_text",
    "render_text",
    "skip_line",
    "summary_parts",
    "summary_text",
]

FOLD_AFTER = 3
"""Findings of one rule in one file shown before the rest are counted in one row."""

_INDENT = "    "


def fold(findings: tuple[Finding, ...], *, verbose: bool) -> list[Finding | tuple[str, str, int]]:
    """The report's rows: a dataset with 800 card numbers shows three and a count
    (rule, path, how many more); ``verbose`` shows every finding."""
    if verbose:
        return list(findings)
    groups = Counter((f.rule_id, f.location.path) for f in findings)
    rows: list[Finding | tuple[str, str, int]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for f in findings:
        key = (f.rule_id, f.location.path)
        seen[key] += 1
        if groups[key] <= FOLD_AFTER + 1 or seen[key] <= FOLD_AFTER:
            rows.append(f)
        elif seen[key] == FOLD_AFTER + 1:
            rows.append((key[0], key[1], groups[key] - FOLD_AFTER))
    return rows


def more_text(more: int) -> str:
    """The words of a folded row."""
    return f"{more} more like the above (all are in JSON and SARIF; -v lists them)"


def error_line(err: ErrorRecord) -> str:
    """The line of a file that could not be scanned."""
    return f"error: {err.path}: {err.message}"


def skip_line(skip: Skip) -> str:
    """The line of a skipped file (verbose reports)."""
    return f"skipped: {skip.path}: {skip.reason}"


def summary_parts(report: Report) -> list[tuple[str, str]]:
    """The summary line as (text, rich style) pieces; an empty style is plain."""
    counts = report.severity_counts()
    parts = [(f"{len(report.findings)} finding(s)", "bold")]
    shown = [f"{n} {sev.value}" for sev, n in reversed(counts.items()) if n]
    if shown:
        parts.append((" (" + ", ".join(shown) + ")", ""))
    s = report.stats
    scanned = f" in {s.files_scanned} of {s.files_seen} file(s), "
    parts.append((f"{scanned}{s.bytes_scanned / 1e6:.1f} MB, {s.seconds:.2f} s", ""))
    known = report.properties.get("baseline_suppressed")
    if known:
        parts.append((f"; {known} known finding(s) in the baseline not shown", ""))
    if report.skips:
        parts.append((f"; {len(report.skips)} skipped", ""))
    if report.errors:
        parts.append((f"; {len(report.errors)} error(s)", "bold red"))
    return parts


def summary_text(report: Report) -> str:
    """The summary line, unstyled."""
    return "".join(text for text, _style in summary_parts(report))


def _indented(label: str, text: str) -> list[str]:
    lines = text.splitlines() or [""]
    return [f"{_INDENT}{label}{lines[0]}", *(_INDENT + line for line in lines[1:])]


def render_text(report: Report, *, verbose: bool = False) -> str:
    """``report`` as plain text: the target, a block per finding (title, message,
    evidence, and with ``verbose`` the fix), errors, skipped files (``verbose``) and
    the summary line."""
    lines: list[str] = []
    if report.findings:
        lines.append(f"ramparts: {report.target}")
        width = max(len(f.severity.value) for f in report.findings)
        for row in fold(report.findings, verbose=verbose):
            if isinstance(row, tuple):
                rule, path, more = row
                lines.append(f"{'…':{width}}  {rule}  {path}")
                lines.append(_INDENT + more_text(more))
                continue
            lines.append(f"{row.severity.value.upper():{width}}  {row.rule_id}  {row.location}")
            lines += _indented("", row.title)
            lines += _indented("", row.message)
            if row.evidence:
                lines += _indented("evidence: ", row.evidence)
            if row.remediation and verbose:
                lines += _indented("fix: ", row.remediation)
    lines += [error_line(err) for err in report.errors]
    if verbose:
        lines += [skip_line(s) for s in report.skips]
    lines.append(summary_text(report))
    return "\n".join(lines) + "\n"
