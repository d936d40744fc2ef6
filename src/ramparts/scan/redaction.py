"""Sanitised copies of datasets and text files: ``ramparts redact IN OUT``.

Every text file under IN is read the way the PII scanner reads it (tables by column,
JSON Lines by key, notebooks by cell) and, unless turned off, searched for secrets
too; each value found is replaced by its operator's result and the copy is written
under OUT. IN is never written: OUT may not be IN, nor inside it, nor contain it.
Each copy is written to a temporary file and renamed, so an interrupted run leaves
no half-written file. Binary files are not copied (they could hold anything) and are
listed as skipped.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from ramparts.core.records import field, record
from ramparts.core.settings import ScanSettings
from ramparts.core.types import Skip
from ramparts.errors import InputError
from ramparts.privacy.interface import Detection
from ramparts.privacy.redact import Redactor
from ramparts.privacy.secrets import SecretDetector
from ramparts.scan.pii import PiiScanner
from ramparts.scan.secrets import MAX_TEXT_BYTES
from ramparts.scan.walk import FileEntry, walk

__all__ = ["CsvRedactor", "RedactionSummary", "redact_tree", "reverse_tree"]

_DELIMITERS = {".csv": ",", ".tsv": "\t"}


class CsvRedactor(Protocol):
    """An engine that rewrites whole CSV/TSV files elsewhere (Spark)."""

    def redact_csv(
        self, path: Path, target: Path, delimiter: str, redactor: Redactor, *, secrets: bool
    ) -> None:
        """Write ``path`` with its values replaced to ``target``."""
        ...


@record(frozen=False, slots=False)
class RedactionSummary:
    """What a run wrote: files, values replaced per kind, and files left out."""

    files: int = 0
    values: dict[str, int] = field(default_factory=dict)
    skips: list[Skip] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Values replaced (or restored) in all."""
        return sum(self.values.values())


def _check_paths(src: Path, dst: Path) -> None:
    a, b = src.resolve(), dst.resolve()
    if a == b or a in b.parents or b in a.parents:
        raise InputError(f"output {dst} must be outside the input {src} (it is never changed)")


def _targets(src: Path, dst: Path, settings: ScanSettings) -> list[tuple[FileEntry, Path]]:
    _check_paths(src, dst)
    single = src.is_file()
    if single and dst.is_dir():
        dst = dst / src.name
    out: list[tuple[FileEntry, Path]] = []
    for entry in walk(src, settings):
        if isinstance(entry, FileEntry):
            out.append((entry, dst if single else dst / entry.rel))
    return out


def _read_text(entry: FileEntry, summary: RedactionSummary) -> str | None:
    if entry.size > MAX_TEXT_BYTES:
        summary.skips.append(Skip(entry.rel, f"larger than {MAX_TEXT_BYTES >> 20} MiB"))
        return None
    try:
        data = entry.path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read {entry.rel}: {exc.strerror or exc}") from exc
    if b"\x00" in data[:4096]:
        summary.skips.append(Skip(entry.rel, "binary file: not copied"))
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        summary.skips.append(Skip(entry.rel, "not UTF-8 text: not copied"))
        return None


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def redact_tree(
    src: Path,
    dst: Path,
    redactor: Redactor,
    *,
    settings: ScanSettings | None = None,
    secrets: bool = True,
    tables: CsvRedactor | None = None,
) -> RedactionSummary:
    """Write a sanitised copy of ``src`` (a file or a folder) to ``dst``; with
    ``tables`` (the Spark engine), CSV and TSV files are rewritten there."""
    summary = RedactionSummary()
    pii = PiiScanner()
    secret_detector = SecretDetector() if secrets else None
    for entry, target in _targets(src, dst, settings or ScanSettings()):
        delimiter = _DELIMITERS.get(entry.path.suffix.lower())
        if tables is not None and delimiter is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            tables.redact_csv(entry.path, target, delimiter, redactor, secrets=secrets)
            summary.files += 1  # values are replaced on the executors, not counted here
            continue
        text = _read_text(entry, summary)
        if text is None:
            continue
        found: list[Detection] = [loc.det for loc in pii.locate(entry.rel, text)]
        if secret_detector is not None:
            found.extend(secret_detector.detect(text))
        for det in found:
            summary.values[det.kind] = summary.values.get(det.kind, 0) + 1
        _write(target, redactor.apply(text, found))
        summary.files += 1
    return summary


def reverse_tree(
    src: Path, dst: Path, redactor: Redactor, *, settings: ScanSettings | None = None
) -> RedactionSummary:
    """Write ``src`` with its tokens and ciphertexts restored to ``dst``."""
    summary = RedactionSummary()
    for entry, target in _targets(src, dst, settings or ScanSettings()):
        text = _read_text(entry, summary)
        if text is None:
            continue
        restored, count = redactor.reverse(text)
        if count:
            summary.values["restored"] = summary.values.get("restored", 0) + count
        _write(target, restored)
        summary.files += 1
    return summary
