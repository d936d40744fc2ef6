from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import pytest

from ramparts.core.settings import ScanSettings
from ramparts.core.types import Finding, Severity, Skip
from ramparts.scan import runner
from ramparts.scan.interface import ScanContext, ScanItem, Scanner, ScanOutput
from ramparts.scan.runner import run_scan


class MagicScanner(Scanner):
    """Flags files starting with BAD; treats files starting with NEST as a container."""

    name = "magic"

    def accepts(self, item: ScanItem) -> bool:
        return item.head.startswith((b"BAD", b"NEST", b"BOOM"))

    def scan(self, item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
        with item.open() as fh:
            data = fh.read()
        if data.startswith(b"BOOM"):
            raise RuntimeError("scanner bug")
        if data.startswith(b"NEST"):
            inner = data[4:]
            yield item.child("inner", len(inner), inner[:10], lambda: io.BytesIO(inner))
            return
        yield Finding(
            rule_id="T-1",
            title="bad",
            message="bad bytes",
            severity=Severity.HIGH,
            location=item.location(offset=0),
        )


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []

    def start(self, total_files: int, total_bytes: int) -> None:
        self.calls.append(("start", total_files, total_bytes))

    def advance(self, rel: str, nbytes: int) -> None:
        self.calls.append((rel, nbytes, 0))


def test_findings_nesting_errors_and_progress(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"BAD!")
    (tmp_path / "b.bin").write_bytes(b"NESTNESTBAD")
    (tmp_path / "c.bin").write_bytes(b"BOOM")
    (tmp_path / "d.txt").write_bytes(b"fine")
    progress = Progress()
    report = run_scan(tmp_path, [MagicScanner()], target="proj", progress=progress)
    where = [(f.location.path, f.location.member) for f in report.findings]
    assert where == [("a.bin", ()), ("b.bin", ("inner", "inner"))]
    assert all(f.scanner == "magic" for f in report.findings)
    assert [e.path for e in report.errors] == ["c.bin"]
    assert "RuntimeError: scanner bug" in report.errors[0].message
    assert report.stats.files_seen == 4
    assert report.stats.files_scanned == 3  # d.txt was accepted by no scanner
    assert progress.calls[0] == ("start", 4, 4 + 11 + 4 + 4)
    assert len(progress.calls) == 5
    assert report.target == "proj"


def test_nesting_beyond_the_limit_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / "deep.bin").write_bytes(b"NEST" * 6 + b"BAD")
    settings = ScanSettings(max_archive_depth=2)
    report = run_scan(tmp_path, [MagicScanner()], ctx=ScanContext(settings=settings))
    assert [f.rule_id for f in report.findings] == ["RMP-ARCHIVE-001"]
    assert report.findings[0].location.member == ("inner", "inner", "inner")


def test_skips_are_reported(tmp_path: Path) -> None:
    (tmp_path / "big.bin").write_bytes(b"BAD" * 10)
    report = run_scan(
        tmp_path, [MagicScanner()], ctx=ScanContext(settings=ScanSettings(max_file_bytes=5))
    )
    assert report.findings == ()
    assert report.skips == (Skip("big.bin", report.skips[0].reason),)
    assert report.stats.files_scanned == 0


def test_worker_processes_give_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(6):
        (tmp_path / f"a{i}.bin").write_bytes(b"BAD!" if i % 2 else b"fine")
    (tmp_path / "b.bin").write_bytes(b"NESTNESTBAD")
    (tmp_path / "c.bin").write_bytes(b"BOOM")
    one = run_scan(tmp_path, [MagicScanner()], ctx=ScanContext(ScanSettings(workers=1)))
    # Tiny files: lower the thresholds so that the process pool is really used.
    monkeypatch.setattr(runner, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(runner, "_CHUNK_FILES", 2)
    progress = Progress()
    two = run_scan(
        tmp_path, [MagicScanner()], ctx=ScanContext(ScanSettings(workers=2)), progress=progress
    )
    assert two.findings == one.findings
    assert two.errors == one.errors
    assert two.stats.files_scanned == one.stats.files_scanned == 5
    assert [c[0] for c in progress.calls[1:]] == sorted(p.name for p in tmp_path.iterdir())
