"""Streaming and parallel file hashing with bounded memory.

``hashlib`` releases the GIL while it digests large buffers, so a thread pool hashes
several files at once on several cores without copying them into memory.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from ramparts.core.types import Digest
from ramparts.errors import InputError

__all__ = ["CHUNK_SIZE", "hash_files", "sha256_file", "sha256_stream"]

CHUNK_SIZE = 1 << 20
"""Bytes read per call: large enough to amortise syscalls, small enough to stay in cache."""


def sha256_stream(stream: BinaryIO, *, chunk_size: int = CHUNK_SIZE) -> Digest:
    """SHA-256 of everything left in ``stream``, read in chunks."""
    h = hashlib.sha256()
    buf = bytearray(chunk_size)
    view = memoryview(buf)
    while n := stream.readinto(view):  # type: ignore[attr-defined]
        h.update(view[:n])
    return Digest("sha256", h.hexdigest())


def sha256_file(path: str | os.PathLike[str]) -> Digest:
    """SHA-256 of a file, streamed; unreadable files raise :class:`InputError`."""
    try:
        with Path(path).open("rb", buffering=0) as fh:
            return sha256_stream(fh)
    except OSError as exc:
        raise InputError(f"cannot read {os.fspath(path)}: {exc.strerror or exc}") from exc


def hash_files(
    paths: Iterable[Path],
    *,
    workers: int | None = None,
    hasher: Callable[[Path], Digest] = sha256_file,
) -> Iterator[tuple[Path, Digest]]:
    """Hash many files in parallel, yielding ``(path, digest)`` in input order.

    At most ``workers`` files are open at once (default: the number of CPUs), so buffer
    memory stays bounded by ``workers * CHUNK_SIZE`` whatever the file sizes.
    """
    items = list(paths)
    count = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(max_workers=count) as pool:
        yield from zip(items, pool.map(hasher, items), strict=True)
