"""Writes the 7z fixtures of test_sevenzip.py (committed beside this script).

    python -m venv /tmp/p7 && /tmp/p7/bin/pip install py7zr
    /tmp/p7/bin/python tests/scan/models/make_7z_fixtures.py

py7zr is only needed here, never by ramparts or its tests. Every archive holds an
inert malicious pickle (os.system('touch marker')), never loaded.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import py7zr  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent / "data"
EVIL = b"\x80\x02cos\nsystem\nq\x00X\x0c\x00\x00\x00touch markerq\x01\x85q\x02Rq\x03."
FILTERS = {
    "lzma2": [{"id": py7zr.FILTER_LZMA2, "preset": 6}],
    "lzma": [{"id": py7zr.FILTER_LZMA}],
    "copy": [{"id": py7zr.FILTER_COPY}],
    "bcj_lzma2": [{"id": py7zr.FILTER_X86}, {"id": py7zr.FILTER_LZMA2}],
    "delta_lzma2": [{"id": py7zr.FILTER_DELTA}, {"id": py7zr.FILTER_LZMA2}],
    "deflate": [{"id": py7zr.FILTER_DEFLATE}],
    "bzip2": [{"id": py7zr.FILTER_BZIP2}],
}


def _torch_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", EVIL)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def _write(name: str, files: dict[str, bytes], **kwargs: object) -> None:
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", **kwargs) as archive:
        for member, data in files.items():
            archive.writestr(data, member)
    (OUT / name).write_bytes(buf.getvalue())


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name, filters in FILTERS.items():
        _write(f"{name}.7z", {"archive/data.pkl": EVIL, "archive/version": b"3\n"}, filters=filters)
    _write("torch_in_7z.7z", {"model.pt": _torch_zip()})
    _write("aes.7z", {"archive/data.pkl": EVIL}, password="secret")
    _write("many.7z", {f"part{i}.txt": b"x" * i for i in range(20)} | {"z/evil.pkl": EVIL})


if __name__ == "__main__":
    main()
