"""The summary line that ends the human report, without rich.

A clean scan's table report is this line alone, and importing rich costs as much as
scanning a 1 GiB checkpoint, so such a report is written as plain text; the table
module styles the same parts.
"""

from __future__ import annotations

from ramparts.core.types import Report

__all__ = ["only_summary", "summary_parts", "summary_text"]


def summary_parts(report: Report) -> list[tuple[str, str]]:
    """The summary as (text, rich style) pieces; an empty style is plain."""
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


def only_summary(report: Report, *, verbose: bool = False) -> bool:
    """Whether the table report of ``report`` is its summary line alone: no findings,
    no errors, and (``verbose``) no skipped files to list."""
    return not (report.findings or report.errors or (verbose and report.skips))
