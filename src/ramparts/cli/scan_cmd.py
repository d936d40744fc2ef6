"""``ramparts scan``: run the static scanners over a path and report."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from ramparts.cli.output import DelayedProgress, apply_report_options, emit_report, report_options
from ramparts.cli.state import AppState, pass_state
from ramparts.scan.registry import BUILTIN

__all__ = ["scan"]


class _DefaultGroup(click.Group):
    """A group whose first argument, when it is not a subcommand, goes to ``all``.

    So ``ramparts scan PATH`` runs every scanner, and ``ramparts scan models PATH``
    runs one. (A directory named like a scanner is written ``./models``.)
    """

    default_command = "all"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_DefaultGroup)
def scan() -> None:
    """Scan files for risks without executing them.

    \b
    ramparts scan PATH            every scanner
    ramparts scan models PATH     model files only

    Honours .gitignore, never follows symbolic links out of PATH, and reports
    skipped and unreadable files instead of passing them silently.
    """


def _scan_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = report_options(func)
    func = click.option(
        "--verbose",
        "-v",
        is_flag=True,
        help="Also show remediation and skipped files in the table.",
    )(func)
    func = click.option(
        "--record", is_flag=True, help="Store this run in the state database (for trends)."
    )(func)
    func = click.option(
        "--no-gitignore", is_flag=True, help="Scan files that .gitignore excludes."
    )(func)
    func = click.option(
        "--exclude",
        "-x",
        multiple=True,
        metavar="PATTERN",
        help="Skip paths matching this gitignore-style pattern (repeatable).",
    )(func)
    return click.argument(
        "path", type=click.Path(exists=True, file_okay=True, dir_okay=True, path_type=Path)
    )(func)


def _run(
    state: AppState,
    path: Path,
    scanner_names: Sequence[str] | None,
    *,
    exclude: tuple[str, ...],
    no_gitignore: bool,
    record: bool,
    verbose: bool,
    fmt: str | None,
    output: Path | None,
    fail_on: str | None,
) -> None:
    from ramparts.scan.interface import ScanContext  # noqa: PLC0415
    from ramparts.scan.registry import load  # noqa: PLC0415
    from ramparts.scan.runner import run_scan  # noqa: PLC0415

    apply_report_options(state, fmt, output, fail_on)
    settings = state.settings()
    scan_settings = dataclasses.replace(
        settings.scan,
        exclude=(*settings.scan.exclude, *exclude),
        respect_gitignore=settings.scan.respect_gitignore and not no_gitignore,
    )
    scanners = load(scanner_names)
    progress = DelayedProgress(enabled=not state.quiet)
    try:
        report = run_scan(
            path,
            scanners,
            ctx=ScanContext(settings=scan_settings),
            target=str(path),
            progress=progress,
        )
    finally:
        progress.close()
    if verbose:
        state.verbose = True
    code = emit_report(state, report, settings.fail_on)
    if record:
        from ramparts.cli.record import record_run  # noqa: PLC0415 (store only when asked)

        record_run(settings, report, code)
    raise click.exceptions.Exit(int(code))


@scan.command("all")
@_scan_options
@pass_state
def scan_all(state: AppState, /, path: Path, **opts: Any) -> None:
    """Run every scanner on PATH."""
    _run(state, path, None, **_translate(opts))


def _translate(opts: dict[str, Any]) -> dict[str, Any]:
    return {
        "exclude": opts["exclude"],
        "no_gitignore": opts["no_gitignore"],
        "record": opts["record"],
        "verbose": opts["verbose"],
        "fmt": opts["cmd_format"],
        "output": opts["cmd_output"],
        "fail_on": opts["cmd_fail_on"],
    }


def _make_single(name: str, description: str) -> click.Command:
    @_scan_options
    @pass_state
    def command(state: AppState, /, path: Path, **opts: Any) -> None:
        _run(state, path, [name], **_translate(opts))

    command.__doc__ = f"Run only the {name} scanner: {description}."
    return click.command(name)(command)


for _name, (_description, _) in BUILTIN.items():
    scan.add_command(_make_single(_name, _description))
