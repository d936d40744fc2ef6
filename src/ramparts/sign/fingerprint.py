"""Stage fingerprints of datasets: what a dataset was at each pipeline stage, to the row.

A fingerprint of a file or folder records, per file, its SHA-256 and size and, for
tables (CSV, TSV, JSON Lines, Parquet), its row count and the RFC 6962 Merkle root over
its rows; the dataset digest is SHA-256 over the files' digests in name order (the same
subject digest as a model signature of the folder). Alongside, 8-byte digests of every
row are kept so that a later check can say which rows changed, not only that something
did. The Merkle root (full SHA-256) is the integrity claim; the short row digests only
locate differences.

Rows are canonical: a CSV record is its list of fields (quoting and line endings do not
matter, a changed value does), a JSON Lines record is its line, a Parquet row is its
values. Stages are ``raw``, ``cleaned``, ``features`` and ``train``.
"""

from __future__ import annotations

import array
import csv
import hashlib
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

from ramparts.core.files import write_atomic
from ramparts.core.merkle import MerkleAccumulator, leaf_hash
from ramparts.core.records import field, record
from ramparts.sign.interface import Serialization, SignError, paired
from ramparts.sign.manifest import hash_model, model_files

__all__ = [
    "STAGES",
    "FileChange",
    "FileFingerprint",
    "Fingerprint",
    "FingerprintStore",
    "compare",
    "fingerprint",
]

STAGES = ("raw", "cleaned", "features", "train")
ROW_DIGEST_BYTES = 8
_DELIMITERS = {".csv": ",", ".tsv": "\t"}
_LINES = (".jsonl", ".ndjson")
_FIELD_LIMIT = 64 << 20
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_REPORTED_ROWS = 50
_DIFF_LIMIT = 200_000


@record
class FileFingerprint:
    """One file of the dataset: digest and size; row count and Merkle root for tables."""

    name: str
    sha256: str
    size: int
    rows: int | None = None
    row_root: str | None = None


@record
class Fingerprint:
    """A dataset at one stage: its digest, its files, and (not persisted in JSON) row digests."""

    dataset: str
    stage: str
    digest: str
    files: tuple[FileFingerprint, ...]
    recorded_at: str = ""
    row_digests: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)
    row_lines: dict[str, array.array[int]] = field(default_factory=dict, compare=False, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The record, without row digests (those go to a binary side file)."""
        return {
            "dataset": self.dataset,
            "stage": self.stage,
            "digest": {"sha256": self.digest},
            "recorded_at": self.recorded_at,
            "files": [{k: v for k, v in vars_of(f).items() if v is not None} for f in self.files],
        }


def vars_of(f: FileFingerprint) -> dict[str, Any]:
    """A file fingerprint as a plain mapping."""
    return {
        "name": f.name,
        "sha256": f.sha256,
        "size": f.size,
        "rows": f.rows,
        "row_root": f.row_root,
    }


def _suffix(name: str) -> str:
    return Path(name).suffix.lower()


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[bytes, int]]:
    csv.field_size_limit(_FIELD_LIMIT)
    with path.open("rb") as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="surrogateescape", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        start = 1
        for fields in reader:
            yield json.dumps(fields).encode("ascii"), start
            start = reader.line_num + 1


def _line_rows(path: Path) -> Iterator[tuple[bytes, int]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, 1):
            yield line.rstrip(b"\r\n"), number


def _parquet_rows(path: Path) -> Iterator[tuple[bytes, int]]:
    try:
        import pyarrow.parquet as pq  # noqa: PLC0415 - optional extra
    except ImportError as exc:
        raise SignError(
            f"{path.name}: row fingerprints of Parquet need the 'tables' extra "
            "(pip install 'ramparts[tables]')"
        ) from exc
    number = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=8192):
        for row in batch.to_pylist():
            number += 1
            yield json.dumps(row, sort_keys=True, default=str).encode("ascii"), number


def _rows(path: Path, name: str) -> Iterator[tuple[bytes, int]] | None:
    suffix = _suffix(name)
    if suffix in _DELIMITERS:
        return _csv_rows(path, _DELIMITERS[suffix])
    if suffix in _LINES:
        return _line_rows(path)
    if suffix == ".parquet":
        return _parquet_rows(path)
    return None


def _table(path: Path, name: str) -> tuple[int, str, bytes, array.array[int]] | None:
    rows = _rows(path, name)
    if rows is None:
        return None
    acc = MerkleAccumulator()
    short = bytearray()
    lines: array.array[int] = array.array("Q")
    try:
        for data, line in rows:
            leaf = leaf_hash(data)
            acc.append(leaf)
            short += leaf[:ROW_DIGEST_BYTES]
            lines.append(line)
    except (csv.Error, UnicodeError, ValueError, OSError) as exc:
        raise SignError(f"{name}: cannot read its rows: {exc}") from exc
    return acc.size, acc.root().hex(), bytes(short), lines


def fingerprint(path: Path, *, dataset: str, stage: str, workers: int | None = None) -> Fingerprint:
    """Fingerprint the file or folder at ``path`` as ``dataset`` at ``stage``."""
    if stage not in STAGES:
        raise SignError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})")
    serialization = Serialization(ignore_paths=(".git",))
    manifest = hash_model(path, serialization, workers=workers)
    sizes = {name: size for name, _, size in model_files(path, serialization)}
    paths = {name: p for name, p, _ in model_files(path, serialization)}
    files: list[FileFingerprint] = []
    row_digests: dict[str, bytes] = {}
    row_lines: dict[str, array.array[int]] = {}
    for resource in manifest.resources:
        source = paths[resource.name]
        name = path.name if resource.name == "." else resource.name
        table = _table(source, name)
        if table is None:
            files.append(FileFingerprint(name, resource.digest, sizes[resource.name]))
            continue
        count, root, short, lines = table
        files.append(FileFingerprint(name, resource.digest, sizes[resource.name], count, root))
        row_digests[name] = short
        row_lines[name] = lines
    return Fingerprint(
        dataset=dataset,
        stage=stage,
        digest=manifest.root_digest,
        files=tuple(files),
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        row_digests=row_digests,
        row_lines=row_lines,
    )


@record
class FileChange:
    """How one file differs from its recorded fingerprint."""

    name: str
    kind: str
    """``changed``, ``missing`` or ``added``."""
    changed_rows: tuple[int, ...] = ()
    """Line numbers (in the current file) of rows whose content changed in place."""
    added_rows: tuple[int, ...] = ()
    """Line numbers (in the current file) of rows that are not in the record."""
    removed_rows: int = 0
    """How many recorded rows are gone."""
    rows_known: bool = True

    def describe(self) -> str:
        """One line for people."""
        if self.kind == "missing":
            return f"{self.name}: recorded but missing"
        if self.kind == "added":
            return f"{self.name}: not in the record"
        if not self.rows_known:
            return f"{self.name}: content changed"
        parts = []
        if self.changed_rows:
            parts.append(f"rows changed at line {_lines(self.changed_rows)}")
        if self.added_rows:
            parts.append(f"rows added at line {_lines(self.added_rows)}")
        if self.removed_rows:
            parts.append(f"{self.removed_rows} recorded row(s) removed")
        return f"{self.name}: " + ("; ".join(parts) or "content changed (row order or layout)")


def _lines(numbers: tuple[int, ...]) -> str:
    shown = ", ".join(str(n) for n in numbers[:MAX_REPORTED_ROWS])
    more = len(numbers) - MAX_REPORTED_ROWS
    return shown + (f" and {more} more" if more > 0 else "")


def _split(blob: bytes) -> list[bytes]:
    n = ROW_DIGEST_BYTES
    return [blob[i : i + n] for i in range(0, len(blob), n)]


def _row_change(name: str, old: bytes, new: bytes, lines: array.array[int]) -> FileChange:
    """Which rows changed in place, were added or were removed.

    Up to ``_DIFF_LIMIT`` rows a sequence alignment pairs old and new rows (an edited
    row is "changed", an inserted one "added"); beyond it, rows are compared as
    multisets, which still names every new row but cannot tell an edit from a move.
    """
    before, after = _split(old), _split(new)
    changed: list[int] = []
    added: list[int] = []
    removed = 0
    if max(len(before), len(after)) <= _DIFF_LIMIT:
        matcher = SequenceMatcher(None, before, after, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "replace":
                paired = min(i2 - i1, j2 - j1)
                changed += lines[j1 : j1 + paired]
                added += lines[j1 + paired : j2]
                removed += i2 - i1 - paired
            elif tag == "insert":
                added += lines[j1:j2]
            elif tag == "delete":
                removed += i2 - i1
    else:
        remaining = Counter(before)
        for i, digest in enumerate(after):
            if remaining[digest] > 0:
                remaining[digest] -= 1
            else:
                added.append(lines[i])
        removed = sum(remaining.values())
    return FileChange(name, "changed", tuple(changed), tuple(added), removed)


def compare(recorded: Fingerprint, current: Fingerprint) -> tuple[FileChange, ...]:
    """Every file of ``current`` that differs from ``recorded``, with the rows that did."""
    old = {f.name: f for f in recorded.files}
    new = {f.name: f for f in current.files}
    out: list[FileChange] = []
    for name, a, b in paired(old, new):
        if b is None:
            out.append(FileChange(name, "missing"))
        elif a is None:
            out.append(FileChange(name, "added"))
        elif a.sha256 != b.sha256:
            if name in recorded.row_digests and name in current.row_digests:
                out.append(
                    _row_change(
                        name,
                        recorded.row_digests[name],
                        current.row_digests[name],
                        current.row_lines[name],
                    )
                )
            else:
                out.append(FileChange(name, "changed", rows_known=False))
    return tuple(out)


class FingerprintStore:
    """Stage records on disk: ``ROOT/<dataset>/<stage>.json`` and ``<stage>.rows``."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _folder(self, dataset: str) -> Path:
        slug = _SAFE.sub("_", dataset).strip("_")[:60] or "dataset"
        return self._root / f"{slug}-{hashlib.sha256(dataset.encode()).hexdigest()[:12]}"

    def save(self, record: Fingerprint) -> Path:
        """Write ``record`` (replacing the stage's previous one); return the JSON path."""
        folder = self._folder(record.dataset)
        doc = record.to_json()
        offsets: dict[str, list[int]] = {}
        blob = bytearray()
        for name, digests in sorted(record.row_digests.items()):
            offsets[name] = [len(blob), len(digests)]
            blob += digests
        doc["row_digests"] = {
            "file": f"{record.stage}.rows",
            "bytes_per_row": ROW_DIGEST_BYTES,
            "offsets": offsets,
        }
        path = folder / f"{record.stage}.json"
        try:
            write_atomic(folder / f"{record.stage}.rows", bytes(blob))
            write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode("utf-8"))
        except OSError as exc:
            raise SignError(f"cannot write the fingerprint record: {exc.strerror or exc}") from exc
        return path

    def load(self, dataset: str, stage: str) -> Fingerprint | None:
        """The recorded fingerprint of ``dataset`` at ``stage``, or None if there is none."""
        folder = self._folder(dataset)
        path = folder / f"{stage}.json"
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text())
            blob = (folder / f"{stage}.rows").read_bytes()
            files = tuple(
                FileFingerprint(f["name"], f["sha256"], f["size"], f.get("rows"), f.get("row_root"))
                for f in doc["files"]
            )
            offsets = doc["row_digests"]["offsets"]
            digests = {
                name: blob[start : start + length] for name, (start, length) in offsets.items()
            }
            return Fingerprint(
                doc["dataset"],
                doc["stage"],
                doc["digest"]["sha256"],
                files,
                doc["recorded_at"],
                digests,
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise SignError(f"the fingerprint record {path} is unreadable: {exc}") from exc

    def stages(self, dataset: str) -> list[Fingerprint]:
        """Every recorded stage of ``dataset``, in pipeline order."""
        return [r for s in STAGES if (r := self.load(dataset, s)) is not None]
