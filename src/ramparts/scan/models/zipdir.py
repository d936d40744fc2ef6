"""A zip archive's central directory, read as :mod:`zipfile` reads it, without importing it.

``zipfile`` brings ``pathlib``, ``threading``, ``shutil``, ``bz2`` and ``lzma`` with it:
about 8% of the instructions of a one-file scan, for what is ~150 lines of reading.
The reading follows the zip specification (APPNOTE 6.3.x, sections 4.3.12-4.3.16) the
way ``zipfile`` applies it, so that a scan sees the members every Python tool sees:

- the end-of-central-directory record is the last signature in the final 64 KiB + 22
  bytes, and a zip64 locator right before it replaces counts, size and offset;
- bytes prepended to the archive shift every offset by the same amount (``concat``);
- names are UTF-8 when flag bit 11 is set, else code page 437, and end at a NUL;
- zip64 extra fields (0x0001) hold the sizes and offset whose 32-bit fields are full.

Unlike ``zipfile``, the directory is read as a stream and at most ``max_entries + 1``
entries are kept, so a directory that claims gigabytes or millions of entries costs
neither: the caller reports the archive as over its member limit.
"""

from __future__ import annotations

import struct

from ramparts.core.records import record

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import IO

__all__ = ["ZIP_BZIP2", "ZIP_DEFLATED", "ZIP_LZMA", "ZIP_STORED", "ZipEntry", "ZipError", "entries"]

ZIP_STORED, ZIP_DEFLATED, ZIP_BZIP2, ZIP_LZMA = 0, 8, 12, 14

_END = struct.Struct("<4s4H2LH")  # end of central directory
_END64_LOCATOR = struct.Struct("<4sLQL")
_END64 = struct.Struct("<4sQ2H2L4Q")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header
_MAX_COMMENT = 1 << 16
_MAX_EXTRACT_VERSION = 63  # zipfile refuses members that need a later version


class ZipError(ValueError):
    """The archive's structure cannot be read (the message says where it breaks)."""


@record
class ZipEntry:
    """One central directory entry, with offsets as they are in the file."""

    filename: str
    orig_filename: str  # as stored; ``filename`` stops at a NUL
    header_offset: int
    flag_bits: int
    compress_type: int
    compress_size: int
    file_size: int


def _end_record(fp: IO[bytes]) -> tuple[tuple[int, ...], int, bool]:
    """The end record's fields, its offset in the file, and whether zip64 replaced them."""
    size = fp.seek(0, 2)
    if size >= _END.size:  # the common case first: a record without a comment
        fp.seek(size - _END.size)
        tail = fp.read(_END.size)
        if tail[:4] == b"PK\x05\x06" and tail[-2:] == b"\x00\x00":
            return _end64(fp, _END.unpack(tail), size - _END.size)
    start = max(0, size - _MAX_COMMENT - _END.size)
    fp.seek(start)
    tail = fp.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < _END.size:
        raise ZipError("File is not a zip file")
    return _end64(fp, _END.unpack_from(tail, at), start + at)


def _end64(fp: IO[bytes], fields: tuple[int, ...], where: int) -> tuple[tuple[int, ...], int, bool]:
    """``fields`` updated from a zip64 end record, if a locator right before points to one."""
    if where < _END64_LOCATOR.size:
        return fields, where, False
    fp.seek(where - _END64_LOCATOR.size)
    sig, disk, _, disks = _END64_LOCATOR.unpack(fp.read(_END64_LOCATOR.size))
    if sig != b"PK\x06\x07":
        return fields, where, False
    if disk != 0 or disks > 1:
        raise ZipError("zipfiles that span multiple disks are not supported")
    # Like zipfile: the record is taken to sit right before its locator.
    if where < _END64_LOCATOR.size + _END64.size:
        raise ZipError("zip64 end record before the start of the file")
    fp.seek(where - _END64_LOCATOR.size - _END64.size)
    end64 = _END64.unpack(fp.read(_END64.size))
    if end64[0] != b"PK\x06\x06":
        return fields, where, False
    return (fields[0], *end64[4:], fields[7]), where, True


def _zip64(extra: bytes, sizes: list[int]) -> None:
    """Replace full 32-bit ``sizes`` (file size, compressed size, offset) from zip64 extras."""
    while len(extra) >= 4:
        kind, length = struct.unpack_from("<HH", extra)
        if length + 4 > len(extra):
            raise ZipError(f"Corrupt extra field {kind:04x} (size={length})")
        if kind == 0x0001:
            data = extra[4 : length + 4]
            for i, what in ((0, "File size"), (1, "Compress size"), (2, "Header offset")):
                if sizes[i] == 0xFFFF_FFFF:
                    if len(data) < 8:
                        raise ZipError(f"Corrupt zip64 extra field. {what} not found.")
                    sizes[i] = int.from_bytes(data[:8], "little")
                    data = data[8:]
        extra = extra[length + 4 :]


def entries(fp: IO[bytes], max_entries: int) -> tuple[list[ZipEntry], int]:
    """The archive's entries in directory order (at most ``max_entries + 1``) and the
    number the end record claims. Raises :class:`ZipError`.
    """
    fields, where, is64 = _end_record(fp)
    claimed, dir_size, dir_offset = fields[4], fields[5], fields[6]
    concat = where - dir_size - dir_offset
    if is64:
        concat -= _END64.size + _END64_LOCATOR.size
    start = dir_offset + concat
    if start < 0:
        raise ZipError("Bad offset for central directory")
    fp.seek(start)
    left = dir_size  # bytes of the directory not read yet: reads stop at its end

    def take(n: int) -> bytes:
        nonlocal left
        data = fp.read(min(n, left))
        left -= len(data)
        return data

    found: list[ZipEntry] = []
    total = 0  # the entries' stated sizes, as zipfile counts them
    while total < dir_size and len(found) <= max_entries:
        header = take(_CENTRAL.size)
        if len(header) != _CENTRAL.size:
            raise ZipError("Truncated central directory")
        h = _CENTRAL.unpack(header)
        if h[0] != b"PK\x01\x02":
            raise ZipError("Bad magic number for central directory")
        name_len, extra_len, comment_len = h[12], h[13], h[14]
        raw_name = take(name_len)
        extra = take(extra_len)
        take(comment_len)
        flags = h[5]
        if h[3] > _MAX_EXTRACT_VERSION:
            raise ZipError(f"zip file version {h[3] / 10:.1f}")
        try:
            name = raw_name.decode("utf-8" if flags & 0x800 else "cp437")
        except UnicodeDecodeError as exc:
            raise ZipError(f"member name is not UTF-8: {exc.reason}") from None
        sizes = [h[11], h[10], h[18]]  # file size, compressed size, local header offset
        _zip64(extra, sizes)
        found.append(
            ZipEntry(
                filename=name.partition("\x00")[0],
                orig_filename=name,
                header_offset=sizes[2] + concat,
                flag_bits=flags,
                compress_type=h[6],
                compress_size=sizes[1],
                file_size=sizes[0],
            )
        )
        total += _CENTRAL.size + name_len + extra_len + comment_len
    return found, claimed
