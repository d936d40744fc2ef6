"""Sigstore bundles (v0.3 written; v0.1-v0.3 read) holding one DSSE envelope.

``verificationMaterial`` says how to check the signature: ``publicKey.hint`` for the
key method, ``x509CertificateChain`` for the certificate method, a Fulcio certificate
and transparency-log entries for Sigstore keyless signing.
"""

from __future__ import annotations

import abc
import json
from typing import Any

from ramparts.core.records import field, record
from ramparts.sign.dsse import Envelope
from ramparts.sign.interface import SignError, VerificationError

__all__ = ["BUNDLE_MEDIA_TYPE", "Bundle", "EnvelopeVerifier"]

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
_READABLE = (
    BUNDLE_MEDIA_TYPE,
    "application/vnd.dev.sigstore.bundle+json;version=0.3",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
)
MAX_BUNDLE_BYTES = 64 << 20
"""A signature file larger than this is refused before it is parsed."""


@record
class Bundle:
    """A parsed bundle: the envelope and the material that says how to verify it."""

    envelope: Envelope
    material: dict[str, Any]
    media_type: str = BUNDLE_MEDIA_TYPE
    raw: bytes = field(default=b"", compare=False, repr=False)
    """The bundle as read, for verifiers that parse it themselves (Sigstore)."""

    def to_bytes(self) -> bytes:
        """The bundle as JSON, as ``model_signing`` and cosign read it."""
        if self.raw:
            return self.raw
        data = {
            "mediaType": self.media_type,
            "verificationMaterial": self.material,
            "dsseEnvelope": self.envelope.to_json(),
        }
        return json.dumps(data, indent=2).encode("utf-8") + b"\n"

    @classmethod
    def from_bytes(cls, data: bytes) -> Bundle:
        """Parse a bundle, refusing anything but a DSSE bundle of a known version."""
        if len(data) > MAX_BUNDLE_BYTES:
            raise SignError(f"the signature file is larger than {MAX_BUNDLE_BYTES >> 20} MiB")
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SignError("the signature file is not a Sigstore bundle (not JSON)") from exc
        if not isinstance(doc, dict):
            raise SignError("the signature file is not a Sigstore bundle")
        media_type = doc.get("mediaType")
        if media_type not in _READABLE:
            raise SignError(
                f"the signature file is not a Sigstore bundle (media type {media_type!r})"
            )
        material = doc.get("verificationMaterial")
        if not isinstance(material, dict):
            raise SignError("the Sigstore bundle has no verificationMaterial")
        if "dsseEnvelope" not in doc:
            raise SignError("the Sigstore bundle signs a message, not a model statement")
        return cls(Envelope.from_json(doc["dsseEnvelope"]), material, media_type, data)


class EnvelopeVerifier(abc.ABC):
    """A verifier that checks the envelope's one signature against the bundle's material."""

    def verify_bundle(self, bundle: Bundle) -> bytes:
        """The payload, once its one signature verifies; raise :class:`VerificationError`."""
        signatures = bundle.envelope.signatures
        if len(signatures) != 1:
            raise VerificationError(f"a bundle holds one signature, this one has {len(signatures)}")
        self.verify(bundle.envelope.message(), signatures[0][1], bundle.material)
        return bundle.envelope.payload

    @abc.abstractmethod
    def verify(self, message: bytes, signature: bytes, material: dict[str, object]) -> None:
        """Return only when ``signature`` over ``message`` is good and trusted."""
