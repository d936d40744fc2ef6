"""Runs scanners over a tree and assembles the :class:`Report`.

Each file is opened once for its head; every scanner that accepts it reads it through
its own stream. Nested items (archive members) that a scanner yields are dispatched
depth-first while their container is still open, up to ``max_archive_depth``.
A scanner that raises does not stop the run: the failure becomes an error record
(except :class:`ScanAbortError`: a service every file needs has failed). Findings that
two files produce identically (a ``-r`` file read by two requirements files) count once.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from ramparts._version import __version__
from ramparts.core.clock import SystemClock
from ramparts.core.records import field, record, replace
from ramparts.core.types import (
    Confidence,
    ErrorRecord,
    Finding,
    Report,
    Severity,
    Skip,
    Stats,
)
from ramparts.scan.interface import HEAD_SIZE, ScanAbortError, ScanContext, ScanItem, Scanner
from ramparts.scan.walk import FileEntry, walk

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import IO, Protocol

    from ramparts.core.interface import Clock  # a protocol; its module costs start-up time
else:
    Protocol = object  # ProgressSink is structural for type checkers only

__all__ = ["ProgressSink", "run_scan"]


class ProgressSink(Protocol):
    """Told about progress so that a UI can draw a bar; all calls are cheap."""

    def start(self, total_files: int, total_bytes: int) -> None:
        """The walk is done: this much work lies ahead."""

    def advance(self, rel: str, nbytes: int) -> None:
        """One file is done."""


@record(frozen=False, slots=False)
class _Acc:
    """What scanning one file produced (and whether any scanner accepted it)."""

    findings: list[Finding] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    errors: list[ErrorRecord] = field(default_factory=list)
    accepted: bool = False


def _opener(path: Path) -> IO[bytes]:
    return path.open("rb")


def _too_deep(item: ScanItem, limit: int) -> Finding:
    return Finding(
        rule_id="RMP-ARCHIVE-001",
        title="archive nested too deeply",
        message=(
            f"member {item.name!r} is {item.depth} containers deep, beyond the limit of "
            f"{limit}; its content was not inspected"
        ),
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        location=item.location(),
        remediation="Unpack the archive and scan its contents, or raise scan.max_archive_depth.",
        references=("CWE-409",),
        scanner="runner",
    )


def _scan_item(item: ScanItem, scanners: Sequence[Scanner], ctx: ScanContext, acc: _Acc) -> bool:
    """Run every accepting scanner on ``item``; return whether any accepted it."""
    accepted = False
    for scanner in scanners:
        if not scanner.accepts(item):
            continue
        accepted = True
        try:
            for out in scanner.scan(item, ctx):
                if isinstance(out, Finding):
                    named = out if out.scanner else replace(out, scanner=scanner.name)
                    acc.findings.append(named)
                elif isinstance(out, Skip):
                    acc.skips.append(out)
                elif out.depth > ctx.settings.max_archive_depth:
                    acc.findings.append(_too_deep(out, ctx.settings.max_archive_depth))
                else:
                    _scan_item(out, scanners, ctx, acc)
        except ScanAbortError:
            raise
        # A scanner bug must cost one file, not the run; the error is reported, never hidden.
        except Exception as exc:  # noqa: BLE001
            where = "!".join((item.path, *item.member))
            acc.errors.append(ErrorRecord(where, f"{scanner.name}: {type(exc).__name__}: {exc}"))
    return accepted


def _scan_file(entry: FileEntry, scanners: Sequence[Scanner], ctx: ScanContext) -> _Acc:
    result = _Acc()
    try:
        with entry.path.open("rb") as fh:
            head = fh.read(HEAD_SIZE)
    except OSError as exc:
        result.errors.append(ErrorRecord(entry.rel, f"cannot read: {exc.strerror or exc}"))
        return result
    opener = functools.partial(_opener, entry.path)
    item = ScanItem(entry.rel, entry.size, head, opener, source=entry.path)
    result.accepted = _scan_item(item, scanners, ctx, result)
    return result


# Below this much work, starting worker processes costs more than it saves.
_PARALLEL_MIN_BYTES = 16 << 20
_CHUNK_BYTES = 4 << 20
_CHUNK_FILES = 256

# Set in each worker process by _init_worker: the scanners and context of the run.
_WORKER: tuple[Sequence[Scanner], ScanContext] | None = None


def _init_worker(scanners: Sequence[Scanner], ctx: ScanContext) -> None:
    global _WORKER  # noqa: PLW0603 - one run per worker process
    # The pool already uses the CPUs: a worker scans each file in its one process.
    _WORKER = (scanners, replace(ctx, settings=replace(ctx.settings, workers=1)))


def _scan_chunk(chunk: list[FileEntry]) -> list[_Acc]:
    if _WORKER is None:  # pragma: no cover - only if the pool skipped its initializer
        raise RuntimeError("worker process was not initialised")
    scanners, ctx = _WORKER
    return [_scan_file(entry, scanners, ctx) for entry in chunk]


def _chunks(entries: list[FileEntry]) -> Iterator[list[FileEntry]]:
    chunk: list[FileEntry] = []
    size = 0
    for entry in entries:
        chunk.append(entry)
        size += entry.size
        if size >= _CHUNK_BYTES or len(chunk) >= _CHUNK_FILES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


def _results(
    entries: list[FileEntry], scanners: Sequence[Scanner], ctx: ScanContext
) -> Iterator[tuple[FileEntry, _Acc]]:
    """Each entry with its result, in walk order; across processes when it pays."""
    workers = ctx.settings.workers or os.cpu_count() or 1
    total = sum(e.size for e in entries)
    if workers < 2 or total < _PARALLEL_MIN_BYTES or len(entries) < 2:
        for entry in entries:
            yield entry, _scan_file(entry, scanners, ctx)
        return
    # Imported here: process pools cost start-up time that small scans never need.
    import multiprocessing  # noqa: PLC0415
    from concurrent.futures import ProcessPoolExecutor  # noqa: PLC0415

    chunks = list(_chunks(entries))
    # fork where the platform has it (no re-import per worker); the pool starts before
    # any progress-bar thread exists.
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(
        max_workers=min(workers, len(chunks)),
        mp_context=multiprocessing.get_context(method),
        initializer=_init_worker,
        initargs=(scanners, ctx),
    ) as pool:
        for chunk, results in zip(chunks, pool.map(_scan_chunk, chunks), strict=True):
            yield from zip(chunk, results, strict=True)


def run_scan(
    root: Path,
    scanners: Sequence[Scanner],
    *,
    ctx: ScanContext | None = None,
    target: str | None = None,
    clock: Clock | None = None,
    progress: ProgressSink | None = None,
    walked: Iterable[FileEntry | Skip] | None = None,
) -> Report:
    """Scan ``root`` (a file or directory) with ``scanners`` and return the report.

    ``walked`` is ``walk(root, ctx.settings)`` already taken, for a caller that needs
    the file list as well and should not walk the tree twice.

    Raises :class:`ramparts.errors.InputError` if ``root`` cannot be read at all and
    :class:`ramparts.errors.ConfigError` if a scanner's settings are invalid; every
    per-file problem is recorded in the report instead.
    """
    ctx = ctx or ScanContext()
    for scanner in scanners:
        scanner.prepare(ctx)
    started_at = (clock or SystemClock()).now()
    t0 = time.perf_counter()
    acc = _Acc()
    entries: list[FileEntry] = []
    for entry in walk(root, ctx.settings) if walked is None else walked:
        if isinstance(entry, Skip):
            acc.skips.append(entry)
        else:
            entries.append(entry)
    if progress is not None:
        progress.start(len(entries), sum(e.size for e in entries))
    scanned, scanned_bytes = 0, 0
    for entry, part in _results(entries, scanners, ctx):
        acc.findings.extend(part.findings)
        acc.skips.extend(part.skips)
        acc.errors.extend(part.errors)
        if part.accepted:
            scanned += 1
            scanned_bytes += entry.size
        if progress is not None:
            progress.advance(entry.rel, entry.size)
    return Report(
        tool_version=__version__,
        target=target if target is not None else str(root),
        started_at=started_at,
        findings=tuple(dict.fromkeys(acc.findings)),
        skips=tuple(dict.fromkeys(acc.skips)),
        errors=tuple(acc.errors),
        stats=Stats(
            files_seen=len(entries),
            files_scanned=scanned,
            bytes_scanned=scanned_bytes,
            seconds=time.perf_counter() - t0,
        ),
    )
