"""``ramparts discover``: the AI assets of a repository, and which of them are shadow AI."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.output import DelayedProgress, add_report_options
from ramparts.cli.parsing import (
    Parser,
    UsageError,
    add_walk_options,
    existing_path,
    walk_settings,
)
from ramparts.cli.state import AppState
from ramparts.core.types import ExitCode
from ramparts.errors import InputError

if TYPE_CHECKING:
    from ramparts.core.settings import Settings

__all__ = ["add_parser", "registered_digests"]

FORMATS = ("table", "json")

DESCRIPTION = """\
List the AI assets under PATH: model files (by content, with SHA-256), datasets,
notebooks, AI SDK use and AI API hostnames in code, MCP servers, agent
configurations, and AI resources in Terraform, CloudFormation, Kubernetes and
Compose files. Nothing is imported, loaded or executed.

Shadow AI: an SDK use, endpoint, resource or MCP server whose provider is not
approved (posture.approved_providers in ramparts.toml, plus --approved-provider),
and, when the local state database exists, a model file that no registered
version holds (alone, or in a registered folder).

  ramparts discover .
  ramparts discover . --approved-provider openai -f json -o inventory.json

Exit codes: 0 listed, 2 errors, 3 nothing seen, 4 usage.
"""


def add_parser(commands: Any) -> None:
    """Add ``discover`` to the top-level parser."""
    parser: Parser = commands.add_parser(
        "discover", help="inventory AI assets and shadow AI", description=DESCRIPTION
    )
    parser.add_argument("path", metavar="PATH", type=existing_path, help="file or directory")
    parser.add_argument(
        "--approved-provider",
        action="append",
        default=[],
        metavar="NAME",
        help="a provider that is approved (openai, anthropic, aws-bedrock...; repeatable)",
    )
    add_walk_options(parser)
    add_report_options(
        parser,
        fail_on=False,
        formats=FORMATS,
        format_help="table (default) or json",
        output_help="write the inventory to this file instead of stdout",
    )
    parser.set_defaults(handler=run)


def registered_digests(settings: Settings) -> frozenset[str] | None:
    """SHA-256 digests of the registry's versions, or ``None`` without a state database.

    A database is only read, never created: without one no registry is configured, and
    model files are then not judged as unregistered.
    """
    if settings.database_url is None and not (settings.state_dir / "ramparts.db").is_file():
        return None
    import sqlalchemy as sa  # noqa: PLC0415 - only when a registry exists

    from ramparts.store import create_engine  # noqa: PLC0415
    from ramparts.store.schema import registry_versions  # noqa: PLC0415

    try:
        engine = create_engine(settings.sqlalchemy_url())
    except Exception as exc:  # noqa: BLE001 - any bad URL reads as "no registry here"
        _warn(f"registry not read: {exc}")
        return None
    query = sa.select(registry_versions.c.digest).where(registry_versions.c.state != "deleted")
    try:
        with engine.connect() as conn:
            return frozenset(str(row[0]) for row in conn.execute(query))
    except sa.exc.SQLAlchemyError as exc:
        _warn(f"registry not read: {type(exc).__name__}")
        return None
    finally:
        engine.dispose()


def _warn(line: str) -> None:
    sys.stderr.write(f"ramparts: warning: {line}\n")


def _approved(settings: Settings, flags: list[str]) -> list[str]:
    names = [*settings.posture.approved_providers]
    for flag in flags:
        name = flag.strip().lower()
        if not name:
            raise UsageError("argument --approved-provider: empty name", "ramparts discover")
        names.append(name)
    return sorted(set(names))


def run(state: AppState, args: argparse.Namespace) -> int:
    """Discover, judge shadow AI, print or write the inventory, return the exit code."""
    from ramparts.scan.discover import discover, shadow_ai  # noqa: PLC0415
    from ramparts.scan.discover_report import (  # noqa: PLC0415
        inventory_renderable,
        render_inventory_json,
        render_inventory_table,
    )

    fmt = args.cmd_format or state.format
    if fmt not in FORMATS:
        raise UsageError(f"discover writes table or json, not {fmt}", "ramparts discover")
    output: Path | None = args.cmd_output or state.output
    settings = state.settings()
    approved = _approved(settings, args.approved_provider)
    scan_settings = walk_settings(settings.scan, args)
    progress = DelayedProgress(enabled=not state.quiet, label="discovering")
    try:
        inventory = discover(args.path, settings=scan_settings, progress=progress)
    finally:
        progress.close()
    shadow = shadow_ai(
        inventory, approved_providers=approved, registered_digests=registered_digests(settings)
    )
    if output is not None:
        render = render_inventory_json if fmt == "json" else render_inventory_table
        if output.is_dir():
            raise InputError(f"cannot write {output}: it is a directory")
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(render(inventory, shadow), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {output}: {exc.strerror or exc}") from exc
        if not state.quiet:
            sys.stderr.write(
                f"{len(inventory.assets)} AI asset(s), {len(shadow)} shadow AI -> {output}\n"
            )
    elif fmt == "json":
        sys.stdout.write(render_inventory_json(inventory, shadow))
        sys.stdout.flush()
    else:
        from rich.console import Console  # noqa: PLC0415

        Console(highlight=False).print(inventory_renderable(inventory, shadow))
    if inventory.errors:
        return int(ExitCode.ERRORS)
    if inventory.files_seen == 0:
        return int(ExitCode.NOTHING_SCANNED)
    return int(ExitCode.CLEAN)
