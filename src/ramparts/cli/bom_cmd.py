"""``ramparts bom``: a CycloneDX 1.6 machine-learning bill of materials for a project."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ramparts.cli.parsing import Parser, existing_path
from ramparts.cli.state import AppState
from ramparts.errors import InputError

__all__ = ["add_parser"]

DESCRIPTION = """\
Write a CycloneDX 1.6 ML-BOM (JSON) for the project at PATH: its models (format,
SHA-256, model card), its datasets (SHA-256, personal-data kinds and classification
from the personal-data scanner, owners), its pinned Python dependencies and the
workflows that trained it (from signed SLSA provenance, training scripts and CI
files). A completeness score on stderr names the recommended fields still missing.

  ramparts bom . --output bom.cdx.json --owner "ML platform team"
"""


def add_parser(commands: Any) -> None:
    """Add ``bom`` to the top-level parser."""
    bom: Parser = commands.add_parser(
        "bom", help="write a CycloneDX 1.6 ML bill of materials", description=DESCRIPTION
    )
    bom.add_argument("path", metavar="PATH", type=existing_path, help="project folder")
    bom.add_argument(
        "-o",
        "--output",
        dest="bom_output",
        type=Path,
        metavar="FILE",
        help="write here (default: stdout)",
    )
    bom.add_argument("--name", metavar="NAME", help="project name (default: the folder's name)")
    bom.add_argument(
        "--owner", metavar="NAME", help="organisation that owns the datasets (data governance)"
    )
    bom.add_argument(
        "--no-personal-data", action="store_true", help="do not scan datasets for personal data"
    )
    bom.set_defaults(handler=run)


def run(state: AppState, args: argparse.Namespace) -> int:
    """Build the BOM, write it, and print its completeness."""
    from ramparts.registry.bom import BomOptions, build_bom, completeness  # noqa: PLC0415

    options = BomOptions(
        settings=state.settings().scan,
        name=args.name,
        owner=args.owner,
        personal_data=not args.no_personal_data,
    )
    document = build_bom(args.path, options)
    text = json.dumps(document, indent=2) + "\n"
    target: Path | None = args.bom_output
    if target is None:
        sys.stdout.write(text)
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    score = completeness(document)
    if not state.quiet:
        counts = {
            kind: sum(1 for c in document["components"] if c["type"] == kind)
            for kind in ("machine-learning-model", "data", "library")
        }
        where = f" -> {target}" if target else ""
        sys.stderr.write(
            f"ML-BOM{where}: {counts['machine-learning-model']} models, {counts['data']} datasets, "
            f"{counts['library']} dependencies; completeness {score.score:.0%} "
            f"({score.filled} of {score.total} recommended fields)\n"
        )
        for label in score.missing[:8]:
            sys.stderr.write(f"  missing: {label}\n")
        if len(score.missing) > 8:
            sys.stderr.write(f"  ... and {len(score.missing) - 8} more\n")
    return 0
