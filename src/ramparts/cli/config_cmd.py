"""``ramparts config``: show the settings in force and where they come from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser
from ramparts.cli.state import AppState

__all__ = ["add_parser"]

SHOW_DESCRIPTION = """\
Print the effective settings as JSON; secrets are masked.

Precedence, highest first: command-line flags, RAMPARTS_* environment
variables (RAMPARTS_SCAN__MAX_FILE_BYTES nests with '__'), ramparts.toml,
built-in defaults.
"""


def add_parser(commands: Any) -> None:
    """Add ``config`` and its subcommands to the top-level parser."""
    config: Parser = commands.add_parser(
        "config",
        help="show the settings in force",
        description="Inspect settings (ramparts.toml, RAMPARTS_* variables, flags).",
    )
    config.set_defaults(handler=config.help_handler())
    sub = config.add_command_parsers()
    show_parser = sub.add_parser(
        "show", help="print the effective settings as JSON", description=SHOW_DESCRIPTION
    )
    show_parser.set_defaults(handler=show)


def show(state: AppState, _args: argparse.Namespace) -> int:
    """Print the effective settings as JSON; secrets are masked."""
    from ramparts.core.settings import settings_to_dict  # noqa: PLC0415

    settings = state.settings()
    data = settings_to_dict(settings)
    data["effective_database_url"] = _mask(settings.sqlalchemy_url())
    echo(json.dumps(data, indent=2, sort_keys=True))
    return 0


def _mask(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
