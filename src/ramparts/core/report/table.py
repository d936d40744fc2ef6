"""The human report: a rich table of findings, then skips, errors and a summary line."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from ramparts.core.report.summary import summary_parts
from ramparts.core.types import Finding, Report, Severity

__all__ = ["render_table", "report_renderable"]

SEVERITY_STYLE = {
    Severity.CRITICAL: "bold white on red",
    Severity.HIGH: "bold red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}


def _summary(report: Report) -> Text:
    text = Text()
    for part, style in summary_parts(report):
        text.append(part, style=style or None)
    return text


_FOLD_AFTER = 3
"""Rows of one rule in one file shown before the rest are counted in one row."""


def _fold(findings: tuple[Finding, ...], *, verbose: bool) -> list[Finding | tuple[str, str, int]]:
    """The table's rows: a dataset with 800 card numbers shows three and a count."""
    if verbose:
        return list(findings)
    groups = Counter((f.rule_id, f.location.path) for f in findings)
    rows: list[Finding | tuple[str, str, int]] = []
    seen: Counter[tuple[str, str]] = Counter()
    for f in findings:
        key = (f.rule_id, f.location.path)
        seen[key] += 1
        if groups[key] <= _FOLD_AFTER + 1 or seen[key] <= _FOLD_AFTER:
            rows.append(f)
        elif seen[key] == _FOLD_AFTER + 1:
            rows.append((key[0], key[1], groups[key] - _FOLD_AFTER))
    return rows


def report_renderable(report: Report, *, verbose: bool = False) -> RenderableType:
    """A rich renderable of ``report``; ``verbose`` adds remediation and skipped files."""
    parts: list[RenderableType] = []
    if report.findings:
        table = Table(show_lines=False, expand=False, title=f"ramparts: {report.target}")
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Location", overflow="fold", ratio=2)
        table.add_column("Finding", overflow="fold", ratio=3)
        for f in _fold(report.findings, verbose=verbose):
            if isinstance(f, tuple):
                rule, path, more = f
                table.add_row(
                    Text("…", style="dim"),
                    rule,
                    path,
                    Text(
                        f"{more} more like the above (all are in JSON and SARIF; -v lists them)",
                        style="dim",
                    ),
                )
                continue
            detail = Text(f.title, style="bold")
            detail.append("\n" + f.message)
            if f.evidence:
                detail.append("\nevidence: ", style="dim")
                detail.append(f.evidence)
            if f.remediation and verbose:
                detail.append("\nfix: ", style="dim")
                detail.append(f.remediation)
            table.add_row(
                Text(f.severity.value.upper(), style=SEVERITY_STYLE[f.severity]),
                f.rule_id,
                str(f.location),
                detail,
            )
        parts.append(table)
    for err in report.errors:
        parts.append(Text(f"error: {err.path}: {err.message}", style="red"))
    if verbose:
        parts.extend(Text(f"skipped: {s.path}: {s.reason}", style="dim") for s in report.skips)
    parts.append(_summary(report))
    return Group(*parts)


def render_table(report: Report) -> str:
    """``report`` as plain text (no colour), for files and pipes."""
    buf = io.StringIO()
    console = Console(file=buf, width=120, color_system=None, force_terminal=False)
    console.print(report_renderable(report))
    return buf.getvalue()
