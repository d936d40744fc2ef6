"""``ramparts scan``: run the static scanners over a path and report."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ramparts.cli.output import (
    DelayedProgress,
    add_report_options,
    apply_report_options,
    emit_report,
)
from ramparts.cli.parsing import (
    FillingHelpFormatter,
    Parser,
    add_engine_options,
    add_walk_options,
    existing_path,
    walk_settings,
)
from ramparts.cli.state import AppState
from ramparts.core.records import replace
from ramparts.core.types import Report
from ramparts.errors import InputError
from ramparts.scan.registry import BUILTIN

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

    from ramparts.core.settings import DepsScanSettings, Settings
    from ramparts.scan.interface import Scanner

__all__ = ["DEFAULT_SUBCOMMAND", "add_parser", "subcommands"]

DEFAULT_SUBCOMMAND = "all"

DESCRIPTION = """\
Scan files for risks without executing them.

  ramparts scan PATH            every scanner (no network)
  ramparts scan models PATH     model files only
  ramparts scan deps PATH       known vulnerabilities of dependencies (asks OSV)

Honours .gitignore, never follows symbolic links out of PATH, and reports
skipped and unreadable files instead of passing them silently. A directory
named like a scanner is written ./models.
"""


def subcommands() -> list[str]:
    """The words that may follow ``scan``; anything else is a PATH for ``all``."""
    return [DEFAULT_SUBCOMMAND, *BUILTIN]


def add_parser(commands: Any, only: str | None = None) -> None:
    """Add ``scan`` and its per-scanner subcommands to the top-level parser (with
    ``only`` naming one of them, only that one: a run needs no other)."""
    scan: Parser = commands.add_parser(
        "scan", help="scan model files and code for risks", description=DESCRIPTION
    )
    scan.set_defaults(handler=scan.help_handler())
    sub = scan.add_command_parsers("scanners")
    if only not in subcommands():
        only = None
    if only in (None, DEFAULT_SUBCOMMAND):
        _leaf(sub, DEFAULT_SUBCOMMAND, "run every scanner on PATH", None)
    for name, (description, _) in BUILTIN.items():
        if only in (None, name):
            _leaf(sub, name, f"only the {name} scanner: {description}", [name])


def _leaf(sub: Any, name: str, text: str, scanners: list[str] | None) -> None:
    parser: Parser = sub.add_parser(
        name,
        help=text,
        description=text[0].upper() + text[1:] + ".",
        formatter_class=FillingHelpFormatter,  # wraps it only when help is shown
    )
    parser.add_argument("path", metavar="PATH", type=existing_path, help="file or directory")
    add_walk_options(parser)
    if scanners == ["pii"]:
        add_engine_options(parser, "tables (CSV, TSV, Parquet) are read")
    if scanners == ["deps"]:
        _add_deps_options(parser)
    if scanners is None or "secrets" in scanners:
        parser.add_argument(
            "--git-history",
            action="store_true",
            help="also scan every line added by any commit of the repository (secrets)",
        )
    parser.add_argument(
        "--baseline",
        type=Path,
        metavar="FILE",
        help="a previous JSON report: its findings are known and not reported again",
    )
    parser.add_argument(
        "--record", action="store_true", help="store this run in the state database (for trends)"
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show remediation and skipped files in the table",
    )
    add_report_options(parser)

    def handler(state: AppState, args: argparse.Namespace) -> int:
        return _run(state, args, scanners)

    parser.set_defaults(handler=handler)


def _add_deps_options(parser: Parser) -> None:
    group = parser.add_argument_group("vulnerability data")
    group.add_argument(
        "--offline",
        action="store_true",
        help="no network: audit against a local OSV export only (without one, report "
        "unpinned dependencies only)",
    )
    group.add_argument(
        "--osv-export",
        type=existing_path,
        metavar="PATH",
        help="local OSV export: folder of OSV JSON files or a zip (OSV's PyPI all.zip)",
    )
    group.add_argument(
        "--service",
        choices=("osv", "pypi"),
        help="online service when no export is given (default: osv)",
    )


def _deps_settings(settings: Settings, args: argparse.Namespace) -> DepsScanSettings:
    """``[scan.deps]`` with this command's flags, and its cache in the state directory."""
    deps = settings.scan.deps
    changes: dict[str, Any] = {}
    if deps.cache_dir is None:
        changes["cache_dir"] = settings.state_dir / "cache" / "pip-audit"
    if getattr(args, "offline", False):
        changes["offline"] = True
    if getattr(args, "osv_export", None) is not None:
        changes["osv_export"] = args.osv_export
    if getattr(args, "service", None):
        changes["service"] = args.service
    return replace(deps, **changes)


def _with_history(report: Report, path: Path) -> Report:
    """``report`` plus secrets added by past commits (one line and exit 2 if git fails)."""
    from ramparts.scan.git_history import scan_history  # noqa: PLC0415

    root = path if path.is_dir() else path.parent
    try:
        found = scan_history(root, in_tree=frozenset(f.fingerprint for f in report.findings))
    except (FileNotFoundError, RuntimeError) as exc:
        raise InputError(f"--git-history: {exc}") from exc
    return replace(report, findings=(*report.findings, *found))


def _run(state: AppState, args: argparse.Namespace, scanner_names: Sequence[str] | None) -> int:
    from ramparts.scan.interface import ScanContext  # noqa: PLC0415
    from ramparts.scan.registry import load  # noqa: PLC0415
    from ramparts.scan.runner import run_scan  # noqa: PLC0415

    apply_report_options(state, args.cmd_format, args.cmd_output, args.cmd_fail_on)
    settings = state.settings()
    scan_settings = replace(walk_settings(settings.scan, args), deps=_deps_settings(settings, args))
    engine = None
    if getattr(args, "engine", "local") == "spark":
        from ramparts.scan.pii import PiiScanner  # noqa: PLC0415
        from ramparts.scan.spark_engine import SparkTables  # noqa: PLC0415

        engine = SparkTables(args.spark_master)
        scanners: list[Scanner] = [PiiScanner(tables=engine)]
        # Spark runs in this process; the runner's worker processes would fork it.
        scan_settings = replace(scan_settings, workers=1)
    else:
        scanners = load(scanner_names)
    known = None
    if args.baseline is not None:
        from ramparts.scan.baseline import load_baseline  # noqa: PLC0415

        known = load_baseline(args.baseline)
    progress = DelayedProgress(enabled=not state.quiet)
    try:
        report = run_scan(
            args.path,
            scanners,
            ctx=ScanContext(settings=scan_settings),
            target=str(args.path),
            progress=progress,
        )
    finally:
        progress.close()
        if engine is not None:
            engine.close()
    if getattr(args, "git_history", False):
        report = _with_history(report, args.path)
    if known is not None:
        from ramparts.scan.baseline import apply_baseline  # noqa: PLC0415

        report = apply_baseline(report, known)
    if args.verbose:
        state.verbose = True
    code = emit_report(state, report, settings.fail_on)
    if args.record:
        from ramparts.cli.record import record_run  # noqa: PLC0415 (store only when asked)

        record_run(settings, report, code)
    return int(code)
