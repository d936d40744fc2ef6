"""Hash a model file or directory into a :class:`~ramparts.sign.interface.Manifest`.

The walk and the names follow the OpenSSF Model Signing v1.0 rules, so a manifest made
here equals the one ``model_signing`` makes for the same directory:

- names are ``/``-separated paths relative to the model root (``.`` for a one-file
  model); shards are named ``path:start:end``, and an empty file has no shard;
- ignore paths are relative to the root and cover everything beneath them;
- a symbolic link is refused unless symlinks are allowed, and then it is followed;
- FIFOs, sockets and devices are refused: reading one could block forever.

Files are hashed by a thread pool (``hashlib`` releases the GIL on large buffers),
largest first so that one big file does not finish last, each thread reading into its
own 1 MiB buffer: memory stays bounded whatever the model's size.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from ramparts.sign.interface import Manifest, Resource, Serialization, SignError

__all__ = ["artifact_digest", "hash_model", "model_files"]

_CHUNK = 1 << 20

Progress = Callable[[int], None]
"""Called with the number of bytes of each file or shard once it is hashed."""


class _Work(NamedTuple):
    name: str
    path_name: str
    path: Path
    start: int
    end: int


def model_files(root: Path, serialization: Serialization) -> Iterator[tuple[str, Path, int]]:
    """Every regular file of the model as ``(name, path, size)``, in name order."""
    try:
        info = root.lstat()
    except OSError as exc:
        raise SignError(f"cannot read {root}: {exc.strerror or exc}") from exc
    if stat.S_ISLNK(info.st_mode) and not serialization.allow_symlinks:
        raise SignError(f"{root} is a symbolic link; pass --allow-symlinks to follow it")
    ignores = tuple(p.strip("/") for p in serialization.ignore_paths if p.strip("/"))
    if root.is_dir():
        yield from _walk(root, "", ignores, serialization.allow_symlinks, set())
    else:
        yield ".", root, _regular_size(root, root.name)


def _ignored(name: str, ignores: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + "/") for p in ignores)


def _regular_size(path: Path, name: str) -> int:
    try:
        info = path.stat()
    except OSError as exc:
        raise SignError(f"cannot read {name}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise SignError(f"{name} is not a regular file or directory; it cannot be signed")
    return info.st_size


def _walk(
    folder: Path, prefix: str, ignores: tuple[str, ...], follow: bool, seen: set[tuple[int, int]]
) -> Iterator[tuple[str, Path, int]]:
    try:
        info = folder.stat()
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise SignError(f"cannot list {prefix or folder}: {exc.strerror or exc}") from exc
    key = (info.st_dev, info.st_ino)
    if key in seen:
        raise SignError(f"{prefix} links back to a folder above it; it cannot be signed")
    seen = seen | {key}
    for entry in entries:
        name = prefix + _utf8_name(entry.name, prefix)
        if _ignored(name, ignores):
            continue
        path = Path(entry.path)
        if entry.is_symlink() and not follow:
            raise SignError(f"{name} is a symbolic link; pass --allow-symlinks to follow it")
        if entry.is_dir():
            yield from _walk(path, name + "/", ignores, follow, seen)
        else:
            yield name, path, _regular_size(path, name)


def _utf8_name(name: str, prefix: str) -> str:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        shown = name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        raise SignError(f"{prefix}{shown}: file names must be UTF-8 to be signed") from None
    return name


def _new_hash(hash_type: str) -> Any:
    if hash_type == "blake3":
        try:
            import blake3  # noqa: PLC0415 - optional extra, loaded only when asked for
        except ImportError as exc:
            raise SignError(
                "blake3 hashing needs the 'blake3' extra: pip install 'ramparts[blake3]'"
            ) from exc
        return blake3.blake3(max_threads=1)
    return hashlib.new(hash_type)


def _hash_range(work: _Work, hash_type: str, whole: bool) -> tuple[str, int]:
    """Digest of the work item's bytes, and how many were read.

    A whole file is read to its end (it may have grown since it was listed); a shard
    is read exactly, and a file that shrank under it is an error.
    """
    h = _new_hash(hash_type)
    view = memoryview(bytearray(_CHUNK))
    left = work.end - work.start
    done = 0
    try:
        with work.path.open("rb", buffering=0) as fh:
            if work.start:
                fh.seek(work.start)
            while whole or left > 0:
                n = fh.readinto(view if whole else view[: min(left, _CHUNK)])
                if not n:
                    if whole:
                        break
                    raise SignError(f"{work.name} shrank while it was being hashed")
                h.update(view[:n])
                left -= n
                done += n
    except OSError as exc:
        raise SignError(f"cannot read {work.name}: {exc.strerror or exc}") from exc
    return str(h.hexdigest()), done


def _work_items(root: Path, serialization: Serialization) -> list[_Work]:
    items: list[_Work] = []
    shard = serialization.shard_size
    for name, path, size in model_files(root, serialization):
        if shard is None:
            items.append(_Work(name, name, path, 0, size))
            continue
        for start in range(0, size, shard):
            end = min(start + shard, size)
            items.append(_Work(f"{name}:{start}:{end}", name, path, start, end))
    return items


def hash_model(
    root: Path,
    serialization: Serialization,
    *,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Manifest:
    """Hash ``root`` (a file or a directory) as ``serialization`` says.

    The model's name is the last component of its path.
    """
    items = _work_items(root, serialization)
    items.sort(key=lambda w: w.end - w.start, reverse=True)
    count = max(1, min(workers or os.cpu_count() or 1, len(items) or 1))
    algorithm = serialization.algorithm
    shard = serialization.shard_size

    def one(work: _Work) -> Resource:
        digest, size = _hash_range(work, serialization.hash_type, shard is None)
        if progress is not None:
            progress(size)
        return Resource(work.name, algorithm, digest)

    if count == 1:
        resources = [one(w) for w in items]
    else:
        # Imported here: a one-file model never needs a pool, and the import costs start-up.
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        with ThreadPoolExecutor(max_workers=count, thread_name_prefix="ramparts-hash") as pool:
            resources = list(pool.map(one, items))
    order = {w.name: (w.path_name, w.start) for w in items}
    resources.sort(key=lambda r: order[r.name])
    name = root.resolve().name if root.name in ("", ".", "..") else root.name
    return Manifest(name, serialization, tuple(resources))


def artifact_digest(path: Path, *, workers: int | None = None) -> str:
    """The SHA-256 that names ``path`` in attestations.

    A file's is the SHA-256 of its bytes, as other in-toto tools compute it; a folder's
    is its OpenSSF Model Signing subject digest with the default parameters (whole
    files, SHA-256, the default ignores and a ``model.sig`` signature file left out).
    """
    if path.is_dir():
        serialization = Serialization().with_ignores(["model.sig"])
        return hash_model(path, serialization, workers=workers).root_digest
    return hash_model(path, Serialization(), workers=1).resources[0].digest
