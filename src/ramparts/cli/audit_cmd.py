"""``ramparts audit``: append to, read, prove, export, erase and verify the audit log."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ramparts.cli.output import echo
from ramparts.cli.parsing import Parser
from ramparts.cli.state import AppState
from ramparts.errors import InputError

if TYPE_CHECKING:
    import sqlalchemy as sa

    from ramparts.audit.interface import Verified
    from ramparts.audit.log import AuditLog
    from ramparts.audit.note import NoteSigner
    from ramparts.audit.worm import WormTarget
    from ramparts.core.settings import Settings

__all__ = ["add_parser", "open_log", "verify_log", "worm_target"]

DESCRIPTION = """\
The tamper-evident audit log: each event is a leaf of an RFC 6962 Merkle tree in the
state database, checkpoints are signed (C2SP signed notes, Ed25519), rows cannot be
updated or deleted, and 'verify' names the first entry where the proof breaks.

  echo '{"actor":"ci","action":"model.promote","resource":"model:fraud@7",
         "outcome":"success"}' | ramparts audit append
  ramparts audit append --actor ci --action model.promote --resource model:fraud@7
  ramparts audit verify                   # exit 1 naming the first bad entry
  ramparts audit tail -n 5
  ramparts audit proof 41                 # inclusion proof against the latest root
  ramparts audit export audit-2026-12/
  ramparts audit verify --export audit-2026-12/ --public-key log.vkey
  ramparts audit erase --subject cust-42  # crypto-shredding; the log still verifies
"""

OUTCOMES = ("success", "failure", "denied")


def add_parser(commands: Any) -> None:
    """Add ``audit`` and its subcommands."""
    audit: Parser = commands.add_parser(
        "audit", help="the tamper-evident audit log", description=DESCRIPTION
    )
    audit.set_defaults(handler=audit.help_handler())
    sub = audit.add_command_parsers()

    append = sub.add_parser("append", help="record one event (flags, or JSON on stdin)")
    append.add_argument("--actor", help="who acted")
    append.add_argument("--action", help="what was done, e.g. model.promote")
    append.add_argument("--resource", help="what it was done to, e.g. model:fraud@7")
    append.add_argument("--outcome", choices=OUTCOMES, default="success")
    append.add_argument("--reason", default="", help="why (for a denial or failure)")
    append.add_argument("--request-id", default="", help="correlation id")
    append.add_argument(
        "--detail", action="append", default=[], metavar="KEY=VALUE", help="extra detail"
    )
    append.set_defaults(handler=run_append)

    verify = sub.add_parser("verify", help="check every entry and checkpoint")
    verify.add_argument("--export", type=Path, metavar="DIR", help="verify an export folder")
    verify.add_argument("--public-key", type=Path, metavar="FILE", help="verifier key (vkey)")
    verify.add_argument("--worm-dir", type=Path, metavar="DIR", help="write-once checkpoint copies")
    verify.set_defaults(handler=run_verify)

    tail = sub.add_parser("tail", help="the latest entries (JSON lines, OCSF, or to syslog)")
    tail.add_argument("-n", type=int, default=10, metavar="N", help="how many (default 10)")
    tail.add_argument("--ocsf", action="store_true", help="as OCSF 1.3 records")
    tail.add_argument(
        "--syslog",
        metavar="URL",
        help="send as RFC 5424 messages to udp://HOST:PORT or tcp://HOST:PORT",
    )
    tail.set_defaults(handler=run_tail)

    show = sub.add_parser("show", help="one entry, sealed fields opened if not erased")
    show.add_argument("index", type=int)
    show.set_defaults(handler=run_show)

    proof = sub.add_parser("proof", help="inclusion proof of an entry")
    proof.add_argument("index", type=int)
    proof.add_argument("--size", type=int, help="tree size (default: the whole log)")
    proof.set_defaults(handler=run_proof)

    export = sub.add_parser("export", help="write entries, checkpoints and key to a folder")
    export.add_argument("folder", type=Path, metavar="DIR")
    export.add_argument("--ocsf", action="store_true", help="also write ocsf.jsonl (OCSF 1.3)")
    export.set_defaults(handler=run_export)

    erase = sub.add_parser("erase", help="destroy a data subject's key (crypto-shredding)")
    erase.add_argument("--subject", required=True, metavar="ID")
    erase.set_defaults(handler=run_erase)

    checkpoint = sub.add_parser("checkpoint", help="sign a checkpoint of the log now")
    checkpoint.set_defaults(handler=run_checkpoint)

    key = sub.add_parser("key", help="print the checkpoint verifier key")
    key.set_defaults(handler=run_key)


def _signer(state: AppState) -> NoteSigner:
    from ramparts.audit.note import NoteSigner  # noqa: PLC0415

    settings = state.settings()
    path = settings.audit.signing_key or settings.state_dir / "keys" / "audit-checkpoint.pem"
    return NoteSigner(settings.audit.origin, path)


def open_log(state: AppState, engine: sa.Engine | None = None) -> AuditLog:
    """The audit log in the state database (``engine``, or a new migrated one), with its
    checkpoint signer."""
    from ramparts.audit.log import AuditLog  # noqa: PLC0415
    from ramparts.core.clock import SystemClock  # noqa: PLC0415
    from ramparts.store import create_engine, upgrade  # noqa: PLC0415

    settings = state.settings()
    if engine is None:
        engine = create_engine(settings.sqlalchemy_url())
        upgrade(engine)
    return AuditLog(
        engine,
        _signer(state),
        clock=SystemClock(),
        checkpoint_every=settings.audit.checkpoint_every,
        worm=worm_target(settings),
    )


def worm_target(settings: Settings, folder: Path | None = None) -> WormTarget | None:
    """The write-once copy of checkpoints the settings name (``folder`` overrides)."""
    from ramparts.audit.worm import DirectoryWorm, S3ObjectLockWorm  # noqa: PLC0415
    from ramparts.core.clock import SystemClock  # noqa: PLC0415

    config = settings.audit
    folder = folder or config.worm_dir
    if folder is not None:
        return DirectoryWorm(folder)
    if config.worm_s3_bucket is not None:
        return S3ObjectLockWorm(
            config.worm_s3_bucket,
            prefix=config.worm_s3_prefix,
            retention_days=config.retention_days,
            clock=SystemClock(),
            endpoint_url=config.worm_s3_endpoint_url,
            region=config.worm_s3_region,
        )
    return None


def _event_from(args: argparse.Namespace) -> Any:
    from ramparts.core.interface import Event, Outcome  # noqa: PLC0415

    if args.actor is None and args.action is None and args.resource is None:
        if sys.stdin.isatty():
            raise InputError("give --actor, --action and --resource, or one JSON event on stdin")
        try:
            data = json.loads(sys.stdin.read())
        except json.JSONDecodeError as exc:
            raise InputError(
                f"stdin is not one JSON event: {exc.msg} at line {exc.lineno}"
            ) from exc
        if not isinstance(data, dict):
            raise InputError("stdin must hold one JSON object")
    else:
        data = {
            "actor": args.actor,
            "action": args.action,
            "resource": args.resource,
            "outcome": args.outcome,
            "reason": args.reason,
            "request_id": args.request_id,
            "details": dict(_pair(d) for d in args.detail),
        }
    try:
        return Event(
            actor=str(data["actor"]),
            action=str(data["action"]),
            resource=str(data["resource"]),
            outcome=Outcome(data.get("outcome", "success")),
            time=datetime.now(UTC),
            reason=str(data.get("reason", "")),
            request_id=str(data.get("request_id", "")),
            details=data.get("details") or {},
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise InputError(
            f"not an audit event: {exc} (actor, action, resource are required)"
        ) from exc


def _pair(item: str) -> tuple[str, str]:
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise InputError(f"--detail {item!r}: expected KEY=VALUE")
    return key, value


def run_append(state: AppState, args: argparse.Namespace) -> int:
    """Record one event durably; print its index and the new tree head."""
    receipt = open_log(state).append(_event_from(args))
    if state.format == "json":
        echo(json.dumps({"index": receipt.index, "root": receipt.root.hex()}))
    else:
        echo(f"recorded entry {receipt.index} (tree head {receipt.root.hex()})")
    return 0


def run_verify(state: AppState, args: argparse.Namespace) -> int:
    """Verify the log (or an export); exit 1 naming the first bad entry."""
    from ramparts.audit.export import read_export  # noqa: PLC0415
    from ramparts.audit.interface import LogIntegrityError  # noqa: PLC0415
    from ramparts.audit.note import NoteVerifier  # noqa: PLC0415
    from ramparts.audit.verify import verify_entries  # noqa: PLC0415

    try:
        if args.export is not None:
            if args.public_key is None:
                raise InputError("--export needs --public-key (the log's verifier key)")
            vkey = _read(args.public_key)
            entries, notes = read_export(args.export)
            worm = worm_target(state.settings(), args.worm_dir)
            external = list(worm.notes()) if worm is not None else []
            result = verify_entries(entries, notes, NoteVerifier(vkey), external=external)
        else:
            key = _read(args.public_key) if args.public_key else None
            result = verify_log(state, open_log(state), worm_dir=args.worm_dir, vkey=key)
    except LogIntegrityError as error:
        if state.format == "json":
            echo(
                json.dumps(
                    {"verified": False, "first_bad_index": error.index, "reason": error.reason}
                )
            )
        else:
            echo(f"FAILED: {error}")
        return 1
    if state.format == "json":
        echo(json.dumps({"verified": True, "size": result.size, "root": result.root.hex(),
                         "checkpoints": result.checkpoints,
                         "write_once_checkpoints": result.external_checkpoints}))  # fmt: skip
    else:
        echo(
            f"verified: {result.size} entries, tree head {result.root.hex()}, "
            f"{result.checkpoints} signed checkpoint(s), "
            f"{result.external_checkpoints} write-once copy(ies)"
        )
    return 0


def verify_log(
    state: AppState, log: AuditLog, *, worm_dir: Path | None = None, vkey: str | None = None
) -> Verified:
    """Verify the log in the state database against its checkpoints and the write-once
    copies; raises :class:`~ramparts.audit.interface.LogIntegrityError` at the first bad
    entry and :class:`~ramparts.errors.AuditError` when the copies cannot be read."""
    from ramparts.audit.note import NoteVerifier  # noqa: PLC0415
    from ramparts.audit.verify import verify_entries  # noqa: PLC0415

    worm = worm_target(state.settings(), worm_dir)
    external = list(worm.notes()) if worm is not None else []
    notes = [cp.note for cp in log.checkpoints()]
    verifier = NoteVerifier(vkey or _signer(state).vkey)
    return verify_entries(log.rows(), notes, verifier, external=external)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def run_tail(state: AppState, args: argparse.Namespace) -> int:
    """Print (or send to syslog) the latest entries."""
    from ramparts.audit.ocsf import syslog_line, to_ocsf  # noqa: PLC0415

    log = open_log(state)
    start = max(0, log.size() - max(args.n, 0))
    items = [(e.index, json.loads(e.event)) for e in log.entries(start)]
    if args.syslog:
        sent = _send_syslog(args.syslog, [syslog_line(i, ev) for i, ev in items])
        echo(f"sent {sent} audit entr{'y' if sent == 1 else 'ies'} to {args.syslog}")
        return 0
    for index, ev in items:
        record = to_ocsf(index, ev) if args.ocsf else {"index": index, "event": ev}
        echo(json.dumps(record, ensure_ascii=False))
    return 0


def _send_syslog(url: str, lines: list[bytes]) -> int:
    """UDP: one datagram per message; TCP: octet-counted framing (RFC 6587)."""
    import socket  # noqa: PLC0415
    from urllib.parse import urlsplit  # noqa: PLC0415

    parts = urlsplit(url)
    if parts.scheme not in ("udp", "tcp") or not parts.hostname:
        raise InputError(f"--syslog {url!r}: expected udp://HOST:PORT or tcp://HOST:PORT")
    address = (parts.hostname, parts.port or 514)
    try:
        if parts.scheme == "udp":
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                for line in lines:
                    sock.sendto(line, address)
        else:
            with socket.create_connection(address, timeout=10) as sock:
                for line in lines:
                    sock.sendall(str(len(line)).encode() + b" " + line)
    except OSError as exc:
        raise InputError(f"cannot send to {url}: {exc.strerror or exc}") from exc
    return len(lines)


def run_show(state: AppState, args: argparse.Namespace) -> int:
    """Print one entry with its sealed fields opened (or marked erased)."""
    log = open_log(state)
    entry = log.get(args.index)
    shown = {
        "index": entry.index,
        "recorded_at": entry.recorded_at.isoformat(),
        "leaf_hash": entry.leaf_hash.hex(),
        "tree_head": entry.root.hex(),
        "event": log.reveal(entry),
    }
    echo(json.dumps(shown, indent=2, ensure_ascii=False))
    return 0


def run_proof(state: AppState, args: argparse.Namespace) -> int:
    """Print an inclusion proof (RFC 9162 audit path) as JSON."""
    log = open_log(state)
    size = args.size if args.size is not None else log.size()
    leaf, path, root = log.inclusion(args.index, size)
    echo(json.dumps({"index": args.index, "tree_size": size, "leaf_hash": leaf.hex(),
                     "root": root.hex(), "path": [h.hex() for h in path]}, indent=2))  # fmt: skip
    return 0


def run_export(state: AppState, args: argparse.Namespace) -> int:
    """Write entries, checkpoints and the verifier key to a folder."""
    from ramparts.audit.export import export_log  # noqa: PLC0415

    log = open_log(state)
    count = export_log(log, args.folder, _signer(state).vkey)
    if args.ocsf:
        from ramparts.audit.ocsf import to_ocsf  # noqa: PLC0415

        with (args.folder / "ocsf.jsonl").open("w", encoding="utf-8") as out:
            for entry in log.entries():
                record = to_ocsf(entry.index, json.loads(entry.event))
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
    echo(f"exported {count} entries and {len(log.checkpoints())} checkpoint(s) to {args.folder}")
    return 0


def run_erase(state: AppState, args: argparse.Namespace) -> int:
    """Destroy the subject's data key; the log still verifies."""
    count = open_log(state).erase(args.subject)
    noun = "entry" if count == 1 else "entries"
    echo(f"erased: the sealed fields of {count} {noun} of {args.subject} can no longer be read")
    return 0


def run_checkpoint(state: AppState, args: argparse.Namespace) -> int:
    """Sign a checkpoint of the current tree head."""
    signed = open_log(state).checkpoint()
    if signed is None:
        echo("nothing new to checkpoint")
    else:
        sys.stdout.write(signed.note)
    return 0


def run_key(state: AppState, args: argparse.Namespace) -> int:
    """Print the verifier key (give it to whoever verifies exports)."""
    echo(_signer(state).vkey)
    return 0
