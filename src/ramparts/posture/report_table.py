"""The terminal report of ``ramparts posture``: the score, domains, then failing
controls with their evidence and fix (manual ones listed by title)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ramparts.core.report.table import SEVERITY_STYLE
from ramparts.posture.interface import PostureReport, Status
from ramparts.posture.report_common import changes, ordered, previous_run, score_text

__all__ = ["render_table"]

_STATUS_STYLE = {
    Status.FAIL: "bold red",
    Status.PASS: "green",
    Status.MANUAL: "yellow",
    Status.NOT_APPLICABLE: "dim",
}


def render_table(report: PostureReport, *, width: int = 120, verbose: bool = False) -> str:
    """The report as terminal text (colours only when printed to a terminal)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=False, highlight=False)
    s = report.score
    headline = Text()
    headline.append(f"posture of {report.target}: ", style="bold")
    headline.append(f"{score_text(s)}", style="bold")
    headline.append(
        f" (score of automated controls: {s.passed} passed, {s.failed} failed, "
        f"{s.manual} manual, {s.not_applicable} not applicable)"
    )
    console.print(headline)
    before = previous_run(report)
    if before is not None:
        was = "n/a" if before.score is None else f"{before.score:g} / 100"
        console.print(f"since the previous run ({before.started_at}): {was} -> {score_text(s)}")
        for change in changes(report):
            console.print(Text(f"  {change.describe()}"))
    domains = Table(title="by domain", show_edge=False, pad_edge=False)
    for column in ("domain", "score", "pass", "fail", "manual", "n/a"):
        domains.add_column(column, justify="left" if column == "domain" else "right")
    for name, ds in report.domains.items():
        domains.add_row(
            name,
            score_text(ds),
            str(ds.passed),
            str(ds.failed),
            str(ds.manual),
            str(ds.not_applicable),
        )
    console.print(domains)
    shown = [r for r in ordered(report.results) if verbose or r.status is Status.FAIL]
    for result in shown:
        control = result.control
        line = Text()
        line.append(f"{result.status.value:<8}", style=_STATUS_STYLE[result.status])
        line.append(f" {control.id} ", style="bold")
        line.append(f"[{control.severity.value}]", style=SEVERITY_STYLE[control.severity])
        line.append(f" {control.title}")
        console.print(line)
        console.print(Text(f"    evidence: {result.evidence}"))
        if result.status is Status.FAIL:
            console.print(Text(f"    fix: {control.remediation}"))
    manual = [r for r in report.results if r.status is Status.MANUAL]
    if manual and not verbose:
        console.print(
            f"{len(manual)} control(s) need a person's judgement (MANUAL): "
            + ", ".join(r.control.id for r in manual)
            + " (--verbose shows them)"
        )
    return buffer.getvalue()
