"""lz4 (joblib's fast compression) and zstd streams: opened when their library is
installed, refused with a finding when it is not; never passed unread."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.scan.models import containers
from ramparts.scan.models.scanner import ModelScanner
from ramparts.scan.runner import run_scan

EVIL = b"\x80\x02cos\nsystem\nq\x00X\x0c\x00\x00\x00touch markerq\x01\x85q\x02Rq\x03."


def _rules(root: Path) -> list[tuple[str, tuple[str, ...]]]:
    report = run_scan(root, [ModelScanner()])
    return sorted((f.rule_id, f.location.member) for f in report.findings)


def test_lz4_and_zstd_payloads_are_found(tmp_path: Path) -> None:
    lz4_frame = pytest.importorskip("lz4.frame")
    zstandard = pytest.importorskip("zstandard")
    (tmp_path / "model.joblib").write_bytes(lz4_frame.compress(EVIL))
    (tmp_path / "model.pkl.zst").write_bytes(zstandard.ZstdCompressor().compress(EVIL))
    found = _rules(tmp_path)
    assert ("RMP-PICKLE-001", ("(lz4)",)) in found
    assert ("RMP-PICKLE-001", ("(zstd)",)) in found


def test_a_corrupt_lz4_stream_is_reported(tmp_path: Path) -> None:
    lz4_frame = pytest.importorskip("lz4.frame")
    data = lz4_frame.compress(EVIL * 50)
    (tmp_path / "model.joblib").write_bytes(data[: len(data) // 2] + b"\xff" * 40)
    assert any(rule == "RMP-COMPRESS-001" for rule, _ in _rules(tmp_path))


def test_without_the_library_the_stream_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(containers, "_OPTIONAL", {"lz4": "no_such_module_here"})
    (tmp_path / "model.joblib").write_bytes(b"\x04\x22\x4d\x18" + b"\x00" * 32)
    assert _rules(tmp_path) == [("RMP-ARCHIVE-005", ())]
