"""Redaction operators: what replaces a sensitive value in a sanitised copy.

| operator | result | reversible | joinable across runs |
|---|---|---|---|
| ``redact`` | ``[REDACTED:email]`` | no | no |
| ``mask`` | ``***@northwind.io``, ``**** **** **** 7117`` | no | no |
| ``hash`` | ``hash:email:3f9a...`` (keyed HMAC-SHA-256) | no | with the same key |
| ``tokenize`` | ``tok:email:...`` (AES-SIV, deterministic) | with the key | with the same key |
| ``encrypt`` | ``enc:email:...`` (AES-GCM, random nonce) | with the key | no |

One 256-bit key (from the key store) yields a separate subkey per operator (HKDF), so
a hash never reveals a token's key. Tokens and ciphertexts carry the value's kind as
associated data: a token moved to another kind does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence

from ramparts.privacy.interface import Detection, PrivacyError

__all__ = ["OPERATORS", "Redactor"]

OPERATORS = ("redact", "mask", "hash", "tokenize", "encrypt")
_KEYED = frozenset({"hash", "tokenize", "encrypt"})
_TOKEN = re.compile(r"\b(tok|enc):([a-z0-9-]{2,40}):([A-Za-z0-9_-]{16,})")
_NONCE = 12


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _subkey(key: bytes, purpose: str, length: int) -> bytes:
    from cryptography.hazmat.primitives import hashes  # noqa: PLC0415 (start-up time)
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: PLC0415

    info = f"ramparts {purpose} v1".encode()
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=info).derive(key)


def _mask(det: Detection) -> str:
    value = det.value
    if det.kind == "email" and "@" in value:
        return "***@" + value.rsplit("@", 1)[1]
    keep = 4 if sum(c.isalnum() for c in value) > 8 else 0
    out, seen = [], 0
    for ch in reversed(value):
        if ch.isalnum():
            seen += 1
            out.append(ch if seen <= keep else "*")
        else:
            out.append(ch)
    return "".join(reversed(out))


class Redactor:
    """Replaces detections in a text with the operator chosen for their kind."""

    def __init__(
        self,
        *,
        operators: Mapping[str, str] | None = None,  # kind or category ("pii", "secret")
        default: str = "redact",
        key: bytes | None = None,
    ) -> None:
        self._operators = dict(operators or {})
        self._default = default
        for op in (*self._operators.values(), default):
            if op not in OPERATORS:
                raise PrivacyError(f"unknown operator {op!r} (choose from {', '.join(OPERATORS)})")
            if op in _KEYED and key is None:
                raise PrivacyError(f"operator {op!r} needs a key (--key NAME)")
        self._key = key
        self._cache: dict[str, bytes] = {}

    def _k(self, purpose: str, length: int) -> bytes:
        if self._key is None:  # checked in __init__; kept for the type checker
            raise PrivacyError("this operator needs a key")
        if purpose not in self._cache:
            self._cache[purpose] = _subkey(self._key, purpose, length)
        return self._cache[purpose]

    def replacement(self, det: Detection) -> str:
        """The text that stands for ``det.value`` in the sanitised copy."""
        op = (
            self._operators.get(det.kind)
            or self._operators.get(det.category.value)
            or self._default
        )
        if op == "redact":
            return f"[REDACTED:{det.kind}]"
        if op == "mask":
            return _mask(det)
        if op == "hash":
            mac = hmac.new(self._k("hash", 32), f"{det.kind}\0{det.value}".encode(), hashlib.sha256)
            return f"hash:{det.kind}:{mac.hexdigest()[:24]}"
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV  # noqa: PLC0415

        if op == "tokenize":
            sealed = AESSIV(self._k("tokenize", 64)).encrypt(
                det.value.encode(), [det.kind.encode()]
            )
            return f"tok:{det.kind}:{_b64(sealed)}"
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self._k("encrypt", 32)).encrypt(
            nonce, det.value.encode(), det.kind.encode()
        )
        return f"enc:{det.kind}:{_b64(nonce + sealed)}"

    def apply(self, text: str, detections: Sequence[Detection]) -> str:
        """``text`` with every detection replaced (overlaps keep the earlier one)."""
        pieces: list[str] = []
        pos = 0
        for det in sorted(detections, key=lambda d: (d.start, -d.end)):
            if det.start < pos:
                continue
            pieces.append(text[pos : det.start])
            pieces.append(self.replacement(det))
            pos = det.end
        pieces.append(text[pos:])
        return "".join(pieces)

    def reverse(self, text: str) -> tuple[str, int]:
        """``text`` with tokens and ciphertexts restored, and how many; a token this
        key did not make raises PrivacyError (nothing is guessed)."""
        from cryptography.exceptions import InvalidTag  # noqa: PLC0415
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM, AESSIV  # noqa: PLC0415

        count = 0

        def restore(m: re.Match[str]) -> str:
            nonlocal count
            op, kind, body = m.group(1), m.group(2), m.group(3)
            try:
                data = _unb64(body)
                if op == "tok":
                    plain = AESSIV(self._k("tokenize", 64)).decrypt(data, [kind.encode()])
                else:
                    aead = AESGCM(self._k("encrypt", 32))
                    plain = aead.decrypt(data[:_NONCE], data[_NONCE:], kind.encode())
            except (InvalidTag, ValueError, binascii.Error) as exc:
                raise PrivacyError(
                    f"cannot reverse {op}:{kind}:{body[:8]}...: wrong key or damaged token"
                ) from exc
            count += 1
            return plain.decode("utf-8", errors="replace")

        return _TOKEN.sub(restore, text), count
