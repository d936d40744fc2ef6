"""The zip central directory reader against :mod:`zipfile`, which it must agree with."""

from __future__ import annotations

import io
import struct
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.scan.models import zipdir


def _theirs(data: bytes) -> list[tuple[object, ...]] | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, struct.error):
        return None
    fields = (
        "filename",
        "orig_filename",
        "header_offset",
        "flag_bits",
        "compress_type",
        "compress_size",
        "file_size",
    )
    return [tuple(getattr(i, f) for f in fields) for i in infos]


def _ours(data: bytes, max_entries: int = 10_000) -> list[tuple[object, ...]] | None:
    try:
        found, _ = zipdir.entries(io.BytesIO(data), max_entries)
    except (zipdir.ZipError, ValueError, OSError, EOFError, struct.error):
        return None
    return [
        (
            e.filename,
            e.orig_filename,
            e.header_offset,
            e.flag_bits,
            e.compress_type,
            e.compress_size,
            e.file_size,
        )
        for e in found
    ]


def _archive(*, comment: bytes = b"", zip64: bool = False, prefix: bytes = b"") -> bytes:
    buf = io.BytesIO()
    buf.write(prefix)
    with zipfile.ZipFile(buf, "a" if prefix else "w") as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr(
            zipfile.ZipInfo("archive/data/0"), b"\0" * 4096, compress_type=zipfile.ZIP_DEFLATED
        )
        zf.writestr("caf\u00e9/\u00fcber.txt", "utf-8 name")  # sets flag bit 11
        with zf.open("big", "w", force_zip64=zip64) as fh:
            fh.write(b"x" * 100)
        zf.writestr("dir/", b"")
        zf.comment = comment
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _archive(),
        _archive(comment=b"an archive comment"),
        _archive(zip64=True),
        _archive(prefix=b"\x80\x02}q\x00." + b"prepended" * 100),
        _archive(comment=b"c" * 65535),
    ],
    ids=["plain", "comment", "zip64-member", "prepended", "longest-comment"],
)
def test_entries_match_zipfile(data: bytes) -> None:
    theirs = _theirs(data)
    assert theirs is not None
    assert _ours(data) == theirs


def test_names_end_at_nul_and_non_utf8_names_are_cp437() -> None:
    data = bytearray(_archive())
    name = b"archive/data.pkl"
    for at in range(len(data)):
        if data[at : at + 4] == b"PK\x01\x02" and data[at + 46 : at + 46 + len(name)] == name:
            data[at + 46 + 7] = 0  # "archive\0data.pkl" in the central directory
            data[at + 46 + 8] = 0x81  # not UTF-8; flag bit 11 is clear for this entry
    ours = _ours(bytes(data))
    assert ours == _theirs(bytes(data))
    assert ours is not None
    assert ours[0][0] == "archive"
    assert ours[0][1] == "archive\x00\u00fcata.pkl"


def test_a_directory_past_the_member_limit_is_read_no_further() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(50):
            zf.writestr(f"m{i}", b"")
    found, claimed = zipdir.entries(io.BytesIO(buf.getvalue()), 10)
    assert len(found) == 11
    assert claimed == 50


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a zip file"),
        (b"PK\x05\x06" + b"\0" * 10, "not a zip file"),
        (b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, 1, 1, 46, 100, 0), "bad offset"),
        (
            b"PK\x01\x02" + bytes(10) + b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, 1, 1, 14, 0, 0),
            "truncated",
        ),
    ],
)
def test_broken_structures_raise_a_clear_error(data: bytes, message: str) -> None:
    with pytest.raises(zipdir.ZipError, match=f"(?i){message}"):
        zipdir.entries(io.BytesIO(data), 100)


_SEEDS = [
    _archive(),
    _archive(zip64=True),
    _archive(prefix=b"pre" * 7, comment=b"note"),
    _archive(comment=b"a false signature PK\x05\x06 in the comment"),  # both refuse it
]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(_SEEDS),
    edits=st.lists(
        st.tuples(st.integers(min_value=1, max_value=200), st.integers(0, 255)), max_size=6
    ),
)
def test_a_damaged_archive_reads_as_zipfile_reads_it(
    seed: bytes, edits: list[tuple[int, int]]
) -> None:
    # Edits near the end hit the end records and the directory, where the readers work.
    data = bytearray(seed)
    for back, value in edits:
        data[len(data) - min(back, len(data))] = value
    assert _ours(bytes(data)) == _theirs(bytes(data))
