"""``ramparts redact``: write a sanitised copy of a dataset or text file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser, add_engine_options, existing_path
from ramparts.cli.state import AppState
from ramparts.errors import InputError

__all__ = ["add_parser"]

OPERATORS = ("redact", "mask", "hash", "tokenize", "encrypt")

DESCRIPTION = """\
Write a sanitised copy of IN (a file or a folder) to OUT; IN is never changed.

Personal data (typed as by 'ramparts scan pii') and secrets are replaced:
  redact     [REDACTED:email]
  mask       ***@northwind.io, **** **** **** 7117
  hash       hash:email:3f9a...    keyed HMAC: the same value gives the same hash
  tokenize   tok:email:...         AES-SIV: reversible with the key, joinable
  encrypt    enc:email:...         AES-GCM: reversible with the key

  ramparts redact data/ clean/ --operator email=hash --operator credit-card=mask
  ramparts redact data/ clean/ --default tokenize --key prod
  ramparts redact --reverse clean/ restored/ --key prod

Keys live in the key store (<state_dir>/keys, mode 0600) and are created on first
use; keep them out of the copies you share.
"""


def add_parser(commands: Any) -> None:
    """Add ``redact`` to the top-level parser."""
    parser: Parser = commands.add_parser(
        "redact", help="write a sanitised copy of a dataset or text file", description=DESCRIPTION
    )
    parser.add_argument("source", metavar="IN", type=existing_path, help="file or folder to read")
    parser.add_argument("target", metavar="OUT", type=Path, help="where the copy is written")
    parser.add_argument(
        "--operator",
        action="append",
        default=[],
        metavar="KIND=OP",
        help="operator for one kind (email, credit-card, ...) or category (pii, secret)",
    )
    parser.add_argument(
        "--default",
        choices=OPERATORS,
        default="redact",
        help="operator for every other value (default: redact)",
    )
    parser.add_argument("--key", metavar="NAME", help="key for hash, tokenize and encrypt")
    parser.add_argument(
        "--reverse", action="store_true", help="restore tokens and ciphertexts (needs --key)"
    )
    parser.add_argument("--no-secrets", action="store_true", help="leave secrets as they are")
    add_engine_options(parser, "CSV and TSV files are rewritten")
    parser.set_defaults(handler=run)


def _operators(items: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        kind, sep, op = item.partition("=")
        if not sep or not kind or op not in OPERATORS:
            raise InputError(
                f"--operator {item!r}: expected KIND=OP with OP one of {', '.join(OPERATORS)}"
            )
        out[kind.strip().lower()] = op
    return out


def run(state: AppState, args: argparse.Namespace) -> int:
    """Redact (or restore) and print what was done; exit 0 or 2."""
    from ramparts.privacy.keystore import LocalKeyStore  # noqa: PLC0415
    from ramparts.privacy.redact import Redactor  # noqa: PLC0415
    from ramparts.scan.redaction import redact_tree, reverse_tree  # noqa: PLC0415

    settings = state.settings()
    operators = _operators(args.operator)
    key = None
    if args.key:
        store = LocalKeyStore(settings.state_dir / "keys")
        key = store.get(args.key, create=not args.reverse)
    elif args.reverse:
        raise InputError("--reverse needs --key NAME (the key that made the tokens)")
    redactor = Redactor(operators=operators, default=args.default, key=key)
    if args.reverse:
        summary = reverse_tree(args.source, args.target, redactor, settings=settings.scan)
    else:
        engine = None
        if args.engine == "spark":
            from ramparts.scan.spark_engine import SparkTables  # noqa: PLC0415

            engine = SparkTables(args.spark_master)
        try:
            summary = redact_tree(
                args.source,
                args.target,
                redactor,
                settings=settings.scan,
                secrets=not args.no_secrets,
                tables=engine,
            )
        finally:
            if engine is not None:
                engine.close()
    if state.format == "json":
        echo(
            json.dumps(
                {
                    "files": summary.files,
                    "values": summary.values,
                    "skipped": [{"path": s.path, "reason": s.reason} for s in summary.skips],
                },
                indent=2,
            )
        )
    elif not state.quiet:
        verb = "restored" if args.reverse else "replaced"
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(summary.values.items()))
        sys.stderr.write(
            f"{verb} {summary.total} value(s) in {summary.files} file(s) -> {args.target}"
            + (f" ({kinds})" if kinds and not args.reverse else "")
            + "\n"
        )
        for skip in summary.skips:
            sys.stderr.write(f"skipped: {skip.path}: {skip.reason}\n")
    return 0
