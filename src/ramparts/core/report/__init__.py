"""Report formats for core types: a table for people, JSON and SARIF 2.1.0 for machines.

Each renderer is a function ``Report -> str`` registered in :data:`RENDERERS`; the CLI
looks a format up by name there.
"""

from collections.abc import Callable

from ramparts.core.report.json_report import JSON_SCHEMA_VERSION, render_json, report_to_dict
from ramparts.core.types import Report

Renderer = Callable[[Report], str]


def render_table(report: Report) -> str:
    """``report`` as plain text, for a file (a terminal gets the rich table)."""
    from ramparts.core.report.text import render_text  # noqa: PLC0415

    return render_text(report)


def render_sarif(report: Report) -> str:
    """``report`` as a SARIF 2.1.0 log (its module is imported only for this format)."""
    from ramparts.core.report.sarif import render_sarif as render  # noqa: PLC0415

    return render(report)


RENDERERS: dict[str, Renderer] = {
    "table": render_table,
    "json": render_json,
    "sarif": render_sarif,
}
"""Format name -> renderer; the ``--format`` choices of the CLI."""

__all__ = [
    "JSON_SCHEMA_VERSION",
    "RENDERERS",
    "Renderer",
    "render_json",
    "render_sarif",
    "render_table",
    "report_to_dict",
]
