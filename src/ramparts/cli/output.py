"""Writing reports and drawing progress: the CLI's only printing helpers."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ramparts.cli.parsing import lower_choice
from ramparts.cli.state import FORMATS, SEVERITIES, AppState
from ramparts.core.report import RENDERERS
from ramparts.core.types import ExitCode, Report, Severity
from ramparts.errors import InputError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "DelayedProgress",
    "add_report_options",
    "apply_report_options",
    "echo",
    "emit_report",
    "write_report_file",
]

FORMAT_HELP = "report format: table (default), json or sarif"
FAIL_ON_HELP = "exit 1 on findings at or above this severity (default: high)"


def echo(text: str) -> None:
    """Print a line of a command's output on stdout."""
    sys.stdout.write(text + "\n")


def add_report_options(
    parser: argparse.ArgumentParser,
    *,
    fail_on: bool = True,
    formats: Sequence[str] = FORMATS,
    format_help: str = FORMAT_HELP,
    output_help: str = "write the report to this file instead of stdout",
) -> None:
    """``--format`` (one of ``formats``), ``--output`` and ``--fail-on`` (unless
    ``fail_on`` is false) on a command.

    The same options exist on ``ramparts`` itself; a value given after the
    subcommand wins, so both ``ramparts -f json scan .`` and ``ramparts scan . -f json``
    work as users of gitleaks and pip-audit expect.
    """
    group = parser.add_argument_group("report options")
    group.add_argument(
        "-f",
        "--format",
        dest="cmd_format",
        type=lower_choice(formats),
        metavar="{" + ",".join(formats) + "}",
        help=format_help,
    )
    group.add_argument(
        "-o",
        "--output",
        dest="cmd_output",
        type=Path,
        metavar="FILE",
        help=output_help,
    )
    if not fail_on:
        return
    group.add_argument(
        "--fail-on",
        dest="cmd_fail_on",
        type=lower_choice(SEVERITIES),
        metavar="SEVERITY",
        help=FAIL_ON_HELP,
    )


def apply_report_options(
    state: AppState, fmt: str | None, output: Path | None, fail_on: str | None
) -> None:
    """Fold a command's report options over the global ones."""
    if fmt:
        state.format = fmt
    if output:
        state.output = output
    if fail_on:
        state.fail_on = Severity.parse(fail_on)


def _print_table(report: Report, *, stderr: bool, verbose: bool) -> None:
    # A terminal (or FORCE_COLOR, as rich reads it) gets the rich table. A pipe or file
    # (a CI log) gets plain text, without importing rich: that import costs as much
    # start-up time as scanning a 1 GiB checkpoint. JSON and SARIF never import it.
    stream = sys.stderr if stderr else sys.stdout
    if not (stream.isatty() or os.environ.get("FORCE_COLOR")):
        from ramparts.core.report.text import render_text  # noqa: PLC0415

        stream.write(render_text(report, verbose=verbose))
        return
    from rich.console import Console  # noqa: PLC0415

    from ramparts.core.report.table import report_renderable  # noqa: PLC0415

    Console(stderr=stderr, highlight=False).print(report_renderable(report, verbose=verbose))


def write_report_file(path: Path, text: str) -> None:
    """Write a report to ``path`` (its folder made if needed); one clear line on failure."""
    if path.is_dir():
        raise InputError(f"cannot write {path}: it is a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def emit_report(state: AppState, report: Report, fail_on: Severity) -> ExitCode:
    """Write ``report`` in the chosen format and return the exit code it implies."""
    if state.output is not None:
        write_report_file(state.output, RENDERERS[state.format](report))
        if not state.quiet and state.format != "table":
            _print_table(report, stderr=True, verbose=state.verbose)
    elif state.format == "table":
        _print_table(report, stderr=False, verbose=state.verbose)
    else:
        sys.stdout.write(RENDERERS[state.format](report))
        sys.stdout.flush()
    return report.exit_code(fail_on)


class DelayedProgress:
    """A progress bar on stderr that appears only once work has lasted a second.

    Short runs print nothing extra; pipes and ``--quiet`` never see a bar.
    """

    def __init__(self, *, enabled: bool, delay: float = 1.0, label: str = "scanning") -> None:
        self._label = label
        self._enabled = enabled and sys.stderr.isatty()
        self._delay = delay
        self._progress: Any = None
        self._task: Any = None
        self._t0 = 0.0
        self._total_bytes = 0
        self._done = 0

    def start(self, total_files: int, total_bytes: int) -> None:
        """Remember the amount of work; the bar itself waits for the delay."""
        self._t0 = time.monotonic()
        self._total_bytes = total_bytes

    def advance(self, rel: str, nbytes: int) -> None:
        """Count one file done, showing the bar once the delay has passed."""
        self._done += nbytes
        if not self._enabled:
            return
        if self._progress is None and time.monotonic() - self._t0 >= self._delay:
            from rich.console import Console  # noqa: PLC0415
            from rich.progress import (  # noqa: PLC0415
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn(f"[bold]{self._label}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                TextColumn("{task.fields[file]}", style="dim"),
                console=Console(stderr=True),
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(
                "scan", total=self._total_bytes, completed=self._done, file=""
            )
        if self._progress is not None:
            self._progress.update(self._task, completed=self._done, file=rel[-50:])

    def close(self) -> None:
        """Remove the bar, if one was drawn."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
