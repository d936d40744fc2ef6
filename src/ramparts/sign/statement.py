"""The in-toto Statement v1 that OpenSSF Model Signing v1.0 signs, both ways.

::

    {"_type": "https://in-toto.io/Statement/v1",
     "subject": [{"name": MODEL, "digest": {"sha256": ROOT}}],
     "predicateType": "https://model_signing/signature/v1.0",
     "predicate": {"serialization": {...}, "resources": [{name, algorithm, digest}]}}

``ROOT`` is SHA-256 over the raw resource digests in name order; a statement whose
root does not match its resources is refused before any file is read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ramparts.sign.interface import Manifest, Resource, Serialization, SignError

__all__ = ["OMS_PREDICATE_TYPE", "STATEMENT_TYPE", "manifest_from_statement", "statement_bytes"]

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
OMS_PREDICATE_TYPE = "https://model_signing/signature/v1.0"
_LEGACY_PREDICATE_TYPE = "https://model_signing/Digests/v0.1"
_HEX = re.compile(r"[0-9a-f]{32,256}")


def statement_bytes(manifest: Manifest) -> bytes:
    """The statement for ``manifest`` as compact, key-sorted UTF-8 JSON."""
    ser = manifest.serialization
    serialization: dict[str, Any] = {
        "method": ser.method,
        "hash_type": ser.hash_type,
        "allow_symlinks": ser.allow_symlinks,
        "ignore_paths": sorted(ser.ignore_paths),
    }
    if ser.shard_size is not None:
        serialization["shard_size"] = ser.shard_size
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": manifest.model_name, "digest": {"sha256": manifest.root_digest}}],
        "predicateType": OMS_PREDICATE_TYPE,
        "predicate": {
            "serialization": serialization,
            "resources": [
                {"name": r.name, "algorithm": r.algorithm, "digest": r.digest}
                for r in manifest.resources
            ],
        },
    }
    return json.dumps(statement, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _get(obj: object, key: str, kind: type, where: str) -> Any:
    value = obj.get(key) if isinstance(obj, dict) else None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SignError(f"the signed statement's {where}{key} is missing or not a {kind.__name__}")
    return value


def _serialization(data: object) -> Serialization:
    method = _get(data, "method", str, "serialization.")
    shard_size = None
    if method == "shards":
        raw = _get(data, "shard_size", (int, float), "serialization.")  # type: ignore[arg-type]
        if raw != int(raw):
            raise SignError("the signed statement's shard_size is not a whole number")
        shard_size = int(raw)
    ignores = data.get("ignore_paths", []) if isinstance(data, dict) else []
    if not isinstance(ignores, list) or not all(isinstance(p, str) for p in ignores):
        raise SignError("the signed statement's serialization.ignore_paths is not a list of paths")
    return Serialization(
        method=method,
        hash_type=_get(data, "hash_type", str, "serialization."),
        allow_symlinks=_get(data, "allow_symlinks", bool, "serialization."),
        shard_size=shard_size,
        ignore_paths=tuple(ignores),
    )


def _resource(item: object) -> Resource:
    name = _get(item, "name", str, "resource ")
    digest = _get(item, "digest", str, "resource ")
    parts = name.rsplit(":", 2)[0].split("/")
    if not name or name.startswith("/") or ".." in parts:
        raise SignError(f"the signed statement names an unsafe path {name!r}")
    if not _HEX.fullmatch(digest):
        raise SignError(f"the signed statement's digest of {name!r} is not lowercase hex")
    return Resource(name, _get(item, "algorithm", str, "resource "), digest)


def manifest_from_statement(payload: bytes) -> Manifest:
    """Parse and check a signed OMS statement into the manifest it commits to."""
    try:
        data = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SignError("the signed payload is not JSON") from exc
    if _get(data, "_type", str, "") != STATEMENT_TYPE:
        raise SignError(f"the signed payload is not an in-toto Statement v1 ({data['_type']!r})")
    predicate_type = _get(data, "predicateType", str, "")
    if predicate_type == _LEGACY_PREDICATE_TYPE:
        raise SignError("the signature uses the pre-1.0 model_signing format; sign again")
    if predicate_type != OMS_PREDICATE_TYPE:
        raise SignError(f"the signed statement is not a model signature ({predicate_type!r})")
    subjects = _get(data, "subject", list, "")
    if len(subjects) != 1:
        raise SignError(f"a model signature has one subject, this one has {len(subjects)}")
    name = _get(subjects[0], "name", str, "subject ")
    root = _get(_get(subjects[0], "digest", dict, "subject "), "sha256", str, "subject digest ")
    predicate = _get(data, "predicate", dict, "")
    items = _get(predicate, "resources", list, "predicate.")
    serialization = _serialization(_get(predicate, "serialization", dict, "predicate."))
    manifest = Manifest(name, serialization, tuple(_resource(r) for r in items))
    if manifest.root_digest != root:
        raise SignError(
            "the signed statement is inconsistent: its resources do not hash to its subject digest"
        )
    return manifest
