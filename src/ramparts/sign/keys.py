"""Elliptic-curve keys: the ``key`` signing method, and key generation.

The OpenSSF Model Signing v1.0 curves are P-256, P-384 and P-521, each signing with
the SHA-2 hash of its size (ECDSA, DER-encoded signatures). A key-signed bundle
carries ``publicKey.hint``: the hex SHA-256 of the PEM SubjectPublicKeyInfo, checked
against the key the verifier was given. X.509 certificates live in
:mod:`ramparts.sign.certificates`, imported only when used (it costs start-up time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ramparts.core.files import write_secret_file
from ramparts.sign.bundle import EnvelopeVerifier
from ramparts.sign.interface import SignError, VerificationError

__all__ = [
    "CURVES",
    "KeySigner",
    "KeyVerifier",
    "generate_key",
    "key_hint",
    "read_file",
    "verify_ecdsa",
]

CURVES: dict[str, Callable[[], ec.EllipticCurve]] = {
    "p256": ec.SECP256R1,
    "p384": ec.SECP384R1,
    "p521": ec.SECP521R1,
}
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "secp256r1": hashes.SHA256,
    "secp384r1": hashes.SHA384,
    "secp521r1": hashes.SHA512,
}


def read_file(path: Path, what: str) -> bytes:
    """The bytes of a key or certificate file, as a :class:`SignError` if unreadable."""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SignError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def _algorithm(key: ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey, where: str) -> ec.ECDSA:
    hash_type = _HASHES.get(key.curve.name)
    if hash_type is None:
        raise SignError(f"{where}: curve {key.curve.name} is not one of P-256, P-384, P-521")
    return ec.ECDSA(hash_type())


def key_hint(key: ec.EllipticCurvePublicKey) -> str:
    """The bundle's ``publicKey.hint``: hex SHA-256 of the key's PEM SubjectPublicKeyInfo."""
    pem = key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(pem).hexdigest()


def _load_private(path: Path, password: bytes | None) -> ec.EllipticCurvePrivateKey:
    data = read_file(path, "private key")
    try:
        key = serialization.load_pem_private_key(data, password)
    except TypeError as exc:
        hint = "it is encrypted; set RAMPARTS_KEY_PASSWORD" if password is None else str(exc)
        raise SignError(f"cannot load private key {path}: {hint}") from exc
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignError(
            f"cannot load private key {path}: not a PEM private key, or wrong password"
        ) from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise SignError(f"{path}: model signatures use elliptic-curve keys (P-256, P-384, P-521)")
    _algorithm(key, str(path))
    return key


class KeySigner:
    """Signs with a PEM elliptic-curve private key (optionally password-protected)."""

    def __init__(self, private_key: Path, *, password: bytes | None = None) -> None:
        self._key = _load_private(private_key, password)
        self._algorithm = _algorithm(self._key, str(private_key))

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half of the signing key."""
        return self._key.public_key()

    def sign(self, message: bytes) -> bytes:
        """DER-encoded ECDSA signature over ``message``."""
        return self._key.sign(message, self._algorithm)

    def verification_material(self) -> dict[str, object]:
        """``publicKey.hint`` naming this key; no transparency-log entry."""
        return {"publicKey": {"hint": key_hint(self._key.public_key())}, "tlogEntries": []}


def verify_ecdsa(key: Any, message: bytes, signature: bytes, where: str) -> None:
    """Check an ECDSA signature with the hash of the key's curve; raise if it fails."""
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise VerificationError(f"{where} is not an elliptic-curve key")
    try:
        key.verify(signature, message, _algorithm(key, where))
    except InvalidSignature as exc:
        raise VerificationError(f"the signature does not verify with {where}") from exc


class KeyVerifier(EnvelopeVerifier):
    """Checks a key-signed bundle against one trusted public key."""

    def __init__(self, public_key: Path) -> None:
        data = read_file(public_key, "public key")
        try:
            key = serialization.load_pem_public_key(data)
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise SignError(f"cannot load public key {public_key}: not a PEM public key") from exc
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise SignError(f"{public_key}: model signatures use elliptic-curve keys")
        _algorithm(key, str(public_key))
        self._key = key
        self._name = f"the key {public_key.name}"

    def verify(self, message: bytes, signature: bytes, material: dict[str, object]) -> None:
        """Check the key hint (when the bundle has one) and the signature."""
        if "certificate" in material:
            raise VerificationError(
                "the model was signed with Sigstore; verify with --sigstore-identity and "
                "--sigstore-issuer"
            )
        if "x509CertificateChain" in material:
            raise VerificationError(
                "the model was signed with a certificate; verify with --certificate-chain"
            )
        public = material.get("publicKey")
        hint = public.get("hint") if isinstance(public, dict) else None
        if hint and hint != key_hint(self._key):
            raise VerificationError(f"the model was signed by another key than {self._name}")
        verify_ecdsa(self._key, message, signature, self._name)


def generate_key(private_path: Path, public_path: Path, curve: str = "p256") -> str:
    """Write a new key pair (private key mode 0600); return the public key's hint."""
    key = ec.generate_private_key(CURVES[curve]())
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        write_secret_file(private_path, private)
        public_path.write_bytes(public)
    except FileExistsError as exc:
        raise SignError(f"{private_path} exists; refusing to overwrite a key") from exc
    except OSError as exc:
        raise SignError(f"cannot write {exc.filename}: {exc.strerror or exc}") from exc
    return key_hint(key.public_key())
