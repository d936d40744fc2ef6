"""``ramparts db``: create, migrate and inspect the state database."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser
from ramparts.cli.state import AppState

__all__ = ["add_parser"]

DESCRIPTION = """\
Manage the state database (SQLite by default, or RAMPARTS_DATABASE_URL).

  ramparts db upgrade    create or migrate the schema (safe to repeat)
  ramparts db status     where the database is, its schema version, recent runs
"""


def add_parser(commands: Any) -> None:
    """Add ``db`` and its subcommands to the top-level parser."""
    db: Parser = commands.add_parser(
        "db", help="create, migrate and inspect the state database", description=DESCRIPTION
    )
    db.set_defaults(handler=db.help_handler())
    sub = db.add_command_parsers()
    upgrade = sub.add_parser(
        "upgrade",
        help="create or migrate the schema",
        description="Create or migrate the schema to this version of ramparts.",
    )
    upgrade.set_defaults(handler=upgrade_cmd)
    status = sub.add_parser(
        "status",
        help="database location, schema revision, latest runs (JSON)",
        description="Print the database location, its schema revision and the latest "
        "scan runs (JSON).",
    )
    status.set_defaults(handler=status_cmd)


def upgrade_cmd(state: AppState, _args: argparse.Namespace) -> int:
    """Create or migrate the schema to this version of ramparts."""
    from ramparts.store import create_engine, head_revision, redact_url, upgrade  # noqa: PLC0415

    engine = create_engine(state.settings().sqlalchemy_url())
    try:
        upgrade(engine)
        echo(f"{redact_url(engine.url)} is at schema revision {head_revision()}")
    finally:
        engine.dispose()
    return 0


def status_cmd(state: AppState, _args: argparse.Namespace) -> int:
    """Print the database location, its schema revision and the latest scan runs (JSON)."""
    from ramparts.store import (  # noqa: PLC0415
        ScanRunStore,
        create_engine,
        current_revision,
        head_revision,
        redact_url,
    )
    from ramparts.store.engine import ping  # noqa: PLC0415

    engine = create_engine(state.settings().sqlalchemy_url())
    try:
        ping(engine)
        revision = current_revision(engine)
        runs = ScanRunStore(engine).list(limit=5) if revision is not None else []
        echo(
            json.dumps(
                {
                    "database": redact_url(engine.url),
                    "revision": revision,
                    "head": head_revision(),
                    "up_to_date": revision == head_revision(),
                    "recent_runs": [
                        {
                            "id": r.id,
                            "started_at": r.started_at.isoformat(),
                            "target": r.target,
                            "exit_code": r.exit_code,
                            "findings": r.findings,
                        }
                        for r in runs
                    ],
                },
                indent=2,
            )
        )
    finally:
        engine.dispose()
    return 0
