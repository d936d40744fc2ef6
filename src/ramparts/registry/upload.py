"""The push upload: one uncompressed tar that carries the files and what comes with them.

Members: ``push.json`` (the push request's fields), ``artifact/...`` (the file or
folder), and optionally ``signature.json``, ``provenance.jsonl`` and ``bom.json``.
The client writes it with :func:`write_upload`; the service reads it with
:func:`read_upload`, which unpacks with the tar ``data`` filter (no absolute paths,
no ``..``, no links out) into a temporary folder.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ramparts.registry.artifacts import pack
from ramparts.registry.interface import RegistryError
from ramparts.registry.service import PushRequest

__all__ = ["read_upload", "write_upload"]

MAX_MEMBERS = 100_000
"""Files an upload may hold (a bound on inodes as the size limit bounds bytes)."""
_FIELDS = frozenset({
    "name", "kind", "version", "team", "purpose", "classification", "tags", "metrics",
    "datasets", "code_commit", "environment", "builder", "signature_path",
})  # fmt: skip


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def write_upload(
    out: BinaryIO,
    source: Path,
    fields: Mapping[str, Any],
    *,
    signature: bytes | None = None,
    provenance: bytes | None = None,
    bom: bytes | None = None,
    scratch: Path,
) -> None:
    """Write the upload of ``source`` with ``fields`` to ``out``."""
    unknown = set(fields) - _FIELDS
    if unknown:
        raise RegistryError(f"unknown push field(s): {', '.join(sorted(unknown))}")
    packed = scratch / "artifact.tar"
    pack(source, packed)
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "push.json", json.dumps(dict(fields), sort_keys=True).encode())
        for name, data in (
            ("signature.json", signature),
            ("provenance.jsonl", provenance),
            ("bom.json", bom),
        ):
            if data is not None:
                _add_bytes(tar, name, data)
        prefix = "artifact/" if source.is_dir() else "artifact-file/"
        with tarfile.open(packed) as inner:
            for member in inner:
                handle = inner.extractfile(member) if member.isfile() else None
                if handle is not None:
                    member.name = prefix + member.name
                    tar.addfile(member, handle)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _unpack(upload: Path, into: Path) -> None:
    try:
        with tarfile.open(upload) as tar:
            members = []
            for member in tar:
                members.append(member)
                if len(members) > MAX_MEMBERS:
                    raise RegistryError(f"the upload holds more than {MAX_MEMBERS} files")
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, OSError) as exc:
        raise RegistryError(f"the upload is not a valid push archive: {exc}") from exc


def read_upload(upload: Path, into: Path) -> tuple[Path, PushRequest]:
    """Unpack ``upload`` into the folder ``into``; the artifact's path and the request."""
    _unpack(upload, into)
    try:
        fields = json.loads((into / "push.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError("the upload has no readable push.json") from exc
    if not isinstance(fields, dict) or set(fields) - _FIELDS:
        raise RegistryError("push.json must be an object of known push fields")
    for key, kind in (("tags", dict), ("metrics", dict), ("datasets", list)):
        if key in fields and not isinstance(fields[key], kind):
            raise RegistryError(f"push.json: {key} must be a JSON {kind.__name__}")
    files = into / "artifact-file"
    if files.is_dir():
        # A single file was pushed: artifact-file/ holds exactly that file.
        entries = list(files.iterdir())
        if len(entries) != 1 or not entries[0].is_file():
            raise RegistryError("the upload's artifact-file/ must hold exactly one file")
        artifact = source = entries[0]
    else:
        artifact = source = into / "artifact"
        if not artifact.is_dir():
            raise RegistryError("the upload holds no artifact")
    signature_path = fields.pop("signature_path", None)
    signature_file = None
    if signature_path is not None:
        signature_file = (artifact / str(signature_path)).resolve()
        if not signature_file.is_relative_to(artifact.resolve()):
            raise RegistryError("signature_path must lie inside the artifact")
    try:
        request = PushRequest(
            **fields,
            signature=_read(into / "signature.json"),
            signature_file=signature_file,
            provenance=_read(into / "provenance.jsonl"),
            bom=_read(into / "bom.json"),
        )
    except TypeError as exc:
        raise RegistryError(f"push.json has a field of the wrong type: {exc}") from exc
    return source, request
