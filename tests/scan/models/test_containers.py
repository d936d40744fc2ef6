"""Containers around model files: every pickle inside is reached, tricks are reported."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import struct
import tarfile
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest

from ramparts.core.settings import ScanSettings
from ramparts.core.types import Report
from ramparts.scan.interface import ScanContext
from ramparts.scan.models.scanner import ModelScanner
from ramparts.scan.runner import run_scan

# Inert malicious pickle: os.system('touch marker'); built by hand, never loaded.
EVIL = b"\x80\x02cos\nsystem\nq\x00X\x0c\x00\x00\x00touch markerq\x01\x85q\x02Rq\x03."
BENIGN = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01K\x01s."


def scan(path: Path, **limits: int | float) -> Report:
    ctx = ScanContext(settings=ScanSettings(**limits))  # type: ignore[arg-type]
    return run_scan(path, [ModelScanner()], ctx=ctx)


def rules(report: Report) -> set[str]:
    return {f.rule_id for f in report.findings}


def dangerous(report: Report) -> list[tuple[str, tuple[str, ...]]]:
    return [
        (f.location.path, f.location.member)
        for f in report.findings
        if f.rule_id.startswith("RMP-PICKLE") and f.severity.value == "critical"
    ]


def zip_bytes(members: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_pickle_in_a_torch_zip_under_any_top_folder(tmp_path: Path) -> None:
    data = zip_bytes(
        {"anything/data.pkl": EVIL, "anything/data/0": b"\0" * 64, "anything/version": b"3\n"}
    )
    (tmp_path / "model.pt").write_bytes(data)
    report = scan(tmp_path)
    assert dangerous(report) == [("model.pt", ("anything/data.pkl",))]


def test_nested_archives_are_followed(tmp_path: Path) -> None:
    inner = zip_bytes({"m/data.pkl": EVIL}, zipfile.ZIP_DEFLATED)
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w") as tf:
        info = tarfile.TarInfo("bundle/model.zip")
        info.size = len(inner)
        tf.addfile(info, io.BytesIO(inner))
    (tmp_path / "bundle.tar.gz").write_bytes(gzip.compress(tar_buf.getvalue(), mtime=0))
    report = scan(tmp_path)
    assert dangerous(report) == [("bundle.tar.gz", ("(gzip)", "bundle/model.zip", "m/data.pkl"))]


@pytest.mark.parametrize(
    "compress",
    [
        lambda b: zlib.compress(b, 3),
        lambda b: gzip.compress(b, mtime=0),
        bz2.compress,
        lzma.compress,
    ],
    ids=["zlib", "gzip", "bz2", "xz"],
)
def test_joblib_compressions(tmp_path: Path, compress) -> None:
    (tmp_path / "model.joblib").write_bytes(compress(EVIL))
    report = scan(tmp_path)
    assert len(dangerous(report)) == 1
    assert "RMP-MODEL-001" not in rules(report)


def test_zip_in_zip(tmp_path: Path) -> None:
    inner = zip_bytes({"archive/data.pkl": EVIL})
    (tmp_path / "outer.zip").write_bytes(zip_bytes({"inner.pt": inner}))
    assert dangerous(scan(tmp_path)) == [("outer.zip", ("inner.pt", "archive/data.pkl"))]


def test_depth_limit(tmp_path: Path) -> None:
    data = EVIL
    for i in range(4):
        data = zip_bytes({f"l{i}.zip" if i else "data.pkl": data})
    (tmp_path / "deep.zip").write_bytes(data)
    report = scan(tmp_path, max_archive_depth=2)
    assert "RMP-ARCHIVE-001" in rules(report)
    assert dangerous(report) == []


def test_zip_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bomb.zip").write_bytes(
        zip_bytes({"a.pkl": b"\0" * (5 << 20)}, zipfile.ZIP_DEFLATED)
    )
    report = scan(tmp_path)
    assert "RMP-ARCHIVE-004" in rules(report)


def test_member_that_lies_about_its_size_is_inflated_in_bounded_steps(tmp_path: Path) -> None:
    # A pickle whose BINBYTES argument is 64 MiB of zeros (about 64 KiB deflated), in a
    # member whose headers claim 64 bytes: the declared sizes pass every limit, so only
    # the reader's own bound keeps memory small.
    payload = b"\x80\x04B" + struct.pack("<I", 64 << 20) + b"\0" * (64 << 20) + b"."
    data = bytearray(zip_bytes({"a.pkl": payload}, zipfile.ZIP_DEFLATED))
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 64)  # uncompressed size in the directory
    struct.pack_into("<I", data, 22, 64)  # and in the local header
    (tmp_path / "liar.zip").write_bytes(bytes(data))
    del payload, data
    tracemalloc.start()
    try:
        report = scan(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert report.stats.files_scanned == 1
    assert dangerous(report) == []
    assert peak < 24 << 20  # one inflated piece is at most 1 MiB; the whole is 64 MiB


def test_gzip_bomb_is_refused(tmp_path: Path) -> None:
    (tmp_path / "bomb.pkl.gz").write_bytes(gzip.compress(b"\0" * (20 << 20), mtime=0))
    report = scan(tmp_path)
    assert "RMP-ARCHIVE-004" in rules(report)


def test_too_many_members(tmp_path: Path) -> None:
    (tmp_path / "many.zip").write_bytes(zip_bytes({f"f{i}": b"x" for i in range(30)}))
    assert "RMP-ARCHIVE-002" in rules(scan(tmp_path, max_archive_members=10))


def test_duplicate_names_and_prefixed_pickle(tmp_path: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", BENIGN)
        with pytest.warns(UserWarning, match="Duplicate name"):
            zf.writestr("archive/data.pkl", EVIL)
    (tmp_path / "dup.pt").write_bytes(buf.getvalue())
    (tmp_path / "prefixed.pt").write_bytes(EVIL + zip_bytes({"archive/data.pkl": BENIGN}))
    report = scan(tmp_path)
    assert "RMP-ZIP-001" in rules(report)
    assert "RMP-ZIP-007" in rules(report)
    assert ("dup.pt", ("archive/data.pkl",)) in dangerous(report)
    assert ("prefixed.pt", ()) in dangerous(report)  # read as a pickle from byte 0


def test_local_header_name_mismatch(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"archive/data.pkl": BENIGN}))
    # Rename the entry in the local header only: readers that trust local headers and
    # readers that trust the central directory now disagree on its name.
    name_at = 30
    assert data[name_at : name_at + 16] == b"archive/data.pkl"
    data[name_at : name_at + 16] = b"archive/evil.pkl"
    (tmp_path / "mismatch.pt").write_bytes(bytes(data))
    assert "RMP-ZIP-004" in rules(scan(tmp_path))
    # the same trick hiding a payload: the content is still read and judged
    evil = bytearray(zip_bytes({"archive/data.pkl": EVIL}))
    evil[name_at : name_at + 16] = b"archive/evil.pkl"
    (tmp_path / "mismatch.pt").write_bytes(bytes(evil))
    report = scan(tmp_path)
    assert "RMP-ZIP-004" in rules(report)
    assert dangerous(report) == [("mismatch.pt", ("archive/data.pkl",))]


@pytest.mark.parametrize(
    "method", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]
)
def test_bad_crc_does_not_hide_the_payload(tmp_path: Path, method: int) -> None:
    padded = EVIL + b"N" * 10_000  # larger than a head, so the whole member is read
    data = bytearray(zip_bytes({"archive/data.pkl": padded}, method))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, cd + 16, 0xDEADBEEF)  # CRC in the central directory
    struct.pack_into("<I", data, 14, 0xDEADBEEF)  # and in the local header
    (tmp_path / "crc.pt").write_bytes(bytes(data))
    assert dangerous(scan(tmp_path)) == [("crc.pt", ("archive/data.pkl",))]


def test_encrypted_flag(tmp_path: Path) -> None:
    data = bytearray(zip_bytes({"archive/data.pkl": BENIGN}))
    cd = data.rfind(b"PK\x01\x02")
    struct.pack_into("<H", data, cd + 8, 0x1)  # central directory flag bits
    struct.pack_into("<H", data, 6, 0x1)  # local header flag bits
    (tmp_path / "enc.pt").write_bytes(bytes(data))
    assert "RMP-ZIP-002" in rules(scan(tmp_path))


def npy(descr: str, payload: bytes) -> bytes:
    header = f"{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}".encode()
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + payload


def test_numpy_object_arrays_have_their_pickle_scanned(tmp_path: Path) -> None:
    (tmp_path / "obj.npy").write_bytes(npy("|O", EVIL))
    (tmp_path / "num.npy").write_bytes(npy("<f4", b"\0\0\0\0"))
    report = scan(tmp_path)
    assert "RMP-NUMPY-002" in rules(report)
    assert dangerous(report) == [("obj.npy", ())]
    assert all(f.location.path == "obj.npy" for f in report.findings)


def test_extension_that_lies_about_content(tmp_path: Path) -> None:
    (tmp_path / "weights.safetensors").write_bytes(EVIL)
    report = scan(tmp_path)
    mismatch = [f for f in report.findings if f.rule_id == "RMP-MODEL-001"]
    assert mismatch
    assert mismatch[0].severity.value == "high"
    assert dangerous(report) == [("weights.safetensors", ())]


def test_benign_files_are_clean(tmp_path: Path) -> None:
    (tmp_path / "ok.pkl").write_bytes(BENIGN)
    (tmp_path / "ok.pt").write_bytes(
        zip_bytes({"archive/data.pkl": BENIGN, "archive/version": b"3\n"})
    )
    (tmp_path / "ok.joblib").write_bytes(zlib.compress(BENIGN))
    report = scan(tmp_path)
    assert report.findings == ()
    assert report.errors == ()


@pytest.mark.parametrize(
    ("magic", "kind"),
    [
        (b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"),
        # lz4 and zstd are opened when their library is installed (test_lz4_zstd.py).
    ],
)
def test_containers_we_do_not_open_fail_closed(tmp_path: Path, magic: bytes, kind: str) -> None:
    (tmp_path / "model.pt").write_bytes(magic + b"\0" * 64)
    report = scan(tmp_path)
    # 7z is opened now (test_sevenzip.py); a header that cannot be read fails closed.
    refused = [f for f in report.findings if f.rule_id in ("RMP-ARCHIVE-005", "RMP-ARCHIVE-006")]
    assert refused
    assert kind in refused[0].title
    assert report.exit_code(report.findings[0].severity).value == 1
