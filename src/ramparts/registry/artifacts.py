"""Where version artifacts are kept: packed into one tar, encrypted at rest.

A pushed file or folder is packed into an uncompressed tar with fixed metadata (names
sorted, times, owners and modes zeroed, regular files and folders only), so the same
content packs to the same bytes. The tar is then encrypted with
:mod:`ramparts.privacy.envelope` under a data key wrapped by the store's key-encryption
key, and kept as ``<root>/<blob>.rmpa``. Reading decrypts to a temporary file (nothing
is released before every chunk's tag checks) and unpacks with the tar ``data`` filter,
which refuses absolute paths, ``..`` and links out of the target.
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from ramparts.privacy.envelope import decrypt_file, encrypt_file, rewrap
from ramparts.privacy.interface import PrivacyError
from ramparts.privacy.keystore import KeyStore
from ramparts.registry.interface import ConflictError, NotFoundError, RegistryError

__all__ = [
    "SUFFIX",
    "ArtifactStore",
    "LocalArtifactStore",
    "check_blob",
    "pack",
    "seal",
    "unseal",
]

SUFFIX = ".rmpa"
"""The file suffix of an encrypted artifact."""


class ArtifactStore(Protocol):
    """Keeps encrypted artifacts by blob name."""

    def put(self, blob: str, source: Path) -> int:
        """Pack and encrypt ``source`` (a file or folder) as ``blob``; return the packed size."""
        ...

    def fetch(self, blob: str, target: Path) -> None:
        """Decrypt and unpack ``blob`` into the folder ``target`` (created, must not exist)."""
        ...

    def delete(self, blob: str) -> None:
        """Destroy ``blob``; deleting a missing blob is not an error."""
        ...

    def rewrap(self, blob: str, kek_name: str) -> None:
        """Wrap ``blob``'s data key under ``kek_name`` without re-encrypting its data."""
        ...


def _members(source: Path) -> Iterator[tuple[str, Path]]:
    if not source.is_dir():
        yield source.name, source
        return
    for dirpath, dirnames, filenames in os.walk(source):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(filenames):
            path = base / name
            yield path.relative_to(source).as_posix(), path


def pack(source: Path, target: Path) -> None:
    """Write ``source`` as a deterministic tar at ``target``; links and devices are refused."""
    if not source.exists():
        raise RegistryError(f"{source} does not exist")
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, path in _members(source):
            if path.is_symlink() or not path.is_file():
                raise RegistryError(f"{path} is not a regular file: links and devices are refused")
            info = tar.gettarinfo(str(path), arcname=name)
            info.mtime = 0
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            with path.open("rb") as fh:
                tar.addfile(info, fh)


def check_blob(blob: str) -> str:
    """``blob`` if it is a valid blob name (no folders, not hidden)."""
    if not blob or "/" in blob or blob.startswith("."):
        raise RegistryError(f"invalid blob name {blob!r}")
    return blob


def seal(source: Path, sealed: Path, keystore: KeyStore, kek_name: str, scratch: Path) -> int:
    """Pack ``source`` into ``scratch`` and encrypt it to ``sealed``; the packed size."""
    packed = scratch / "artifact.tar"
    pack(source, packed)
    try:
        encrypt_file(packed, sealed, keystore, kek_name)
    except PrivacyError as exc:
        raise RegistryError(f"cannot store artifact {sealed.stem}: {exc}") from exc
    size = packed.stat().st_size
    packed.unlink()
    return size


def unseal(sealed: Path, target: Path, keystore: KeyStore, scratch: Path, blob: str) -> None:
    """Decrypt ``sealed`` into ``scratch`` (every tag checked) and unpack it into ``target``."""
    packed = scratch / "artifact.tar"
    try:
        decrypt_file(sealed, packed, keystore)
    except PrivacyError as exc:
        raise RegistryError(f"artifact {blob} failed decryption: {exc}") from exc
    target.mkdir(parents=True)
    try:
        with tarfile.open(packed) as tar:
            tar.extractall(target, filter="data")
    except tarfile.TarError as exc:
        raise RegistryError(f"artifact {blob} cannot be unpacked: {exc}") from exc


class LocalArtifactStore:
    """Encrypted blobs in a local folder, data keys wrapped by ``kek_name`` from ``keystore``."""

    def __init__(self, root: Path, keystore: KeyStore, kek_name: str) -> None:
        self._root = root
        self._keystore = keystore
        self._kek = kek_name

    def _path(self, blob: str) -> Path:
        return self._root / f"{check_blob(blob)}{SUFFIX}"

    def put(self, blob: str, source: Path) -> int:
        """Pack and encrypt ``source`` as ``blob`` (written atomically)."""
        target = self._path(blob)
        if target.exists():
            raise ConflictError(f"artifact {blob} exists already")
        self._root.mkdir(parents=True, exist_ok=True, mode=0o700)
        # The key must exist before a blob depends on it.
        self._keystore.get(self._kek, create=True)
        with tempfile.TemporaryDirectory(dir=self._root, prefix=".pack-") as tmp:
            return seal(source, target, self._keystore, self._kek, Path(tmp))

    def fetch(self, blob: str, target: Path) -> None:
        """Decrypt ``blob`` (every tag checked) and unpack it into ``target``."""
        source = self._path(blob)
        if not source.exists():
            raise NotFoundError(f"artifact {blob} is not in the store")
        if target.exists():
            raise ConflictError(f"{target} exists already; give a new folder")
        with tempfile.TemporaryDirectory(dir=self._root, prefix=".fetch-") as tmp:
            unseal(source, target, self._keystore, Path(tmp), blob)

    def delete(self, blob: str) -> None:
        """Remove ``blob``'s file."""
        self._path(blob).unlink(missing_ok=True)

    def rewrap(self, blob: str, kek_name: str) -> None:
        """Wrap ``blob``'s data key under ``kek_name``; the data is not re-encrypted."""
        self._keystore.get(kek_name, create=True)
        try:
            rewrap(self._path(blob), self._keystore, kek_name)
        except PrivacyError as exc:
            raise RegistryError(f"cannot rewrap artifact {blob}: {exc}") from exc
