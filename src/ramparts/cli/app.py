"""The ``ramparts`` command group, its global options, and the process entry point."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ramparts._version import __version__
from ramparts.cli.errors import report_failure
from ramparts.cli.state import FORMATS, SEVERITIES, AppState
from ramparts.core.types import Severity

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Lists commands in the order they were added (the order of a workflow)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="ramparts")
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Report format (default: table).",
)
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    default=None,
    help="Exit 1 on findings at or above this severity (default: high).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar or summary on stderr.")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Settings file (default: ./ramparts.toml).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    fmt: str | None,
    output: Path | None,
    fail_on: str | None,
    quiet: bool,
    debug: bool,
    config: Path | None,
) -> None:
    """ramparts: secure AI workflows end to end.

    Scan model files and code before anyone loads them, and report in
    table, JSON or SARIF form. Exit codes: 0 clean, 1 findings at or above
    --fail-on, 2 errors, 3 nothing scanned, 4 usage.
    """
    state = ctx.ensure_object(AppState)
    state.format = fmt or state.format
    state.output = output
    state.fail_on = Severity.parse(fail_on) if fail_on else None
    state.quiet = quiet
    state.debug = debug or state.debug
    state.config = config
    state.environ = dict(os.environ)


def _register() -> None:
    # Command modules import their layers lazily inside the commands, so registering
    # them costs only the click definitions.
    from ramparts.cli import config_cmd, db_cmd, scan_cmd  # noqa: PLC0415

    cli.add_command(scan_cmd.scan)
    cli.add_command(db_cmd.db)
    cli.add_command(config_cmd.config)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI and exit with its code; the only place ramparts calls ``sys.exit``."""
    args = sys.argv[1:] if argv is None else argv
    state = AppState(debug="--debug" in args)
    try:
        code = cli.main(args=args, prog_name="ramparts", standalone_mode=False, obj=state)
    except SystemExit:
        raise
    except BaseException as exc:  # noqa: BLE001 - the one place that turns any failure into an exit code
        sys.exit(report_failure(exc, debug=state.debug))
    sys.exit(code if isinstance(code, int) else 0)
