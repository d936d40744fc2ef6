"""Turning failures into one line on stderr and an exit code."""

from __future__ import annotations

import sys

from ramparts.cli.parsing import UsageError
from ramparts.core.types import ExitCode
from ramparts.errors import RampartsError

__all__ = ["report_failure"]


def _say(line: str) -> None:
    sys.stderr.write(line + "\n")


def report_failure(exc: BaseException, *, debug: bool) -> int:
    """Print ``exc`` as one line (a traceback only under ``--debug``) and return the exit code."""
    if debug:
        import traceback  # noqa: PLC0415 - only --debug prints one

        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, UsageError):
        _say(f"{exc.prog}: usage error: {exc} (try '{exc.prog} --help')")
        return ExitCode.USAGE
    if isinstance(exc, KeyboardInterrupt):
        _say("ramparts: interrupted")
        return 130
    if isinstance(exc, RampartsError):
        _say(f"ramparts: error: {exc}")
        return ExitCode.ERRORS
    if isinstance(exc, BrokenPipeError):
        return ExitCode.ERRORS
    if isinstance(exc, SystemExit):
        return exc.code if isinstance(exc.code, int) else ExitCode.ERRORS
    hint = "" if debug else " (run with --debug for a traceback)"
    _say(f"ramparts: internal error: {type(exc).__name__}: {exc}{hint}")
    return ExitCode.ERRORS
