"""X.509 certificates: the ``certificate`` signing method.

A certificate-signed bundle carries the signing certificate and its intermediates
(``x509CertificateChain``, DER in base64, signing certificate first). The verifier
builds a path from it to one of its trusted roots, as at the signing certificate's
start of validity, and requires a certificate that may sign: key usage
``digitalSignature`` or extended key usage ``codeSigning``.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID

from ramparts.sign.bundle import EnvelopeVerifier
from ramparts.sign.dsse import b64decode
from ramparts.sign.interface import SignError, VerificationError
from ramparts.sign.keys import KeySigner, read_file, verify_ecdsa

__all__ = ["CertificateSigner", "CertificateVerifier"]


def _load_certificates(paths: Sequence[Path]) -> list[x509.Certificate]:
    out: list[x509.Certificate] = []
    for path in paths:
        try:
            out.extend(x509.load_pem_x509_certificates(read_file(path, "certificate")))
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


class CertificateVerifier(EnvelopeVerifier):
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
        verify_ecdsa(leaf.public_key(), message, signature, "the signing certificate")


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
