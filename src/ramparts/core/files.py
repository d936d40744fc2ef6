"""Writing files safely: secrets only their owner can read, and whole-file replacements."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_atomic", "write_secret_file"]


def write_secret_file(path: Path, data: bytes) -> None:
    """Create ``path`` (mode 0600, its folder 0700 if new) holding ``data``, synced to disk.

    Raises :class:`FileExistsError` if the file exists (two writers never overwrite each
    other's key) and :class:`OSError` for anything else; callers turn those into their
    own errors.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` (creating its folder): readers see the old or the new
    file, never a half-written one. Raises :class:`OSError`; callers turn it into their own
    errors."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
