"""The human report on a terminal: a rich table of findings, then skips, errors and a
summary line. Pipes and files get :mod:`ramparts.core.report.text`."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from ramparts.core.report.text import error_line, fold, more_text, skip_line, summary_parts
from ramparts.core.types import Report, Severity

__all__ = ["SEVERITY_STYLE", "report_renderable"]

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


def report_renderable(report: Report, *, verbose: bool = False) -> RenderableType:
    """A rich renderable of ``report``; ``verbose`` adds remediation and skipped files."""
    parts: list[RenderableType] = []
    if report.findings:
        table = Table(show_lines=False, expand=False, title=f"ramparts: {report.target}")
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Location", overflow="fold", ratio=2)
        table.add_column("Finding", overflow="fold", ratio=3)
        for f in fold(report.findings, verbose=verbose):
            if isinstance(f, tuple):
                rule, path, more = f
                table.add_row(
                    Text("…", style="dim"),
                    rule,
                    path,
                    Text(more_text(more), style="dim"),
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
        parts.append(Text(error_line(err), style="red"))
    if verbose:
        parts.extend(Text(skip_line(s), style="dim") for s in report.skips)
    parts.append(_summary(report))
    return Group(*parts)
