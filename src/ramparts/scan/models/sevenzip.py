"""7z archives, read by the format's own structures and Python's codecs.

nullifAI hid pickles in 7z so that scanners which only knew zip passed them; a 7z
archive's members are scanned like any other container's. The signature header points
at the (possibly LZMA-encoded) header, whose streams and files information say how
each folder is packed and which files it holds. Folders whose coders form a simple
chain of LZMA, LZMA2, the branch filters (x86, ARM, PowerPC, IA-64, SPARC), delta,
copy, deflate or bzip2 are decoded with the same size and ratio limits as other
containers. Encrypted folders (AES) and other coders (PPMd, BCJ2) are reported as not
inspected; a malformed archive is reported, never passed.
"""

from __future__ import annotations

import bz2
import functools
import lzma
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any

from ramparts.core.records import field, record
from ramparts.core.types import Severity
from ramparts.scan.interface import HEAD_SIZE, ScanContext, ScanItem, ScanOutput
from ramparts.scan.models.containers import (
    _SPOOL_IN_MEMORY,
    _finding,
    refuse_unsupported,
    reopen,
)

__all__ = ["open_7z"]

_SIGNATURE = b"7z\xbc\xaf\x27\x1c"
_MAX_HEADER = 64 << 20
_MAX_COUNT = 1_000_000

_BRANCH = {
    b"\x03\x03\x01\x03": lzma.FILTER_X86,
    b"\x03\x03\x02\x05": lzma.FILTER_POWERPC,
    b"\x03\x03\x04\x01": lzma.FILTER_IA64,
    b"\x03\x03\x05\x01": lzma.FILTER_ARM,
    b"\x03\x03\x07\x01": lzma.FILTER_ARMTHUMB,
    b"\x03\x03\x08\x05": lzma.FILTER_SPARC,
}
_LZMA, _LZMA2, _COPY, _DELTA = b"\x03\x01\x01", b"\x21", b"\x00", b"\x03"
_DEFLATE, _BZIP2, _AES = b"\x04\x01\x08", b"\x04\x02\x02", b"\x06\xf1\x07\x01"


class _Malformed(Exception):  # noqa: N818 - internal control flow, never escapes
    pass


class _Unsupported(Exception):  # noqa: N818 - internal control flow, never escapes
    pass


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise _Malformed("header ends early")
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise _Malformed("header ends early")
        self.pos += n
        return self.data[self.pos - n : self.pos]

    def number(self) -> int:
        """7z's variable-length UINT64: leading one bits say how many bytes follow."""
        first, mask, value = self.byte(), 0x80, 0
        for i in range(8):
            if not first & mask:
                return value | ((first & (mask - 1)) << (8 * i))
            value |= self.byte() << (8 * i)
            mask >>= 1
        return value

    def count(self) -> int:
        n = self.number()
        if n > _MAX_COUNT:
            raise _Malformed(f"implausible count {n}")
        return n

    def bits(self, n: int) -> list[bool]:
        out, byte, mask = [], 0, 0
        for _ in range(n):
            if not mask:
                byte, mask = self.byte(), 0x80
            out.append(bool(byte & mask))
            mask >>= 1
        return out

    def defined(self, n: int) -> list[bool]:
        return [True] * n if self.byte() else self.bits(n)


@record(frozen=False, slots=False)
class _Folder:
    coders: list[tuple[bytes, int, int, bytes]] = field(default_factory=list)
    bind_pairs: list[tuple[int, int]] = field(default_factory=list)
    packed: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)

    @property
    def size(self) -> int:
        bound = {out for _, out in self.bind_pairs}
        finals = [s for i, s in enumerate(self.sizes) if i not in bound]
        return finals[0] if finals else 0


@record(frozen=False, slots=False)
class _Streams:
    pack_pos: int = 0
    pack_sizes: list[int] = field(default_factory=list)
    folders: list[_Folder] = field(default_factory=list)
    substreams: list[list[int]] = field(default_factory=list)


def _skip_digests(r: _Reader, n: int) -> None:
    for present in r.defined(n):
        if present:
            r.take(4)


def _pack_info(r: _Reader, s: _Streams) -> None:
    s.pack_pos = r.number()
    n = r.count()
    while (pid := r.byte()) != 0:
        if pid == 0x09:
            s.pack_sizes = [r.number() for _ in range(n)]
        elif pid == 0x0A:
            _skip_digests(r, n)
        else:
            raise _Malformed(f"unexpected property {pid} in pack info")


def _folder(r: _Reader) -> _Folder:
    f = _Folder()
    for _ in range(r.count()):
        flag = r.byte()
        if flag & 0x80:
            raise _Unsupported("alternative coder methods")
        codec = r.take(flag & 0x0F)
        ins, outs = (r.count(), r.count()) if flag & 0x10 else (1, 1)
        props = r.take(r.count()) if flag & 0x20 else b""
        f.coders.append((codec, ins, outs, props))
    total_out = sum(c[2] for c in f.coders)
    total_in = sum(c[1] for c in f.coders)
    f.bind_pairs = [(r.count(), r.count()) for _ in range(total_out - 1)]
    n_packed = total_in - len(f.bind_pairs)
    if n_packed == 1:
        bound = {i for i, _ in f.bind_pairs}
        f.packed = [i for i in range(total_in) if i not in bound][:1]
    else:
        f.packed = [r.count() for _ in range(n_packed)]
    return f


def _unpack_info(r: _Reader, s: _Streams) -> None:
    if r.byte() != 0x0B:
        raise _Malformed("folder list expected")
    n = r.count()
    if r.byte() != 0:
        raise _Unsupported("external folder list")
    s.folders = [_folder(r) for _ in range(n)]
    if r.byte() != 0x0C:
        raise _Malformed("unpack sizes expected")
    for f in s.folders:
        f.sizes = [r.number() for _ in range(sum(c[2] for c in f.coders))]
    while (pid := r.byte()) != 0:
        if pid == 0x0A:
            _skip_digests(r, n)
        else:
            raise _Malformed(f"unexpected property {pid} in unpack info")


def _substreams(r: _Reader, s: _Streams) -> None:
    counts = [1] * len(s.folders)
    pid = r.byte()
    if pid == 0x0D:
        counts = [r.count() for _ in s.folders]
        pid = r.byte()
    sizes: list[list[int]] = []
    for f, n in zip(s.folders, counts, strict=True):
        if pid == 0x09 and n:
            part = [r.number() for _ in range(n - 1)]
            sizes.append([*part, f.size - sum(part)])
        else:
            sizes.append([f.size] if n else [])
    if pid == 0x09:
        pid = r.byte()
    while pid != 0:
        if pid == 0x0A:
            _skip_digests(r, sum(counts))
        else:
            r.take(r.count())
        pid = r.byte()
    s.substreams = sizes


def _streams_info(r: _Reader) -> _Streams:
    s = _Streams()
    readers: dict[int, Callable[[_Reader, _Streams], None]] = {
        0x06: _pack_info,
        0x07: _unpack_info,
        0x08: _substreams,
    }
    while (pid := r.byte()) != 0:
        reader = readers.get(pid)
        if reader is None:
            raise _Malformed(f"unexpected property {pid} in streams info")
        reader(r, s)
    if not s.substreams:
        s.substreams = [[f.size] for f in s.folders]
    return s


def _names(r: _Reader, n: int) -> tuple[list[str], list[bool]]:
    names, empty = [f"file{i}" for i in range(n)], [False] * n
    while (pid := r.byte()) != 0:
        data = _Reader(r.take(r.count()))
        if pid == 0x0E:
            empty = data.bits(n)
        elif pid == 0x11 and not data.byte():
            given = data.data[data.pos :].decode("utf-16-le", errors="replace").split("\x00")[:n]
            names = [*given, *names[len(given) :]]
    return names, empty


def _chain_order(folder: _Folder) -> list[tuple[bytes, int, int, bytes]]:
    """The coders from the one whose output is the data back to the packed one: the
    order liblzma takes a filter chain in."""
    bound_out = {out for _, out in folder.bind_pairs}
    feeds = dict(folder.bind_pairs)  # a coder's input <- another coder's output
    finals = [i for i in range(len(folder.coders)) if i not in bound_out]
    if len(finals) != 1:
        raise _Malformed("no single final coder")
    order, current = [], finals[0]
    while True:
        order.append(folder.coders[current])
        if current not in feeds:
            break
        current = feeds[current]
        if len(order) > len(folder.coders) or current >= len(folder.coders):
            raise _Malformed("coder chain loops")
    return order


def _lzma_filter(codec: bytes, props: bytes) -> dict[str, Any] | None:
    """The liblzma filter for a coder (``None`` for copy); raises _Unsupported."""
    if codec == _COPY:
        return None
    if codec in (_LZMA, _LZMA2):
        kind = lzma.FILTER_LZMA1 if codec == _LZMA else lzma.FILTER_LZMA2
        decode = lzma._decode_filter_properties  # type: ignore[attr-defined]
        return dict(decode(kind, props))
    if codec in _BRANCH:
        return {"id": _BRANCH[codec]}
    if codec == _DELTA:
        return {"id": lzma.FILTER_DELTA, "dist": (props[0] if props else 0) + 1}
    if codec == _AES:
        raise _Unsupported("encrypted (AES)")
    raise _Unsupported(f"coder {codec.hex()}")


def _filters(folder: _Folder) -> Callable[[IO[bytes], int], Iterator[bytes]]:
    """A decoder for a folder whose coders form one simple chain."""
    if len(folder.packed) != 1 or any(ins != 1 or outs != 1 for _, ins, outs, _ in folder.coders):
        raise _Unsupported("a coder with several streams (BCJ2)")
    codecs = [codec for codec, _, _, _ in folder.coders]
    if codecs == [_DEFLATE]:
        return functools.partial(_stream, zlib.decompressobj(-15).decompress)
    if codecs == [_BZIP2]:
        return functools.partial(_stream, bz2.BZ2Decompressor().decompress)
    chain = [
        f
        for codec, _, _, props in _chain_order(folder)
        if (f := _lzma_filter(codec, props)) is not None
    ]
    if not chain:
        return functools.partial(_stream, bytes)
    try:
        decoder = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=chain)
    except (lzma.LZMAError, ValueError) as exc:
        raise _Unsupported(f"a coder chain liblzma refuses ({exc})") from exc
    return functools.partial(_stream, decoder.decompress)


def _stream(step: Callable[[bytes], bytes], fh: IO[bytes], size: int) -> Iterator[bytes]:
    left = size
    while left > 0:
        chunk = fh.read(min(1 << 20, left))
        if not chunk:
            raise _Malformed("packed stream ends early")
        left -= len(chunk)
        if out := step(chunk):
            yield out


def _decode(fh: IO[bytes], start: int, size: int, folder: _Folder, cap: int) -> bytes:
    """A folder decoded whole (headers only: small, capped)."""
    fh.seek(start)
    out = b"".join(_filters(folder)(fh, size))
    if len(out) > cap:
        raise _Malformed("encoded header too large")
    return out[: folder.size]


def _header(fh: IO[bytes], item: ScanItem) -> tuple[_Streams, list[str], list[bool]]:
    start = fh.read(32)
    if len(start) < 32 or not start.startswith(_SIGNATURE):
        raise _Malformed("no 7z signature header")
    offset, size = struct.unpack_from("<QQ", start, 12)
    if size > _MAX_HEADER or 32 + offset + size > item.size:
        raise _Malformed("header lies outside the file")
    fh.seek(32 + offset)
    r = _Reader(fh.read(size))
    pid = r.byte()
    for _ in range(4):  # an encoded header may itself be encoded: a few levels at most
        if pid != 0x17:
            break
        s = _streams_info(r)
        if not s.folders or not s.pack_sizes:
            raise _Malformed("empty encoded header")
        r = _Reader(_decode(fh, 32 + s.pack_pos, s.pack_sizes[0], s.folders[0], _MAX_HEADER))
        pid = r.byte()
    if pid != 0x01:
        raise _Malformed("no header")
    streams, names, empty = _Streams(), list[str](), list[bool]()
    while (pid := r.byte()) != 0:
        if pid == 0x04:
            streams = _streams_info(r)
        elif pid == 0x05:
            names, empty = _names(r, r.count())
        elif pid in (0x02, 0x03):  # archive properties, additional streams: not needed
            raise _Unsupported("archive properties")
        else:
            raise _Malformed(f"unexpected property {pid} in header")
    return streams, names, empty


def open_7z(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Yield each file of a 7z archive; what cannot be decoded is reported."""
    limits = ctx.settings
    with item.open() as fh:
        try:
            streams, names, empty = _header(fh, item)
        except _Unsupported as exc:
            yield from refuse_unsupported(item, ctx, kind=f"7z ({exc})")
            return
        except (_Malformed, lzma.LZMAError, ValueError, EOFError, OSError) as exc:
            yield _finding(
                item,
                "RMP-ARCHIVE-006",
                "unreadable 7z archive",
                f"cannot read its header: {exc}; nothing in it was inspected",
                Severity.HIGH,
            )
            return
        with_data = [name for name, e in zip(names, empty, strict=False) if not e]
        files = iter(with_data)
        pack_offset = 32 + streams.pack_pos
        members = 0
        cap = min(limits.max_expanded_bytes, int(max(item.size, 1) * limits.max_expansion_ratio))
        for index, (folder, sizes) in enumerate(
            zip(streams.folders, streams.substreams, strict=False)
        ):
            pack_size = streams.pack_sizes[index] if index < len(streams.pack_sizes) else 0
            folder_start = pack_offset
            pack_offset += pack_size
            members += len(sizes)
            if members > limits.max_archive_members:
                yield _finding(
                    item,
                    "RMP-ARCHIVE-002",
                    "too many archive members",
                    f"more than {limits.max_archive_members} members; the rest were not inspected",
                    Severity.HIGH,
                )
                return
            yield from _folder_members(item, fh, folder, folder_start, pack_size, sizes, files, cap)


def _folder_members(
    item: ScanItem,
    fh: IO[bytes],
    folder: _Folder,
    start: int,
    pack_size: int,
    sizes: list[int],
    files: Iterator[str],
    cap: int,
) -> Iterator[ScanOutput]:
    try:
        decoder = _filters(folder)
    except _Unsupported as exc:
        yield _finding(
            item,
            "RMP-ARCHIVE-005",
            "7z folder not inspected",
            f"a folder packed as {exc} is not decoded; what it holds was not checked",
            Severity.HIGH,
        )
        return
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (yielded)
    with spool:
        total = 0
        try:
            fh.seek(start)
            for chunk in decoder(fh, pack_size):
                total += len(chunk)
                if total > cap:
                    yield _finding(
                        item,
                        "RMP-ARCHIVE-004",
                        "compression ratio of a decompression bomb",
                        f"a 7z folder expands beyond {cap} bytes; not inspected",
                        Severity.HIGH,
                    )
                    return
                spool.write(chunk)
        except (_Malformed, lzma.LZMAError, zlib.error, OSError, EOFError, ValueError) as exc:
            yield _finding(
                item,
                "RMP-ARCHIVE-006",
                "corrupt 7z folder",
                f"decoding failed after {total} bytes: {exc}; the part read is scanned",
                Severity.MEDIUM,
            )
        offset = 0
        for size in sizes:
            name = next(files, f"file@{offset}")
            spool.seek(offset)
            head = spool.read(min(HEAD_SIZE, max(size, 0)))
            opener = functools.partial(reopen, spool, offset, max(size, 0))
            yield item.child(name, max(size, 0), head, opener)
            offset += max(size, 0)
