"""``ramparts fingerprint``: record what a dataset is at each pipeline stage, and check it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser, existing_path
from ramparts.cli.state import AppState
from ramparts.errors import InputError

__all__ = ["add_parser"]

STAGES = ("raw", "cleaned", "features", "train")

DESCRIPTION = """\
Record a dataset's fingerprint at a pipeline stage: SHA-256 of the whole dataset and
of each file, and for tables (CSV, TSV, JSON Lines, Parquet) the row count and a
Merkle root over the rows. --check compares the dataset as it is now with a recorded
stage and names the files and the rows that changed.

  ramparts fingerprint data/customers.csv --stage raw
  ramparts fingerprint data/clean/ --stage cleaned --name customers
  ramparts fingerprint data/clean/ --check --stage cleaned --name customers
  ramparts fingerprint data/customers.csv --list

Records live in <state_dir>/fingerprints (see 'ramparts config show'), or --store DIR.
Exit codes for --check: 0 unchanged, 1 changed, 2 no record for that stage.
"""


def add_parser(commands: Any) -> None:
    """Add ``fingerprint`` to the top-level parser."""
    parser: Parser = commands.add_parser(
        "fingerprint",
        help="record or check a dataset's digest per stage",
        description=DESCRIPTION,
    )
    parser.add_argument(
        "path", metavar="DATASET", type=existing_path, help="dataset file or folder"
    )
    parser.add_argument("--stage", choices=STAGES, help="pipeline stage (required to record)")
    parser.add_argument(
        "--name", metavar="NAME", help="dataset name shared by its stages (default: the path)"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--check", action="store_true", help="compare with the recorded stage (default: the latest)"
    )
    mode.add_argument("--list", action="store_true", help="show the recorded stages")
    parser.add_argument("--store", type=Path, metavar="DIR", help="where records are kept")
    parser.add_argument("--workers", type=int, metavar="N", help="files hashed at once")
    parser.set_defaults(handler=run)


def run(state: AppState, args: argparse.Namespace) -> int:
    """Record, check or list."""
    from ramparts.sign.fingerprint import FingerprintStore, compare, fingerprint  # noqa: PLC0415

    name = args.name or args.path.as_posix()
    store = FingerprintStore(args.store or state.settings().state_dir / "fingerprints")
    if args.list:
        return _list(state, store.stages(name), name)
    if args.check:
        recorded = store.load(name, args.stage) if args.stage else _latest(store, name)
        if recorded is None:
            where = f"stage '{args.stage}'" if args.stage else "any stage"
            raise InputError(
                f"no fingerprint of {name!r} is recorded for {where}; record one with --stage"
            )
        current = fingerprint(args.path, dataset=name, stage=recorded.stage, workers=args.workers)
        changes = compare(recorded, current)
        if state.format == "json":
            echo(json.dumps({
                "dataset": name,
                "stage": recorded.stage,
                "recorded_at": recorded.recorded_at,
                "recorded": {"sha256": recorded.digest},
                "current": {"sha256": current.digest},
                "changed": bool(changes),
                "changes": [
                    {"file": c.name, "kind": c.kind, "changed_rows": list(c.changed_rows),
                     "added_rows": list(c.added_rows), "removed_rows": c.removed_rows}
                    for c in changes
                ],
            }, indent=2))  # fmt: skip
        elif changes:
            when = recorded.recorded_at
            echo(f"CHANGED: {name} differs from stage '{recorded.stage}' recorded at {when}")
            echo(f"  recorded sha256:{recorded.digest}, now sha256:{current.digest}")
            for change in changes:
                echo(f"  {change.describe()}")
        else:
            when = recorded.recorded_at
            echo(f"unchanged: {name} matches stage '{recorded.stage}' recorded at {when}")
            echo(f"  sha256:{current.digest}")
        return 1 if changes else 0
    if args.stage is None:
        raise InputError("give --stage to record a fingerprint (or --check / --list)")
    record = fingerprint(args.path, dataset=name, stage=args.stage, workers=args.workers)
    path = store.save(record)
    if state.format == "json":
        echo(json.dumps({**record.to_json(), "record": str(path)}, indent=2))
        return 0
    rows = sum(f.rows or 0 for f in record.files)
    tables = sum(1 for f in record.files if f.rows is not None)
    echo(
        f"recorded stage '{record.stage}' of {name}: sha256:{record.digest} "
        f"({len(record.files)} file(s), {rows} rows in {tables} table(s))"
    )
    return 0


def _latest(store: Any, name: str) -> Any:
    stages = store.stages(name)
    return stages[-1] if stages else None


def _list(state: AppState, records: list[Any], name: str) -> int:
    if state.format == "json":
        echo(json.dumps([r.to_json() for r in records], indent=2))
        return 0
    if not records:
        echo(f"no stage of {name!r} is recorded")
        return 0
    for r in records:
        rows = sum(f.rows or 0 for f in r.files)
        echo(f"{r.stage:9} sha256:{r.digest}  {len(r.files)} file(s), {rows} rows  {r.recorded_at}")
    return 0
