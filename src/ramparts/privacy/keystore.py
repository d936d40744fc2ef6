"""The local key store: named 256-bit keys in files only their owner can read.

``<state_dir>/keys/<name>.key`` holds 32 random bytes; the folder is mode 0700 and
each file 0600. A key file that others can read is refused rather than used: a
tokenization key is as sensitive as the data it protects. Customer-managed keys
(AWS KMS, Google Cloud KMS, Vault transit) implement the same :class:`KeyStore`
protocol in :mod:`ramparts.privacy.kms`.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from pathlib import Path
from typing import Protocol

from ramparts.core.files import write_secret_file
from ramparts.privacy.interface import PrivacyError

__all__ = ["KEY_BYTES", "KeyStore", "LocalKeyStore", "check_key_name"]

KEY_BYTES = 32
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_key_name(name: str) -> str:
    """``name`` if it can name a key (it becomes a file name); PrivacyError otherwise."""
    if not _NAME.fullmatch(name):
        raise PrivacyError(f"invalid key name {name!r} (letters, digits, '.', '_', '-')")
    return name


class KeyStore(Protocol):
    """Where named keys live."""

    def get(self, name: str, *, create: bool = False) -> bytes:
        """The key called ``name``; with ``create``, a new random one if there is none."""
        ...


class LocalKeyStore:
    """Keys as files under ``root`` (by default ``.ramparts/keys``)."""

    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, name: str) -> Path:
        return self._root / f"{check_key_name(name)}.key"

    def get(self, name: str, *, create: bool = False) -> bytes:
        """The key called ``name``; raises PrivacyError if missing (unless ``create``),
        unreadable, malformed, or readable by anyone but its owner."""
        path = self._path(name)
        try:
            info = path.stat()
        except FileNotFoundError:
            if not create:
                raise PrivacyError(f"no key named {name!r} in {self._root}") from None
            return self._create(path)
        except OSError as exc:
            raise PrivacyError(f"cannot read key {name!r}: {exc.strerror or exc}") from exc
        if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise PrivacyError(f"key file {path} can be read by other users; run: chmod 600 {path}")
        try:
            key = path.read_bytes()
        except OSError as exc:
            raise PrivacyError(f"cannot read key {name!r}: {exc.strerror or exc}") from exc
        if len(key) != KEY_BYTES:
            raise PrivacyError(f"key file {path} does not hold a {KEY_BYTES}-byte key")
        return key

    def _create(self, path: Path) -> bytes:
        key = secrets.token_bytes(KEY_BYTES)
        try:
            # O_EXCL: two runs creating the same key never overwrite each other.
            write_secret_file(path, key)
        except FileExistsError:
            return self.get(path.stem)
        except OSError as exc:
            raise PrivacyError(f"cannot create key {path}: {exc.strerror or exc}") from exc
        return key
