"""Exporting the audit log to a folder and reading it back for offline verification.

``DIR/entries.jsonl`` holds one entry per line (index, canonical event, leaf hash,
tree head, subject, sealed fields, time); ``DIR/checkpoints/*.note`` the signed
checkpoints; ``DIR/log.vkey`` the verifier key. Verifying an export needs only the
folder and a public key obtained independently (``--public-key``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

from ramparts.audit.interface import LogIntegrityError
from ramparts.audit.log import AuditLog
from ramparts.audit.verify import Row
from ramparts.errors import InputError

__all__ = ["export_log", "read_export"]


def export_log(log: AuditLog, folder: Path, vkey: str | None) -> int:
    """Write the whole log to ``folder``; return the number of entries."""
    try:
        (folder / "checkpoints").mkdir(parents=True, exist_ok=True)
        count = 0
        with (folder / "entries.jsonl").open("w", encoding="utf-8") as out:
            for entry in log.entries():
                line = {
                    "index": entry.index,
                    "event": entry.event.decode("utf-8"),
                    "leaf_hash": entry.leaf_hash.hex(),
                    "root": entry.root.hex(),
                    "recorded_at": entry.recorded_at.isoformat(),
                    "subject": entry.subject,
                    "sealed": None
                    if entry.sealed is None
                    else base64.b64encode(entry.sealed).decode(),
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
                count += 1
        for cp in log.checkpoints():
            (folder / "checkpoints" / f"checkpoint-{cp.size:020d}.note").write_text(cp.note)
        if vkey is not None:
            (folder / "log.vkey").write_text(vkey + "\n")
    except OSError as exc:
        raise InputError(f"cannot write the export to {folder}: {exc.strerror or exc}") from exc
    return count


def read_export(folder: Path) -> tuple[Iterator[Row], list[str]]:
    """The entries (read lazily) and the checkpoint notes of an export folder."""
    entries_file = folder / "entries.jsonl"
    if not entries_file.is_file():
        raise InputError(f"{folder} is not an audit export (no entries.jsonl)")
    notes = [p.read_text(encoding="utf-8") for p in sorted((folder / "checkpoints").glob("*.note"))]
    return _entries(entries_file), notes


def _entries(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            try:
                item = json.loads(line)
                yield (
                    int(item["index"]),
                    str(item["event"]).encode("utf-8"),
                    bytes.fromhex(item["leaf_hash"]),
                    bytes.fromhex(item["root"]),
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise LogIntegrityError(
                    f"line {number} of the export is malformed ({exc})"
                ) from exc
