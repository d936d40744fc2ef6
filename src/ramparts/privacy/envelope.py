"""Envelope encryption of artifacts at rest: a streaming, chunked AES-256-GCM format.

A file gets a fresh 256-bit data key (DEK), which encrypts it in chunks of
``chunk_size`` bytes; the DEK itself is wrapped (AES-256-GCM) by a key-encryption key
(KEK) from a :class:`~ramparts.privacy.keystore.KeyStore`.

Layout (all integers big-endian)::

    header (256 bytes)
      0   magic "RMPENC" 0x00 0x01
      8   chunk size (uint32)
     12   stream nonce prefix (8 random bytes)
     20   active key slot (0 or 1)
     21   slot 0, 114  slot 1:  KEK name length (1) | KEK name (32) | nonce (12) | wrapped DEK (48)
    207   zero padding
    chunks: ciphertext || 16-byte tag, each chunk_size bytes of plaintext but the last

Chunk ``i`` uses nonce ``prefix || uint32(i)`` and associated data
``magic || chunk size || prefix || uint64(i) || final flag``. A chunk moved, dropped,
duplicated or cut off fails its tag, and so does a stream that ends before the chunk
flagged final (truncation) or goes on after it. The DEK is wrapped with the magic, the
prefix and the KEK name as associated data, so a wrapped key cannot be moved to another
file. Decryption releases a chunk's plaintext only after its tag checks; the file
helpers write to a temporary file and rename it only when the whole stream verified.

Key rotation writes the DEK wrapped by the new KEK into the inactive slot, syncs, then
flips the one-byte slot selector: the data is never re-encrypted, and a crash leaves
either the old or the new key in force.
"""

from __future__ import annotations

import io
import os
import stat
import struct
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.privacy.interface import PrivacyError
from ramparts.privacy.keystore import KeyStore

__all__ = [
    "CHUNK_SIZE",
    "HEADER_SIZE",
    "decrypt_file",
    "decrypt_stream",
    "encrypt_file",
    "encrypt_stream",
    "rewrap",
]

MAGIC = b"RMPENC\x00\x01"
HEADER_SIZE = 256
CHUNK_SIZE = 1 << 20
_TAG = 16
_SLOTS = (21, 114)
_NAME_MAX = 32
_MAX_CHUNK = 64 << 20
_IN_FLIGHT = 4
_WORKERS = 2
_WRITEBACK = 8 << 20
# ``encrypt_into``/``decrypt_into`` (newer cryptography releases) fill reused buffers;
# older releases allocate each result.
_INTO = hasattr(AESGCM, "encrypt_into")


def _chunk_aad(chunk_size: int, prefix: bytes, index: int, final: bool) -> bytes:
    return MAGIC + struct.pack(">I", chunk_size) + prefix + struct.pack(">QB", index, final)


def _nonce(prefix: bytes, index: int) -> bytes:
    if index >= 1 << 32:
        raise PrivacyError("the artifact is too large for one encrypted stream")
    return prefix + struct.pack(">I", index)


def _slot(keystore: KeyStore, kek_name: str, dek: bytes, prefix: bytes) -> bytes:
    name = kek_name.encode("utf-8")
    if not 0 < len(name) <= _NAME_MAX:
        raise PrivacyError(f"key name {kek_name!r} must be 1 to {_NAME_MAX} bytes")
    kek = keystore.get(kek_name, create=True)
    nonce = os.urandom(12)
    wrapped = AESGCM(kek).encrypt(nonce, dek, MAGIC + prefix + name)
    return bytes([len(name)]) + name.ljust(_NAME_MAX, b"\0") + nonce + wrapped


def _unwrap(keystore: KeyStore, header: bytes) -> bytes:
    active = header[20]
    if active not in (0, 1):
        raise PrivacyError("the encrypted artifact's header is damaged (key slot)")
    start = _SLOTS[active]
    size = header[start]
    if not 0 < size <= _NAME_MAX:
        raise PrivacyError("the encrypted artifact's header is damaged (key name)")
    name = header[start + 1 : start + 1 + size]
    nonce = header[start + 33 : start + 45]
    wrapped = header[start + 45 : start + 93]
    try:
        kek = keystore.get(name.decode("utf-8"))
        return AESGCM(kek).decrypt(nonce, wrapped, MAGIC + header[12:20] + name)
    except (InvalidTag, UnicodeDecodeError) as exc:
        raise PrivacyError(
            "the artifact's data key does not open with its key-encryption key"
        ) from exc


def _tampered(index: int) -> PrivacyError:
    return PrivacyError(
        f"the encrypted artifact was changed or cut short (chunk {index} fails its tag)"
    )


def _read_header(src: BinaryIO) -> tuple[bytes, int]:
    buffer = bytearray(HEADER_SIZE)
    header = bytes(buffer[: _filler(src)(memoryview(buffer))])
    if len(header) != HEADER_SIZE or header[:8] != MAGIC:
        raise PrivacyError("not a ramparts encrypted artifact (bad magic or short header)")
    (chunk_size,) = struct.unpack(">I", header[8:12])
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise PrivacyError("the encrypted artifact's header is damaged (chunk size)")
    return header, chunk_size


def encrypt_stream(
    src: BinaryIO, dst: BinaryIO, keystore: KeyStore, kek_name: str, *, chunk_size: int = CHUNK_SIZE
) -> int:
    """Encrypt everything in ``src`` to ``dst``; return the plaintext size."""
    if not 0 < chunk_size <= _MAX_CHUNK:
        raise PrivacyError(f"chunk size must be 1 byte to {_MAX_CHUNK >> 20} MiB")
    dek = AESGCM.generate_key(bit_length=256)
    prefix = os.urandom(8)
    slot = _slot(keystore, kek_name, dek, prefix)
    header = MAGIC + struct.pack(">I", chunk_size) + prefix + b"\x00" + slot + bytes(93)
    dst.write(header.ljust(HEADER_SIZE, b"\0"))
    aead = AESGCM(dek)

    def seal(index: int, chunk: memoryview, final: bool, out: bytearray) -> bytes | memoryview:
        nonce, aad = _nonce(prefix, index), _chunk_aad(chunk_size, prefix, index, final)
        if not _INTO:
            return aead.encrypt(nonce, chunk, aad)
        view = memoryview(out)[: len(chunk) + _TAG]
        aead.encrypt_into(nonce, chunk, aad, view)
        return view

    return _pipeline(src, dst, chunk_size, chunk_size + _TAG, seal, lambda n: n - _TAG)


def decrypt_stream(src: BinaryIO, dst: BinaryIO, keystore: KeyStore) -> int:
    """Decrypt ``src`` to ``dst``, each chunk written only once its tag checks.

    Raises :class:`PrivacyError` on any tampering, including truncation; callers that
    must not leave partial plaintext use :func:`decrypt_file`.
    """
    header, chunk_size = _read_header(src)
    aead = AESGCM(_unwrap(keystore, header))
    prefix = header[12:20]

    def open_chunk(
        index: int, chunk: memoryview, final: bool, out: bytearray
    ) -> bytes | memoryview:
        nonce, aad = _nonce(prefix, index), _chunk_aad(chunk_size, prefix, index, final)
        if len(chunk) < _TAG:
            raise _tampered(index)
        # ``out`` is private to this chunk until the caller writes it, which it does only
        # if this returns: plaintext whose tag fails never leaves the buffer.
        try:
            if not _INTO:
                return aead.decrypt(nonce, chunk, aad)
            view = memoryview(out)[: len(chunk) - _TAG]
            aead.decrypt_into(nonce, chunk, aad, view)
        except InvalidTag as exc:
            raise _tampered(index) from exc
        return view

    return _pipeline(src, dst, chunk_size + _TAG, chunk_size, open_chunk, lambda n: n)


def _filler(src: BinaryIO) -> Callable[[memoryview], int]:
    """A function that fills a buffer from ``src`` and returns the bytes read (short only
    at the end of the stream); ``readinto`` when the stream has it, to reuse buffers."""
    readinto: Callable[[memoryview], int | None] | None = getattr(src, "readinto", None)

    def fill(view: memoryview) -> int:
        got = 0
        while got < len(view):
            if readinto is not None:
                n = readinto(view[got:]) or 0
            else:
                data = src.read(len(view) - got)
                n = len(data)
                view[got : got + n] = data
            if not n:
                break
            got += n
        return got

    return fill


def _writeback(dst: BinaryIO) -> Callable[[int, int], None] | None:
    """For a regular file, a function that starts writing a byte range to disk now.

    Without it the kernel keeps a large output dirty in memory and the final ``fsync``
    writes all of it while nothing else runs; started early, the disk works while the
    next chunks are encrypted, and ``fsync`` waits only for the tail. ``POSIX_FADV_DONTNEED``
    starts asynchronous writeback of the range's dirty pages (PostgreSQL's
    ``pg_flush_data`` relies on the same where ``sync_file_range`` is missing); pages
    still dirty or in flight stay cached. Durability still comes from the caller's fsync.
    """
    fadvise = getattr(os, "posix_fadvise", None)
    # Only plain open() files: asking other file-likes for a descriptor can have effects
    # (a SpooledTemporaryFile moves to disk).
    if fadvise is None or not isinstance(dst, io.BufferedWriter | io.BufferedRandom | io.FileIO):
        return None
    try:
        fd = dst.fileno()
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
    except (OSError, ValueError):  # closed, or not backed by a descriptor
        return None

    def kick(offset: int, length: int) -> None:
        dst.flush()
        fadvise(fd, offset, length, os.POSIX_FADV_DONTNEED)

    return kick


def _pipeline(
    src: BinaryIO,
    dst: BinaryIO,
    size: int,
    out_size: int,
    work: Callable[[int, memoryview, bool, bytearray], bytes | memoryview],
    plain_size: Callable[[int], int],
) -> int:
    """Cut ``src`` into ``size``-byte pieces (the last one, maybe empty, flagged final),
    run ``work(index, piece, final, out)`` on each in worker threads (AES-GCM releases the
    GIL) while this thread reads and writes, and return the plaintext size
    (``plain_size`` of each written length, summed).

    At most ``_IN_FLIGHT`` pieces are in work. Buffers are allocated once and reused:
    this thread reads into a piece's input buffer, ``work`` fills its ``out`` buffer
    (``out_size`` bytes) and returns what to write. Results are written in order, each
    only once its work succeeded.
    """
    fill = _filler(src)
    kick = _writeback(dst)
    offset = kicked = dst.tell() if kick is not None else 0
    slots = _IN_FLIGHT + 2  # the pieces in work, the one being read and the one after it
    inputs: list[bytearray] = []
    outputs: list[bytearray] = []
    pending: deque[Future[bytes | memoryview]] = deque()
    total = 0

    def write_oldest() -> None:
        nonlocal total, offset, kicked
        out = memoryview(pending.popleft().result())
        length = 0
        while length < len(out):  # a raw (unbuffered) file may take part of a write
            length += dst.write(out[length:])
        total, offset = total + plain_size(length), offset + length
        if kick is not None and offset - kicked >= _WRITEBACK:
            kick(kicked, offset - kicked)
            kicked = offset

    def buffers(slot: int) -> tuple[bytearray, bytearray]:
        if slot == len(inputs):  # allocated on first use: a small file needs one slot
            inputs.append(bytearray(size))
            outputs.append(bytearray(out_size))
        return inputs[slot], outputs[slot]

    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ramparts-aead") as pool:
        index = 0
        current = fill(memoryview(buffers(0)[0]))
        while True:
            following = 0
            if current == size:
                following = fill(memoryview(buffers((index + 1) % slots)[0]))
            final = following == 0
            piece, out = buffers(index % slots)
            pending.append(pool.submit(work, index, memoryview(piece)[:current], final, out))
            while len(pending) > _IN_FLIGHT:
                write_oldest()
            if final:
                break
            current, index = following, index + 1
        while pending:
            write_oldest()
    return total


def _to_file(src: Path, dst: Path, verb: str, run: Callable[[BinaryIO, BinaryIO], int]) -> int:
    """Run ``run`` from ``src`` into a synced temporary file renamed to ``dst`` only on
    success: a failure (tampering included) leaves no partial output."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        with src.open("rb") as fin, tmp.open("wb") as fout:
            if hasattr(os, "posix_fadvise"):  # a larger read-ahead when src is not cached
                os.posix_fadvise(fin.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            size = run(fin, fout)
            fout.flush()
            os.fsync(fout.fileno())
        tmp.replace(dst)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise PrivacyError(f"cannot {verb} {src}: {exc.strerror or exc}") from exc
    except PrivacyError:
        tmp.unlink(missing_ok=True)
        raise
    return size


def encrypt_file(
    src: Path, dst: Path, keystore: KeyStore, kek_name: str, *, chunk_size: int = CHUNK_SIZE
) -> int:
    """Encrypt ``src`` into ``dst`` (written atomically); return the plaintext size."""
    return _to_file(
        src,
        dst,
        "encrypt",
        lambda fin, fout: encrypt_stream(fin, fout, keystore, kek_name, chunk_size=chunk_size),
    )


def decrypt_file(src: Path, dst: Path, keystore: KeyStore) -> int:
    """Decrypt ``src`` into ``dst``; ``dst`` appears only if the whole stream verified."""
    return _to_file(src, dst, "decrypt", lambda fin, fout: decrypt_stream(fin, fout, keystore))


def rewrap(path: Path, keystore: KeyStore, new_kek_name: str) -> None:
    """Wrap the artifact's data key under ``new_kek_name``; the data is not re-encrypted."""
    try:
        with path.open("r+b") as fh:
            header, _ = _read_header(fh)
            dek = _unwrap(keystore, header)
            inactive = 1 - header[20]
            fh.seek(_SLOTS[inactive])
            fh.write(_slot(keystore, new_kek_name, dek, header[12:20]))
            fh.flush()
            os.fsync(fh.fileno())
            fh.seek(20)
            fh.write(bytes([inactive]))
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        raise PrivacyError(f"cannot rewrap {path}: {exc.strerror or exc}") from exc
