"""7z archives: every member scanned through the format's own structures.

Fixtures are written by make_7z_fixtures.py (py7zr, outside ramparts' dependencies).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ramparts.core.settings import ScanSettings
from ramparts.scan.interface import ScanContext
from ramparts.scan.models.scanner import ModelScanner
from ramparts.scan.runner import run_scan

DATA = Path(__file__).resolve().parent / "data"


def _scan(
    tmp_path: Path, name: str, data: bytes | None = None, **limits: int
) -> list[tuple[str, tuple[str, ...]]]:
    target = tmp_path / "model.7z"
    if data is None:
        shutil.copy(DATA / name, target)
    else:
        target.write_bytes(data)
    ctx = ScanContext(ScanSettings(**limits)) if limits else ScanContext()
    report = run_scan(tmp_path, [ModelScanner()], ctx=ctx)
    assert report.errors == ()
    return sorted((f.rule_id, f.location.member) for f in report.findings)


@pytest.mark.parametrize(
    "name",
    ["lzma2.7z", "lzma.7z", "copy.7z", "bcj_lzma2.7z", "delta_lzma2.7z", "deflate.7z", "bzip2.7z"],
)
def test_the_pickle_inside_is_found_whatever_the_coder(tmp_path: Path, name: str) -> None:
    assert ("RMP-PICKLE-001", ("archive/data.pkl",)) in _scan(tmp_path, name)


def test_a_torch_zip_inside_7z_is_opened_too(tmp_path: Path) -> None:
    assert ("RMP-PICKLE-001", ("model.pt", "archive/data.pkl")) in _scan(tmp_path, "torch_in_7z.7z")


def test_solid_archives_split_into_their_files(tmp_path: Path) -> None:
    assert ("RMP-PICKLE-001", ("z/evil.pkl",)) in _scan(tmp_path, "many.7z")


def test_encrypted_content_is_reported_not_passed(tmp_path: Path) -> None:
    found = _scan(tmp_path, "aes.7z")
    assert found
    assert all(rule == "RMP-ARCHIVE-005" for rule, _ in found)


def test_broken_archives_fail_closed(tmp_path: Path) -> None:
    data = (DATA / "lzma2.7z").read_bytes()
    # The nullifAI shape: a 7z signature header in front of something else.
    assert _scan(tmp_path, "", b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\0" * 24 + b"PK\x03\x04") == [
        ("RMP-ARCHIVE-006", ())
    ]
    assert _scan(tmp_path, "", data[: len(data) - 20])[0][0] == "RMP-ARCHIVE-006"
    corrupt = data[:40] + bytes(b ^ 0x55 for b in data[40:80]) + data[80:]
    assert any(rule.startswith("RMP-ARCHIVE-00") for rule, _ in _scan(tmp_path, "", corrupt))


def test_member_and_ratio_limits_apply(tmp_path: Path) -> None:
    assert ("RMP-ARCHIVE-002", ()) in _scan(tmp_path, "many.7z", max_archive_members=5)
