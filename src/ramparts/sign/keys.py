"""Elliptic-curve keys and X.509 certificates: the ``key`` and ``certificate`` methods.

The OpenSSF Model Signing v1.0 curves are P-256, P-384 and P-521, each signing with
the SHA-2 hash of its size (ECDSA, DER-encoded signatures). A key-signed bundle
carries ``publicKey.hint``: the hex SHA-256 of the PEM SubjectPublicKeyInfo, checked
against the key the verifier was given. A certificate-signed bundle carries the signing
certificate and its intermediates; the verifier builds a path to one of its trusted
roots, as at the certificate's start of validity, and requires a certificate that may
sign (key usage ``digitalSignature`` or extended key usage ``codeSigning``).
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from ramparts.sign.dsse import b64decode
from ramparts.sign.interface import SignError, VerificationError

__all__ = [
    "CURVES",
    "CertificateSigner",
    "CertificateVerifier",
    "KeySigner",
    "KeyVerifier",
    "generate_key",
    "key_hint",
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


def _read(path: Path, what: str) -> bytes:
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
    data = _read(path, "private key")
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


def _verify_ecdsa(key: Any, message: bytes, signature: bytes, where: str) -> None:
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise VerificationError(f"{where} is not an elliptic-curve key")
    try:
        key.verify(signature, message, _algorithm(key, where))
    except InvalidSignature as exc:
        raise VerificationError(f"the signature does not verify with {where}") from exc


class KeyVerifier:
    """Checks a key-signed bundle against one trusted public key."""

    def __init__(self, public_key: Path) -> None:
        data = _read(public_key, "public key")
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
        if "x509CertificateChain" in material or "certificate" in material:
            raise VerificationError(
                "the model was signed with a certificate; verify with --certificate-chain"
            )
        public = material.get("publicKey")
        hint = public.get("hint") if isinstance(public, dict) else None
        if hint and hint != key_hint(self._key):
            raise VerificationError(f"the model was signed by another key than {self._name}")
        _verify_ecdsa(self._key, message, signature, self._name)


def _load_certificates(paths: Sequence[Path]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in paths:
        try:
            out.extend(x509.load_pem_x509_certificates(_read(path, "certificate")))
        except ValueError as exc:
            raise SignError(f"cannot load certificates from {path}: not PEM certificates") from exc
    return out


class CertificateSigner:
    """Signs with a private key whose certificate (and chain) travel in the bundle."""

    def __init__(
        self,
        private_key: Path,
        certificate: Path,
        chain: Sequence[Path] = (),
        *,
        password: bytes | None = None,
    ) -> None:
        self._signer = KeySigner(private_key, password=password)
        certs = _load_certificates([certificate])
        if not certs:
            raise SignError(f"{certificate} holds no certificate")
        self._chain = [certs[0], *_load_certificates(chain)]
        if certs[0].public_key() != self._signer._key.public_key():
            raise SignError(f"the certificate {certificate} is not for the key {private_key}")

    def sign(self, message: bytes) -> bytes:
        """DER-encoded ECDSA signature over ``message``."""
        return self._signer.sign(message)

    def verification_material(self) -> dict[str, object]:
        """``x509CertificateChain``: the signing certificate first, DER in base64."""
        certs = [
            {"rawBytes": base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()}
            for c in self._chain
        ]
        return {"x509CertificateChain": {"certificates": certs}, "tlogEntries": []}


class CertificateVerifier:
    """Checks a certificate-signed bundle against trusted root certificates."""

    def __init__(self, roots: Sequence[Path]) -> None:
        certs = _load_certificates(roots)
        if not certs:
            raise SignError("no trusted root certificate was given")
        self._store = verification.Store(certs)

    def verify(self, message: bytes, signature: bytes, material: dict[str, object]) -> None:
        """Chain the bundle's certificate to a trusted root, then check the signature."""
        chain = material.get("x509CertificateChain")
        raw = chain.get("certificates") if isinstance(chain, dict) else None
        if not isinstance(raw, list) or not raw:
            raise VerificationError("the signature carries no certificate chain")
        try:
            certs = [
                x509.load_der_x509_certificate(
                    b64decode(c.get("rawBytes") if isinstance(c, dict) else None, "certificate")
                )
                for c in raw
            ]
        except ValueError as exc:
            raise VerificationError("the signature's certificate chain is malformed") from exc
        leaf = certs[0]
        policy = (
            verification.PolicyBuilder()
            .store(self._store)
            .time(leaf.not_valid_before_utc)
            .extension_policies(
                ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=verification.ExtensionPolicy.permit_all(),
            )
        )
        try:
            policy.build_client_verifier().verify(leaf, certs[1:])
        except verification.VerificationError as exc:
            raise VerificationError(f"the signing certificate is not trusted: {exc}") from exc
        _check_signing_usage(leaf)
        _verify_ecdsa(leaf.public_key(), message, signature, "the signing certificate")


def _check_signing_usage(cert: x509.Certificate) -> None:
    try:
        if cert.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature:
            return
    except x509.ExtensionNotFound:
        pass
    try:
        if (
            ExtendedKeyUsageOID.CODE_SIGNING
            in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        ):
            return
    except x509.ExtensionNotFound:
        pass
    raise VerificationError("the signing certificate is not allowed to sign (key usage)")


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
        private_path.parent.mkdir(parents=True, exist_ok=True)
        with open(private_path, "xb", opener=_private_opener) as fh:
            fh.write(private)
        public_path.write_bytes(public)
    except FileExistsError as exc:
        raise SignError(f"{private_path} exists; refusing to overwrite a key") from exc
    except OSError as exc:
        raise SignError(f"cannot write {exc.filename}: {exc.strerror or exc}") from exc
    return key_hint(key.public_key())


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)
