"""Audit events as canonical JSON, with personal fields sealed per subject.

The canonical form is JSON with sorted keys, no whitespace, UTF-8 and no floats that
JSON cannot state (NaN, infinities); the same event always gives the same bytes, and
those bytes are what the RFC 6962 leaf hash commits to.

When an event names a data subject (``details.subject``), its personal fields (by
default ``prompt``, ``response`` and ``user``) are sealed: each is replaced in the
committed JSON by ``{"sealed": "sha256:H"}`` with ``H = SHA-256(salt || value)`` for a
random 16-byte salt, and the values with their salts are encrypted (AES-256-GCM, the
committed JSON as associated data) under the subject's data key. Destroying that key
(erasure) leaves the commitment verifiable and the values unreadable; without the
salt, the commitment says nothing about a guessable value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.audit.interface import LogIntegrityError
from ramparts.core.interface import Event

__all__ = ["SEALED_FIELDS", "canonical", "event_document", "seal", "unseal"]

SEALED_FIELDS = ("prompt", "response", "user")
_NONCE = 12


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _unencodable(value: object) -> object:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)
_ENCODE = (
    None
    if _MAKE_ENCODER is None
    else _MAKE_ENCODER(
        None, _unencodable, json.encoder.encode_basestring, None, ":", ",", True, False, False
    )
)
"""The C encoder behind ``_CANONICAL`` (the same arguments: sorted keys, no whitespace,
no ASCII escaping, no NaN), made once. ``JSONEncoder.encode`` makes a new one on every
call, which cost more than half of encoding a typical event. It keeps no state between
calls (no record of the containers being encoded: a circular value ends in a
RecursionError instead), so every thread can share it."""


def canonical(value: object) -> bytes:
    """The canonical JSON bytes of ``value``; TypeError or ValueError if it has none."""
    if _ENCODE is None:  # pragma: no cover - an interpreter without the C accelerator
        return _CANONICAL.encode(value).encode("utf-8")
    try:
        return "".join(_ENCODE(value, 0)).encode("utf-8")
    except RecursionError as exc:
        raise ValueError("the value is nested too deeply (or circular) for JSON") from exc


def event_document(event: Event) -> dict[str, Any]:
    """The event as the JSON object the log stores."""
    return {
        "actor": event.actor,
        "action": event.action,
        "resource": event.resource,
        "outcome": event.outcome.value,
        "reason": event.reason,
        "request_id": event.request_id,
        "time": event.time.isoformat().replace("+00:00", "Z"),
        "details": dict(event.details),
    }


def seal(
    document: dict[str, Any], key: bytes, fields: Iterable[str] = SEALED_FIELDS
) -> tuple[bytes, bytes | None]:
    """The committed JSON bytes and the sealed blob (None if no field needed sealing)."""
    details = dict(document.get("details", {}))
    secret: dict[str, Any] = {}
    for name in fields:
        if name in details:
            salt = os.urandom(16)
            value = details[name]
            digest = hashlib.sha256(salt + canonical(value)).hexdigest()
            details[name] = {"sealed": f"sha256:{digest}"}
            secret[name] = {"salt": base64.b64encode(salt).decode(), "value": value}
    committed = canonical({**document, "details": details})
    if not secret:
        return committed, None
    nonce = os.urandom(_NONCE)
    return committed, nonce + AESGCM(key).encrypt(nonce, canonical(secret), committed)


def unseal(committed: bytes, sealed: bytes, key: bytes) -> dict[str, Any]:
    """The sealed fields' values, each checked against the commitment in the event."""
    try:
        plain = AESGCM(key).decrypt(sealed[:_NONCE], sealed[_NONCE:], committed)
        secret: Mapping[str, Any] = json.loads(plain)
        details = json.loads(committed)["details"]
    except (InvalidTag, ValueError, KeyError, TypeError) as exc:
        raise LogIntegrityError("sealed fields do not open with the subject's key") from exc
    values: dict[str, Any] = {}
    for name, item in secret.items():
        salt = base64.b64decode(item["salt"])
        digest = "sha256:" + hashlib.sha256(salt + canonical(item["value"])).hexdigest()
        claimed = details.get(name, {}).get("sealed", "")
        if not hmac.compare_digest(digest, claimed):
            raise LogIntegrityError(f"sealed field {name!r} does not match its commitment")
        values[name] = item["value"]
    return values
