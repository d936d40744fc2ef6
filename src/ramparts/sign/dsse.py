"""DSSE envelopes (v1.0): the pre-authentication encoding and the JSON form.

The signature covers ``PAE(payloadType, payload)``, never the JSON around it, so the
payload type is authenticated and a ``keyid`` is only a hint (it is not trusted).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from ramparts.core.records import record
from ramparts.sign.interface import Signer, SignError

__all__ = ["IN_TOTO_PAYLOAD_TYPE", "Envelope", "pae", "sign_envelope"]

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"


def pae(payload_type: str, payload: bytes) -> bytes:
    """``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`` with ASCII decimal lengths."""
    kind = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)


def b64decode(text: object, what: str) -> bytes:
    """Standard or URL-safe base64 (DSSE allows either), as a :class:`SignError` if bad."""
    if not isinstance(text, str):
        raise SignError(f"the signature's {what} is not a base64 string")
    padded = text + "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SignError(f"the signature's {what} is not valid base64") from exc


@record
class Envelope:
    """A DSSE envelope with one or more ``(keyid, signature)`` pairs."""

    payload: bytes
    payload_type: str
    signatures: tuple[tuple[str, bytes], ...]

    def message(self) -> bytes:
        """The bytes each signature covers."""
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        """The envelope as the Sigstore bundle's ``dsseEnvelope`` member."""
        return {
            "payload": base64.b64encode(self.payload).decode("ascii"),
            "payloadType": self.payload_type,
            "signatures": [
                {"sig": base64.b64encode(sig).decode("ascii"), "keyid": keyid}
                for keyid, sig in self.signatures
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> Envelope:
        """Parse an envelope, refusing any missing or mistyped member."""
        if not isinstance(data, dict):
            raise SignError("the signature holds no DSSE envelope")
        payload_type = data.get("payloadType")
        if not isinstance(payload_type, str):
            raise SignError("the DSSE envelope has no payloadType")
        raw = data.get("signatures")
        if not isinstance(raw, list) or not raw:
            raise SignError("the DSSE envelope holds no signature")
        signatures = []
        for item in raw:
            if not isinstance(item, dict):
                raise SignError("a DSSE signature entry is not an object")
            keyid = item.get("keyid", "")
            signatures.append(
                (keyid if isinstance(keyid, str) else "", b64decode(item.get("sig"), "signature"))
            )
        return cls(b64decode(data.get("payload"), "payload"), payload_type, tuple(signatures))


def sign_envelope(
    payload: bytes, signer: Signer, payload_type: str = IN_TOTO_PAYLOAD_TYPE
) -> Envelope:
    """``payload`` in an envelope signed by ``signer`` (an empty, unauthenticated keyid)."""
    signature = signer.sign(pae(payload_type, payload))
    return Envelope(payload, payload_type, (("", signature),))
