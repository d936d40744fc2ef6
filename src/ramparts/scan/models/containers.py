"""Opening containers without trusting them: zip, tar and single-stream compression.

Each opener yields the container's members as nested :class:`ScanItem`\\ s (the runner
scans them while the container stays open) and findings for tricks in the container
itself: zip local headers that disagree with the central directory, duplicate names,
encrypted members, bytes prepended to an archive, and expansion past the limits
(zip bombs). Nothing is extracted to disk except a decompressed single stream, which
is spooled to a temporary file within ``max_expanded_bytes``.
"""

from __future__ import annotations

import functools
import importlib
import io
import struct
import zlib
from collections.abc import Callable, Iterator

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import HEAD_SIZE, ScanContext, ScanItem, ScanOutput
from ramparts.scan.models import zipdir
from ramparts.scan.models.zipdir import ZipEntry

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    import lzma
    import tarfile
    from typing import IO, Any

__all__ = ["open_compressed", "open_tar", "open_zip"]

_REFS_BOMB = ("CWE-409", "AML.T0010.003")
_REFS_EVASION = ("CWE-436", "AML.T0010.003", "OWASP LLM03:2025")
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_SPOOL_IN_MEMORY = 64 << 20


def _finding(
    item: ScanItem,
    rule_id: str,
    title: str,
    message: str,
    severity: Severity,
    *,
    references: tuple[str, ...] = _REFS_EVASION,
    remediation: str | None = None,
    offset: int | None = None,
    member: str | None = None,
) -> Finding:
    if offset is not None and offset < 0:
        offset = None  # a corrupt directory can claim offsets before the file
    loc = item.location(offset=offset)
    if member is not None:
        loc = type(loc)(loc.path, member=(*loc.member, member), offset=offset)
    return Finding(
        rule_id=rule_id,
        title=title,
        message=message,
        severity=severity,
        location=loc,
        confidence=Confidence.HIGH,
        references=references,
        remediation=remediation
        or "Do not load this file; rebuild the archive with a standard tool and scan again.",
        scanner="models",
    )


def _head_of(opener: Callable[[], IO[bytes]]) -> bytes:
    with opener() as fh:
        return fh.read(HEAD_SIZE)


def _read_local_header(raw: IO[bytes], info: ZipEntry) -> tuple[int, int, int, bytes] | None:
    if info.header_offset < 0:  # a corrupt central directory can point before the file
        return None
    raw.seek(info.header_offset)
    data = raw.read(_LOCAL_HEADER.size)
    if len(data) < _LOCAL_HEADER.size:
        return None
    sig, _, flags, method, _, _, _, _, _, name_len, _ = _LOCAL_HEADER.unpack(data)
    if sig != b"PK\x03\x04":
        return None
    return flags, method, name_len, raw.read(name_len)


def _zip_structure(item: ScanItem, infos: list[ZipEntry], raw: IO[bytes]) -> Iterator[Finding]:
    """Findings about the archive's structure (readers that disagree can be steered)."""
    seen: set[str] = set()
    for info in infos:
        if info.filename in seen:
            yield _finding(
                item,
                "RMP-ZIP-001",
                "duplicate member name in zip",
                f"{info.filename!r} appears more than once; loaders disagree on which one wins",
                Severity.HIGH,
                member=info.filename,
            )
        seen.add(info.filename)
        if info.flag_bits & 0x1:
            yield _finding(
                item,
                "RMP-ZIP-002",
                "encrypted zip member",
                f"{info.filename!r} is encrypted, so its content cannot be inspected",
                Severity.HIGH,
                member=info.filename,
            )
        local = _read_local_header(raw, info)
        if local is None:
            yield _finding(
                item,
                "RMP-ZIP-003",
                "zip local header missing or corrupt",
                f"no valid local header for {info.filename!r} at offset {info.header_offset}",
                Severity.HIGH,
                offset=info.header_offset,
                member=info.filename,
            )
            continue
        flags, method, _, name = local
        problems = []
        if name.decode("utf-8", "replace") != info.orig_filename:
            problems.append(f"name {name!r} in the local header")
        if method != info.compress_type:
            problems.append(f"compression {method} locally vs {info.compress_type} centrally")
        if (flags ^ info.flag_bits) & ~0x8 & 0xFFFF:
            problems.append(f"flags {flags:#x} locally vs {info.flag_bits:#x} centrally")
        if problems:
            yield _finding(
                item,
                "RMP-ZIP-004",
                "zip local header disagrees with the central directory",
                f"{info.filename!r}: " + "; ".join(problems),
                Severity.HIGH,
                offset=info.header_offset,
                member=info.filename,
            )


def _zip_limits(
    item: ScanItem, infos: list[ZipEntry], claimed: int, ctx: ScanContext
) -> Iterator[Finding]:
    limits = ctx.settings
    if len(infos) > limits.max_archive_members:  # the directory was read no further
        yield _finding(
            item,
            "RMP-ARCHIVE-002",
            "too many archive members",
            f"more than {limits.max_archive_members} members (the limit); the end record "
            f"claims {claimed}",
            Severity.HIGH,
            references=_REFS_BOMB,
        )
        return
    total = sum(i.file_size for i in infos)
    if total > limits.max_expanded_bytes:
        yield _finding(
            item,
            "RMP-ARCHIVE-003",
            "archive expands beyond the limit",
            f"{total} bytes expanded exceed max_expanded_bytes ({limits.max_expanded_bytes})",
            Severity.HIGH,
            references=_REFS_BOMB,
        )
    for info in infos:
        if info.compress_size and info.file_size / info.compress_size > limits.max_expansion_ratio:
            yield _finding(
                item,
                "RMP-ARCHIVE-004",
                "compression ratio of a zip bomb",
                f"{info.filename!r} expands {info.file_size / info.compress_size:.0f}x "
                f"(limit {limits.max_expansion_ratio:.0f}x); not expanded",
                Severity.HIGH,
                references=_REFS_BOMB,
                member=info.filename,
            )


def has_zip_trailer(item: ScanItem) -> bool:
    """Whether the item ends with a zip end-of-central-directory record (a polyglot)."""
    tail = (1 << 16) + 22  # the record and the longest comment it may carry
    with item.open() as fh:
        fh.seek(max(0, item.size - tail))
        # Bounded: a zip member's stated size can lie, and the rest is then not the end.
        return b"PK\x05\x06" in fh.read(tail)


def open_zip(item: ScanItem, ctx: ScanContext, *, scan_prefix: bool = True) -> Iterator[ScanOutput]:
    """Check a zip's structure and yield its members for scanning.

    ``scan_prefix`` is false when the caller already scanned the bytes before the
    archive (a pickle+zip polyglot read as a pickle first).
    """
    with item.open() as raw:
        try:
            infos, claimed = zipdir.entries(raw, ctx.settings.max_archive_members)
        except (OSError, ValueError, EOFError, struct.error) as exc:
            yield _finding(
                item,
                "RMP-ZIP-005",
                "unreadable zip archive",
                f"cannot read the zip structure: {exc}",
                Severity.MEDIUM,
            )
            return
        structure = list(_zip_structure(item, infos, raw))
        yield from structure
        limit_findings = list(_zip_limits(item, infos, claimed, ctx))
        yield from limit_findings
        refused = {f.location.member[-1] for f in limit_findings if f.location.member}
        if any(not f.location.member for f in limit_findings):
            return  # the archive as a whole is over a limit: open none of it
        first = max(0, min((i.header_offset for i in infos), default=0))
        if first > 0:
            yield from _prefix(item, raw, first, scan=scan_prefix)
        for info in infos:
            if info.filename.endswith("/") or info.filename in refused or info.flag_bits & 0x1:
                continue
            # Members are read as lenient loaders (PyTorch's among them) read them:
            # by the central directory, ignoring local names and CRCs, so that a
            # trick which breaks strict readers cannot hide a payload from us.
            try:
                head = _member_head(raw, info)
            except (OSError, ValueError, EOFError, zlib.error, _codec("lzma").LZMAError) as exc:
                yield _finding(
                    item,
                    "RMP-ZIP-006",
                    "corrupt zip member",
                    f"{info.filename!r} cannot be read: {exc}",
                    Severity.HIGH,
                    member=info.filename,
                )
                continue
            opener = functools.partial(_member_opener, item, info)
            yield item.child(info.filename, info.file_size, head, opener)


_READ = 1 << 16
"""Compressed bytes read at a time (and the least of a stored member's reads)."""
_OUT = 1 << 20
"""The most bytes one decompression step may produce: a member that lies about its
size, or a stream of a bomb, never makes more than this at once."""


class _Inflater:
    """Raw deflate (or zlib with ``wbits``) with the ``needs_input`` interface of bz2 and
    lzma decompressors, so that output can be bounded the same way."""

    def __init__(self, wbits: int) -> None:
        self._d = zlib.decompressobj(wbits)

    @property
    def needs_input(self) -> bool:
        return not self._d.unconsumed_tail

    @property
    def eof(self) -> bool:
        return self._d.eof

    def decompress(self, data: bytes, max_length: int) -> bytes:
        return self._d.decompress(self._d.unconsumed_tail + data, max_length)


class _Pieces:
    """A byte source's data, decompressed when ``d`` is given, in bounded pieces.

    ``remaining`` bounds what is read of ``raw`` (a zip member's compressed size);
    ``None`` reads to its end.
    """

    def __init__(self, raw: IO[bytes], remaining: int | None, d: Any) -> None:
        self._raw = raw
        self._remaining = remaining
        self._d = d

    def _read(self, n: int) -> bytes:
        if self._remaining is not None:
            n = min(n, self._remaining)
            if n <= 0:
                return b""
        data = self._raw.read(n)
        if self._remaining is not None:
            self._remaining = self._remaining - len(data) if data else 0
        return data

    def next(self, want: int) -> bytes:
        """The next piece (empty at the end): about ``want`` bytes of a stored source,
        at most :data:`_OUT` of a compressed one."""
        if self._d is None:
            return self._read(max(want, _READ))
        while not self._d.eof:
            data = b""
            if self._d.needs_input:
                data = self._read(_READ)
                if not data:
                    break
            out: bytes = self._d.decompress(data, _OUT)
            if out:
                return out
            if not data:
                break  # no input taken and no output made: nothing more will come
        return b""


class _PiecesReader(io.RawIOBase):
    """A readable stream over :class:`_Pieces`, copying out of one piece at a time."""

    _pieces: _Pieces
    _buf = b""
    _off = 0
    _pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._off >= len(self._buf):
            self._buf = self._pieces.next(len(b))
            self._off = 0
        n = min(len(b), len(self._buf) - self._off)
        b[:n] = memoryview(self._buf)[self._off : self._off + n]
        self._off += n
        self._pos += n
        return n


class _MemberReader(_PiecesReader):
    """A zip member's data, located through its local header and inflated as it is read.

    This is how lenient loaders (PyTorch's among them) read members: by the central
    directory's offset, ignoring the local name and the CRC. Memory stays bounded
    whatever the member's size or what it claims: reads are sized by the request (a
    4 KiB head of a stored 64 MiB tensor reads 64 KiB) and each decompression step
    makes at most :data:`_OUT` bytes. Seeking backwards in a compressed member restarts
    the decompression, as :mod:`zipfile` does; a stored member is seeked directly.
    """

    def __init__(self, raw: IO[bytes], start: int, info: ZipEntry, *, owns_raw: bool) -> None:
        if info.compress_type not in _MEMBER_DECOMPRESSORS:
            raise ValueError(f"unsupported compression method {info.compress_type}")
        self._raw = raw
        self._owns_raw = owns_raw
        self._start = start
        self._compressed = info.compress_size
        self._size = info.file_size
        self._method = info.compress_type
        self._restart()

    def _restart(self, at: int = 0) -> None:
        self._raw.seek(self._start + at)
        self._pieces = _Pieces(
            self._raw, self._compressed - at, _MEMBER_DECOMPRESSORS[self._method]()
        )
        self._buf = b""
        self._off = 0
        self._pos = at

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        target = max(0, base + offset)
        if self._method == zipdir.ZIP_STORED:
            self._restart(min(target, self._compressed))
            return self._pos
        if target < self._pos:
            self._restart()
        skip = bytearray(1 << 16)
        while self._pos < target:
            view = memoryview(skip)[: min(len(skip), target - self._pos)]
            if not self.readinto(view):
                break
        return self._pos

    def close(self) -> None:
        if self._owns_raw:
            self._raw.close()
        super().close()


class _ZipLzma:
    """Zip's LZMA members carry a 4-byte version/size prefix and raw LZMA1 properties."""

    def __init__(self) -> None:
        self._d: lzma.LZMADecompressor | None = None
        self._pending = b""

    @property
    def needs_input(self) -> bool:
        return self._d is None or self._d.needs_input

    @property
    def eof(self) -> bool:
        return self._d is not None and self._d.eof

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._d is None:
            self._pending += data
            if len(self._pending) < 4:
                return b""
            size = int.from_bytes(self._pending[2:4], "little")
            if len(self._pending) < 4 + size:
                return b""
            props = self._pending[4 : 4 + size]
            lzma = _codec("lzma")
            decode = lzma._decode_filter_properties
            filters = [decode(lzma.FILTER_LZMA1, props)]
            self._d = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=filters)
            data, self._pending = self._pending[4 + size :], b""
        return self._d.decompress(data, max_length)


def _codec(name: str) -> Any:
    """The module ``gzip``, ``bz2`` or ``lzma``, imported on first use (start-up time:
    most files need none of them, and most archives are stored or deflated)."""
    return importlib.import_module(name)


_MEMBER_DECOMPRESSORS: dict[int, Callable[[], Any]] = {
    zipdir.ZIP_STORED: lambda: None,
    zipdir.ZIP_DEFLATED: lambda: _Inflater(-15),
    zipdir.ZIP_BZIP2: lambda: _codec("bz2").BZ2Decompressor(),
    zipdir.ZIP_LZMA: _ZipLzma,
}


def _data_start(raw: IO[bytes], info: ZipEntry) -> int:
    if info.header_offset < 0:
        raise EOFError("member offset points before the archive")
    raw.seek(info.header_offset)
    header = raw.read(_LOCAL_HEADER.size)
    if len(header) < _LOCAL_HEADER.size:
        raise EOFError("local header truncated")
    name_len: int
    extra_len: int
    *_, name_len, extra_len = _LOCAL_HEADER.unpack(header)
    return info.header_offset + _LOCAL_HEADER.size + name_len + extra_len


def _member_stream(
    raw: IO[bytes], info: ZipEntry, *, owns_raw: bool, buffer: int = _READ
) -> IO[bytes]:
    reader = _MemberReader(raw, _data_start(raw, info), info, owns_raw=owns_raw)
    # Small: a head read takes one buffer; bulk reads (the pickle VM's) pass straight through.
    return io.BufferedReader(reader, buffer_size=buffer)


def _member_head(raw: IO[bytes], info: ZipEntry) -> bytes:
    """A member's first :data:`HEAD_SIZE` bytes, read through the open archive."""
    opener = functools.partial(_member_stream, raw, info, owns_raw=False, buffer=HEAD_SIZE)
    return _head_of(opener)


def _member_opener(item: ScanItem, info: ZipEntry) -> IO[bytes]:
    raw = item.open()
    try:
        return _member_stream(raw, info, owns_raw=True)
    except BaseException:
        raw.close()
        raise


def _prefix(item: ScanItem, raw: IO[bytes], size: int, *, scan: bool) -> Iterator[ScanOutput]:
    raw.seek(0)
    data = raw.read(min(size, 64 << 20))
    yield _finding(
        item,
        "RMP-ZIP-007",
        "data before the zip archive",
        f"{size} bytes precede the first zip entry; loaders that read from the start "
        "see them instead of the archive (a pickle prepended to a zip)",
        Severity.HIGH,
        offset=0,
    )
    if scan:
        opener = functools.partial(io.BytesIO, data)
        yield item.child("(prefix)", len(data), data[:HEAD_SIZE], opener)


def open_tar(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Yield a tar archive's regular members; links and devices are reported, not followed."""
    import tarfile  # noqa: PLC0415 (start-up time: most scans see no tar)

    limits = ctx.settings
    with item.open() as raw:
        try:
            tf = tarfile.open(fileobj=raw, mode="r:")  # noqa: SIM115 (closed by the with below)
        except (tarfile.TarError, OSError, EOFError) as exc:
            yield _finding(
                item,
                "RMP-TAR-001",
                "unreadable tar archive",
                f"cannot read the tar structure: {exc}",
                Severity.MEDIUM,
            )
            return
        with tf:
            count = 0
            total = 0
            try:
                for member in tf:
                    count += 1
                    total += member.size
                    if count > limits.max_archive_members or total > limits.max_expanded_bytes:
                        yield _finding(
                            item,
                            "RMP-ARCHIVE-002",
                            "archive over its limits",
                            f"more than {limits.max_archive_members} members or "
                            f"{limits.max_expanded_bytes} bytes; the rest was not inspected",
                            Severity.HIGH,
                            references=_REFS_BOMB,
                        )
                        return
                    if not member.isfile():
                        continue
                    opener = functools.partial(_tar_member, tf, member)
                    yield item.child(member.name, member.size, _head_of(opener), opener)
            except (tarfile.TarError, OSError, EOFError) as exc:
                yield _finding(
                    item,
                    "RMP-TAR-002",
                    "corrupt tar archive",
                    f"the archive breaks after {count} member(s): {exc}",
                    Severity.HIGH,
                )


def _tar_member(tf: tarfile.TarFile, member: tarfile.TarInfo) -> IO[bytes]:
    fh = tf.extractfile(member)
    if fh is None:  # isfile() was checked; a None here means a corrupt entry
        return io.BytesIO(b"")
    return fh


_DECOMPRESSORS: dict[str, Callable[[IO[bytes]], io.BufferedIOBase]] = {
    "gzip": lambda fh: _codec("gzip").GzipFile(fileobj=fh, mode="rb"),
    "bzip2": lambda fh: _codec("bz2").BZ2File(fh, mode="rb"),
    "xz": lambda fh: _codec("lzma").LZMAFile(fh, mode="rb"),
}


class _ZlibReader(_PiecesReader):
    """A zlib stream (joblib's default compression) read incrementally, each step
    making at most :data:`_OUT` bytes."""

    def __init__(self, fh: IO[bytes]) -> None:
        self._pieces = _Pieces(fh, None, _Inflater(zlib.MAX_WBITS))


_DECOMPRESSORS["zlib"] = lambda fh: io.BufferedReader(_ZlibReader(fh))


def _lz4(fh: IO[bytes]) -> Any:
    import lz4.frame  # noqa: PLC0415 (optional: pip install 'ramparts[archives]')

    return lz4.frame.LZ4FrameFile(fh, mode="rb")


def _zstd(fh: IO[bytes]) -> Any:
    import zstandard  # noqa: PLC0415 (optional: pip install 'ramparts[archives]')

    return zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)


_DECOMPRESSORS["lz4"] = _lz4
_DECOMPRESSORS["zstd"] = _zstd
_OPTIONAL = {"lz4": "lz4", "zstd": "zstandard"}
"""Formats opened only when their library is installed (else refused, never passed)."""


def can_open(kind: str) -> bool:
    """Whether ``kind`` streams can be decompressed here (their library is installed)."""
    module = _OPTIONAL.get(kind)
    return module is None or _installed(module)


def _installed(module: str) -> bool:
    import importlib.util  # noqa: PLC0415 (start-up time)

    return importlib.util.find_spec(module) is not None


def _library_errors() -> tuple[type[Exception], ...]:
    """Decompression errors of other kinds: lzma's, and zstandard's where installed."""
    errors: list[type[Exception]] = [_codec("lzma").LZMAError]
    if _installed("zstandard"):
        import zstandard  # noqa: PLC0415

        errors.append(zstandard.ZstdError)
    return tuple(errors)


def open_compressed(item: ScanItem, ctx: ScanContext, kind: str) -> Iterator[ScanOutput]:
    """Decompress a single stream (gzip, bzip2, xz, zlib, lz4, zstd) within the limits."""
    limits = ctx.settings
    import tempfile  # noqa: PLC0415 (start-up time)

    cap = min(limits.max_expanded_bytes, int(max(item.size, 1) * limits.max_expansion_ratio))
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115 (yielded)
    with spool, item.open() as raw:
        total = 0
        try:
            with _DECOMPRESSORS[kind](raw) as stream:
                while chunk := stream.read(1 << 20):
                    total += len(chunk)
                    if total > cap:
                        yield _finding(
                            item,
                            "RMP-ARCHIVE-004",
                            "compression ratio of a decompression bomb",
                            f"the {kind} stream expands beyond {cap} bytes "
                            f"({limits.max_expansion_ratio:.0f}x its size); not inspected",
                            Severity.HIGH,
                            references=_REFS_BOMB,
                        )
                        return
                    spool.write(chunk)
        # lz4 reports a corrupt frame as RuntimeError; zstandard has its own error.
        except (OSError, EOFError, ValueError, RuntimeError, zlib.error) as exc:
            yield _corrupt(item, kind, total, exc)
        except _library_errors() as exc:
            yield _corrupt(item, kind, total, exc)
        spool.seek(0)
        head = spool.read(HEAD_SIZE)
        data_opener = functools.partial(reopen, spool)
        yield item.child(f"({kind})", total, head, data_opener)


def _corrupt(item: ScanItem, kind: str, total: int, exc: Exception) -> Finding:
    return _finding(
        item,
        "RMP-COMPRESS-001",
        f"corrupt {kind} stream",
        f"decompression failed after {total} bytes: {exc}; the part read is scanned",
        Severity.MEDIUM,
    )


class _Window(io.RawIOBase):
    """An independent read-only view of ``size`` bytes at ``base`` of a shared spool file
    (all of it by default), so each reader has its own position."""

    def __init__(self, spool: IO[bytes], base: int = 0, size: int | None = None) -> None:
        self._spool = spool
        self._base = base
        self._pos = 0
        self._size = spool.seek(0, io.SEEK_END) - base if size is None else size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        self._spool.seek(self._base + self._pos)
        data = self._spool.read(min(len(b), max(0, self._size - self._pos)))
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)


def reopen(spool: IO[bytes], base: int = 0, size: int | None = None) -> IO[bytes]:
    """A fresh buffered reader over a spool (or ``size`` bytes of it from ``base``)."""
    return io.BufferedReader(_Window(spool, base, size), buffer_size=1 << 20)


def refuse_unsupported(item: ScanItem, ctx: ScanContext, kind: str) -> Iterator[ScanOutput]:
    """A container format we recognise but do not open: fail closed with a finding.

    A model wrapped in 7z was how nullifAI slipped past scanners that only knew zip; a
    file whose content cannot be inspected must not pass as clean.
    """
    yield _finding(
        item,
        "RMP-ARCHIVE-005",
        f"{kind} archive not inspected",
        f"the content is a {kind} archive, which ramparts does not open yet; what it holds "
        "was not checked",
        Severity.HIGH,
        references=("CWE-693", "AML.T0010.003", "OWASP LLM03:2025"),
        remediation=f"Unpack the {kind} archive and scan its contents before anyone loads them.",
    )
