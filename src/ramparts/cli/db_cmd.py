"""``ramparts db``: create, migrate and inspect the state database."""

from __future__ import annotations

import json

import click

from ramparts.cli.state import AppState, pass_state

__all__ = ["db"]


@click.group()
def db() -> None:
    """Manage the state database (SQLite by default, or RAMPARTS_DATABASE_URL).

    \b
    ramparts db upgrade    create or migrate the schema (safe to repeat)
    ramparts db status     where the database is, its schema version, recent runs
    """


@db.command("upgrade")
@pass_state
def upgrade_cmd(state: AppState) -> None:
    """Create or migrate the schema to this version of ramparts."""
    from ramparts.store import create_engine, head_revision, redact_url, upgrade  # noqa: PLC0415

    engine = create_engine(state.settings().sqlalchemy_url())
    try:
        upgrade(engine)
        click.echo(f"{redact_url(engine.url)} is at schema revision {head_revision()}")
    finally:
        engine.dispose()


@db.command("status")
@pass_state
def status_cmd(state: AppState) -> None:
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
        click.echo(
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
