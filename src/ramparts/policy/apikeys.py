"""API keys: their format, their generation, and the keyed hash they are stored as.

A key reads ``rmp_<key id>_<secret>``. ``rmp_`` marks it as a ramparts key for secret
scanners. The key id (8 base32 characters, public) finds the stored record without
touching the secret, and the secret is 32 random bytes (``secrets``, base64url).

The database keeps only HMAC-SHA256(pepper, key). The pepper is a 32-byte server key
in its own file (``state_dir/keys/identity-pepper.key``, mode 0600), so a copy of the
database alone cannot be used to test guesses, and a key is compared in constant time
(:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from pathlib import Path
from typing import Self

from ramparts.core.files import write_secret_file
from ramparts.errors import ConfigError
from ramparts.policy.identity_types import AuthenticationError, Rejection

__all__ = ["KEY_PREFIX", "PEPPER_FILE", "KeyHasher", "key_id_of", "new_api_key", "new_key_id"]

KEY_PREFIX = "rmp_"
PEPPER_FILE = "identity-pepper.key"
"""The pepper's file name in ``state_dir/keys``."""

_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_ID_LENGTH = 8
_SECRET_BYTES = 32
_PEPPER_BYTES = 32
_KEY = re.compile(r"rmp_([a-z2-7]{8})_[A-Za-z0-9_-]{43}")


def new_key_id() -> str:
    """A fresh public key id: 8 random base32 characters (40 bits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_LENGTH))


def new_api_key(key_id: str) -> str:
    """A new API key with ``key_id`` and a 256-bit random secret."""
    return f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(_SECRET_BYTES)}"


def key_id_of(api_key: str) -> str:
    """The key id of a well-formed API key; anything else is rejected as malformed."""
    match = _KEY.fullmatch(api_key) if isinstance(api_key, str) else None
    if match is None:
        raise AuthenticationError(
            Rejection.MALFORMED, "not a ramparts API key (rmp_ID_SECRET expected)"
        )
    return match.group(1)


class KeyHasher:
    """Computes and checks the keyed hash an API key is stored as."""

    def __init__(self, pepper: bytes) -> None:
        if len(pepper) != _PEPPER_BYTES:
            raise ConfigError(
                f"the API key pepper must be {_PEPPER_BYTES} bytes, got {len(pepper)}"
            )
        self._pepper = pepper

    @classmethod
    def from_file(cls, path: Path, *, create: bool = True) -> Self:
        """The hasher whose pepper is in ``path``, created (0600) if absent and ``create``.

        Losing the file makes every stored key useless: back it up with the database.
        """
        try:
            return cls(path.read_bytes())
        except FileNotFoundError:
            if not create:
                raise ConfigError(f"no API key pepper at {path}") from None
        except OSError as exc:
            raise ConfigError(
                f"cannot read the API key pepper {path}: {exc.strerror or exc}"
            ) from exc
        try:
            write_secret_file(path, secrets.token_bytes(_PEPPER_BYTES))
        except FileExistsError:
            pass  # another process created it first: use theirs
        except OSError as exc:
            raise ConfigError(
                f"cannot write the API key pepper {path}: {exc.strerror or exc}"
            ) from exc
        return cls.from_file(path, create=False)

    def digest(self, api_key: str) -> bytes:
        """HMAC-SHA256 of the whole key under the pepper."""
        return hmac.new(self._pepper, api_key.encode("ascii"), hashlib.sha256).digest()

    def check(self, api_key: str, stored: bytes) -> None:
        """Return if ``api_key`` hashes to ``stored``; raise :class:`AuthenticationError` if not."""
        if not hmac.compare_digest(self.digest(api_key), stored):
            raise AuthenticationError(
                Rejection.BAD_SIGNATURE, "the API key does not match its stored hash"
            )
