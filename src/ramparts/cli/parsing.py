"""argparse, shaped for ramparts: usage errors raise instead of exiting.

The CLI is built on the standard library's argparse rather than a framework: a
scan in a pre-commit hook or a CI step pays for the interpreter's start-up on every
call, and a CLI framework's imports cost more than scanning a small model file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ramparts.core.records import replace

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, NoReturn

    from ramparts.core.settings import ScanSettings

__all__ = [
    "Command",
    "ExitRequest",
    "FillingHelpFormatter",
    "Parser",
    "UsageError",
    "add_engine_options",
    "add_walk_options",
    "existing_path",
    "lower_choice",
    "walk_settings",
]

Command = Callable[..., int]
"""A command handler: ``handler(state, args) -> exit code``."""


class UsageError(Exception):
    """A bad flag or argument; the CLI prints it as one line and exits 4."""

    def __init__(self, message: str, prog: str) -> None:
        super().__init__(message)
        self.prog = prog


class ExitRequest(Exception):  # noqa: N818 - a request, not an error
    """``--help`` or ``--version`` was printed; exit with ``code``."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class FillingHelpFormatter(argparse.HelpFormatter):
    """Wraps descriptions when help is shown; a steady width so help text is
    reproducible."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28, width=80)

    def _format_action(self, action: argparse.Action) -> str:
        text = super()._format_action(action)
        if action.nargs == argparse.PARSER:
            # The list of subcommands: drop the bare "COMMAND" line argparse puts first.
            text = text.split("\n", 1)[1]
        return text


class _HelpFormatter(argparse.RawDescriptionHelpFormatter, FillingHelpFormatter):
    """Keeps hand-wrapped descriptions (the default of :class:`Parser`)."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` and exits raise
    :class:`ExitRequest`, so ``main`` decides every exit code in one place."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _HelpFormatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, self.prog)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise ExitRequest(status)

    def add_command_parsers(self, title: str = "commands") -> Any:
        """Subcommands listed in the order they are added (the order of a workflow)."""
        return self.add_subparsers(title=title, dest="command", metavar="COMMAND")

    def help_handler(self) -> Command:
        """A handler that prints this parser's help: a group run without a subcommand."""

        def show_help(*_: object) -> int:
            self.print_help()
            return 0

        return show_help


def add_engine_options(parser: argparse.ArgumentParser, what: str) -> None:
    """``--engine local|spark`` and ``--spark-master``; ``what`` says what Spark does."""
    parser.add_argument(
        "--engine",
        choices=("local", "spark"),
        default="local",
        help=f"where {what}: here (default) or on Spark",
    )
    parser.add_argument(
        "--spark-master",
        default="local[2]",
        metavar="URL",
        help="Spark master for --engine spark (default: local[2])",
    )


def existing_path(value: str) -> Path:
    """An argparse type: a path that exists (file or directory)."""
    path = Path(value)
    if not path.exists() and not path.is_symlink():
        raise argparse.ArgumentTypeError(f"path '{value}' does not exist")
    return path


def lower_choice(choices: Sequence[str]) -> Callable[[str], str]:
    """An argparse type: one of ``choices``, compared case-insensitively."""

    def convert(value: str) -> str:
        low = value.lower()
        if low not in choices:
            allowed = ", ".join(choices)
            raise argparse.ArgumentTypeError(f"'{value}' is not one of {allowed}")
        return low

    convert.__name__ = "choice"
    return convert


def add_walk_options(parser: argparse.ArgumentParser) -> None:
    """``-x/--exclude PATTERN`` and ``--no-gitignore``: what the file walk leaves out."""
    parser.add_argument(
        "-x",
        "--exclude",
        action="append",
        default=[],
        metavar="PATTERN",
        help="skip paths matching this gitignore-style pattern (repeatable)",
    )
    parser.add_argument(
        "--no-gitignore", action="store_true", help="also read files that .gitignore excludes"
    )


def walk_settings(settings: ScanSettings, args: argparse.Namespace) -> ScanSettings:
    """``settings`` with the walk options of :func:`add_walk_options` applied."""
    return replace(
        settings,
        exclude=(*settings.exclude, *args.exclude),
        respect_gitignore=settings.respect_gitignore and not args.no_gitignore,
    )
