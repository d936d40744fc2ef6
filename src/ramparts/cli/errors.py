"""Turning failures into one line on stderr and an exit code."""

from __future__ import annotations

import sys
import traceback

import click

from ramparts.core.types import ExitCode
from ramparts.errors import RampartsError

__all__ = ["report_failure"]


def report_failure(exc: BaseException, *, debug: bool) -> int:
    """Print ``exc`` as one line (a traceback only under ``--debug``) and return the exit code."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.ClickException):
        # click's usage errors already carry a hint; print them its way (to stderr).
        exc.show()
        return ExitCode.USAGE
    if isinstance(exc, click.exceptions.Abort | KeyboardInterrupt):
        click.echo("ramparts: interrupted", err=True)
        return 130
    if isinstance(exc, RampartsError):
        click.echo(f"ramparts: error: {exc}", err=True)
        return ExitCode.ERRORS
    if isinstance(exc, BrokenPipeError):
        return ExitCode.ERRORS
    hint = "" if debug else " (run with --debug for a traceback)"
    click.echo(f"ramparts: internal error: {type(exc).__name__}: {exc}{hint}", err=True)
    return ExitCode.ERRORS
