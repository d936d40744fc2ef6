"""``ramparts config``: show the settings in force and where they come from."""

from __future__ import annotations

import json

import click

from ramparts.cli.state import AppState, pass_state

__all__ = ["config"]


@click.group()
def config() -> None:
    """Inspect settings (ramparts.toml, RAMPARTS_* variables, flags)."""


@config.command("show")
@pass_state
def show(state: AppState) -> None:
    """Print the effective settings as JSON; secrets are masked.

    Precedence, highest first: command-line flags, RAMPARTS_* environment
    variables (RAMPARTS_SCAN__MAX_FILE_BYTES nests with '__'), ramparts.toml,
    built-in defaults.
    """
    from ramparts.core.settings import settings_to_dict  # noqa: PLC0415

    settings = state.settings()
    data = settings_to_dict(settings)
    data["effective_database_url"] = _mask(settings.sqlalchemy_url())
    click.echo(json.dumps(data, indent=2, sort_keys=True))


def _mask(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
