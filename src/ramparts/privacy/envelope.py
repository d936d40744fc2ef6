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

import os
import struct
from collections import deque
from collections.abc import Callable, Iterator
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


def _read_header(src: BinaryIO) -> tuple[bytes, int]:
    header = src.read(HEADER_SIZE)
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

    def seal(index: int, chunk: bytes, final: bool) -> bytes:
        return aead.encrypt(
            _nonce(prefix, index), chunk, _chunk_aad(chunk_size, prefix, index, final)
        )

    return _pipeline(_pieces(src, chunk_size), seal, dst, lambda out: len(out) - _TAG)


def decrypt_stream(src: BinaryIO, dst: BinaryIO, keystore: KeyStore) -> int:
    """Decrypt ``src`` to ``dst``, each chunk written only once its tag checks.

    Raises :class:`PrivacyError` on any tampering, including truncation; callers that
    must not leave partial plaintext use :func:`decrypt_file`.
    """
    header, chunk_size = _read_header(src)
    aead = AESGCM(_unwrap(keystore, header))
    prefix = header[12:20]

    def open_chunk(index: int, chunk: bytes, final: bool) -> bytes:
        aad = _chunk_aad(chunk_size, prefix, index, final)
        try:
            return aead.decrypt(_nonce(prefix, index), chunk, aad)
        except InvalidTag as exc:
            raise PrivacyError(
                f"the encrypted artifact was changed or cut short (chunk {index} fails its tag)"
            ) from exc

    return _pipeline(_pieces(src, chunk_size + _TAG), open_chunk, dst, len)


def _pieces(src: BinaryIO, size: int) -> Iterator[tuple[int, bytes, bool]]:
    """(index, bytes, final) of each ``size``-byte piece; the last one (maybe empty) is final."""
    index = 0
    current = src.read(size)
    while True:
        following = src.read(size) if len(current) == size else b""
        final = not following
        yield index, current, final
        if final:
            return
        current, index = following, index + 1


def _pipeline(
    pieces: Iterator[tuple[int, bytes, bool]],
    work: Callable[[int, bytes, bool], bytes],
    dst: BinaryIO,
    plain_size: Callable[[bytes], int],
) -> int:
    """Run ``work`` on pieces in worker threads (AES-GCM releases the GIL) while this
    thread reads and writes, keeping at most ``_IN_FLIGHT`` pieces in memory; results
    are written in order, each only once its work succeeded."""
    total = 0
    pending: deque[Future[bytes]] = deque()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ramparts-aead") as pool:
        for index, chunk, final in pieces:
            pending.append(pool.submit(work, index, chunk, final))
            while len(pending) > _IN_FLIGHT:
                out = pending.popleft().result()
                dst.write(out)
                total += plain_size(out)
        while pending:
            out = pending.popleft().result()
            dst.write(out)
            total += plain_size(out)
    return total


def _to_file(src: Path, dst: Path, verb: str, run: Callable[[BinaryIO, BinaryIO], int]) -> int:
    """Run ``run`` from ``src`` into a synced temporary file renamed to ``dst`` only on
    success: a failure (tampering included) leaves no partial output."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        with src.open("rb") as fin, tmp.open("wb") as fout:
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
