"""The keys that sign tokens: a folder of private keys, the newest one current.

Each key is a PKCS#8 PEM file (mode 0600) named by its creation time,
``20261201T223000123456Z-1a2b3c4d.pem``, in ``state_dir/keys/token-signing``. The
newest signs; an older key still verifies until every token it signed has expired
(``retain`` after its successor was made), then it is no longer used and the next
rotation deletes it. A key's ``kid`` is its RFC 7638 JWK thumbprint, so anyone holding
the JWKS can recompute it.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ramparts.core.files import write_secret_file
from ramparts.core.interface import Clock
from ramparts.core.records import field, record
from ramparts.errors import ConfigError
from ramparts.policy.identity_types import ALGORITHMS

__all__ = ["SigningKey", "TokenKeys"]

PrivateKey = Ed25519PrivateKey | ec.EllipticCurvePrivateKey
PublicKey = Ed25519PublicKey | ec.EllipticCurvePublicKey

_NAME = re.compile(r"(\d{8}T\d{12})Z-[0-9a-f]{8}\.pem")
_STAMP = "%Y%m%dT%H%M%S%f"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _jwk_members(public: PublicKey) -> dict[str, str]:
    """The required members of the public JWK (RFC 8037 OKP, RFC 7518 EC)."""
    if isinstance(public, Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"crv": "Ed25519", "kty": "OKP", "x": _b64url(raw)}
    numbers = public.public_numbers()
    return {"crv": "P-256", "kty": "EC", "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big"))}  # fmt: skip


@record
class SigningKey:
    """One token signing key."""

    kid: str
    algorithm: str
    created_at: datetime
    private_key: PrivateKey = field(repr=False)
    path: Path

    @property
    def public_key(self) -> PublicKey:
        """The key that verifies this key's signatures."""
        return self.private_key.public_key()

    def jwk(self) -> dict[str, str]:
        """The public key as a JWK (RFC 7517) with ``kid``, ``alg`` and ``use``."""
        return {**_jwk_members(self.public_key), "kid": self.kid, "alg": self.algorithm,
                "use": "sig"}  # fmt: skip


def _kid(public: PublicKey) -> str:
    """The RFC 7638 thumbprint: SHA-256 of the required members, sorted, no whitespace."""
    canonical = json.dumps(_jwk_members(public), sort_keys=True, separators=(",", ":"))
    return _b64url(hashlib.sha256(canonical.encode("ascii")).digest())


def _load(path: Path) -> SigningKey:
    match = _NAME.fullmatch(path.name)
    if match is None:
        raise ConfigError(f"{path} is not a token signing key file (TIMEZ-HEX.pem expected)")
    created = datetime.strptime(match.group(1), _STAMP).replace(tzinfo=UTC)
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read the token signing key {path}: {exc}") from exc
    if isinstance(key, Ed25519PrivateKey):
        algorithm = "EdDSA"
    elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
        algorithm = "ES256"
    else:
        raise ConfigError(f"{path} is neither an Ed25519 nor a P-256 private key")
    return SigningKey(_kid(key.public_key()), algorithm, created, key, path)


class TokenKeys:
    """The signing keys in one folder: the current one, and those that still verify.

    ``retain`` is how long a key keeps verifying after a newer one was made: at least
    a token's lifetime plus the leeway. ``max_age`` makes :meth:`current` start a new
    key when the newest is older (``None``: only :meth:`rotate` does). The folder is
    read once; :meth:`refresh` reads it again (after another process rotated).
    """

    def __init__(
        self,
        folder: Path,
        *,
        clock: Clock,
        retain: timedelta,
        algorithm: str = "EdDSA",
        max_age: timedelta | None = timedelta(days=30),
    ) -> None:
        if algorithm not in ALGORITHMS:
            raise ConfigError(
                f"token algorithm {algorithm!r} is not one of {', '.join(ALGORITHMS)}"
            )
        self.folder = folder
        self.retain = retain
        self._clock = clock
        self._algorithm = algorithm
        self._max_age = max_age
        self._keys: list[SigningKey] | None = None

    def refresh(self) -> None:
        """Read the folder again."""
        try:
            paths = sorted(self.folder.glob("*.pem"))
        except OSError as exc:
            raise ConfigError(f"cannot read the token key folder {self.folder}: {exc}") from exc
        self._keys = [_load(p) for p in paths]

    def _all(self) -> list[SigningKey]:
        """Every key in the folder, oldest first."""
        if self._keys is None:
            self.refresh()
        return self._keys or []

    def _retired(self, now: datetime) -> tuple[list[SigningKey], list[SigningKey]]:
        """(still verifying, newest first; past their retention)."""
        keys = self._all()
        live: list[SigningKey] = []
        gone: list[SigningKey] = []
        for older, newer in itertools.pairwise(keys):
            (live if now < newer.created_at + self.retain else gone).append(older)
        live.extend(keys[-1:])
        return live[::-1], gone

    def verification_keys(self) -> list[SigningKey]:
        """The keys whose signatures are accepted now, newest first."""
        return self._retired(self._clock.now())[0]

    def find(self, kid: str) -> SigningKey | None:
        """The key named ``kid`` if its signatures are accepted now."""
        return next((k for k in self.verification_keys() if k.kid == kid), None)

    def current(self) -> SigningKey:
        """The key that signs: the newest, after making one if none is or it is too old."""
        keys = self._all()
        now = self._clock.now()
        if not keys or (self._max_age is not None and now >= keys[-1].created_at + self._max_age):
            return self.rotate()
        return keys[-1]

    def rotate(self) -> SigningKey:
        """Make a new current key; delete the keys whose tokens have all expired."""
        now = self._clock.now().astimezone(UTC)
        if self._algorithm == "EdDSA":
            key: PrivateKey = Ed25519PrivateKey.generate()
        else:
            key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        path = self.folder / f"{now.strftime(_STAMP)}Z-{secrets.token_hex(4)}.pem"
        try:
            write_secret_file(path, pem)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the token signing key {path}: {exc.strerror or exc}"
            ) from exc
        self.refresh()
        gone = {k.path for k in self._retired(now)[1]}
        for old in gone:
            old.unlink(missing_ok=True)
        self._keys = [k for k in self._all() if k.path not in gone]
        return self._all()[-1]

    def jwks(self) -> dict[str, Any]:
        """The JWK Set (RFC 7517) of the keys that verify now, newest first."""
        return {"keys": [k.jwk() for k in self.verification_keys()]}
