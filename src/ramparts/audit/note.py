"""C2SP checkpoints in the signed-note format, signed with Ed25519.

A checkpoint's body is ``origin\\nsize\\nbase64(root)\\n``; the note adds a blank line
and one signature line per signer: ``— NAME base64(key ID || signature)``, where the
4-byte key ID is the first bytes of SHA-256(NAME || 0x0A || 0x01 || public key) and the
signature covers the body bytes. The verifier key is written
``NAME+hex(key ID)+base64(0x01 || public key)`` (a "vkey").
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ramparts.audit.interface import Checkpoint, LogIntegrityError
from ramparts.core.files import write_secret_file
from ramparts.errors import ConfigError

__all__ = ["NoteSigner", "NoteVerifier", "checkpoint_body", "parse_checkpoint"]

_ED25519 = b"\x01"
_DASH = "\u2014 "


def _key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode("utf-8") + b"\n" + _ED25519 + public).digest()[:4]


def checkpoint_body(origin: str, size: int, root: bytes) -> str:
    """The checkpoint text that is signed."""
    return f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n"


class NoteSigner:
    """Signs checkpoints with an Ed25519 key kept in a PEM file (created 0600 if absent)."""

    def __init__(self, name: str, key_file: Path, *, create: bool = True) -> None:
        if not name or any(c.isspace() or c == "+" for c in name):
            raise ConfigError(
                f"checkpoint origin {name!r} must be non-empty, without spaces or '+'"
            )
        self.name = name
        self._key = _load_or_create(key_file, create)
        public = self._key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self._public = public
        self._id = _key_id(name, public)

    @property
    def vkey(self) -> str:
        """The verifier key of this signer."""
        encoded = base64.b64encode(_ED25519 + self._public).decode()
        return f"{self.name}+{self._id.hex()}+{encoded}"

    def sign(self, size: int, root: bytes) -> Checkpoint:
        """A signed checkpoint of the tree of ``size`` leaves with ``root``."""
        body = checkpoint_body(self.name, size, root)
        sig = self._key.sign(body.encode("utf-8"))
        line = f"{_DASH}{self.name} {base64.b64encode(self._id + sig).decode()}\n"
        return Checkpoint(size, root, body + "\n" + line)


def _load_or_create(path: Path, create: bool) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except FileNotFoundError:
        if not create:
            raise ConfigError(f"no checkpoint signing key at {path}") from None
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        try:
            write_secret_file(path, pem)
        except OSError as exc:
            raise ConfigError(
                f"cannot write the checkpoint key {path}: {exc.strerror or exc}"
            ) from exc
        return key
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the checkpoint key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"{path} is not an Ed25519 private key")
    return key


class NoteVerifier:
    """Checks checkpoints against one verifier key (``NAME+KEYID+BASE64``)."""

    def __init__(self, vkey: str) -> None:
        name, key_id, public = _decode_vkey(vkey)
        if key_id != _key_id(name, public):
            raise ConfigError("the verifier key's ID does not match its name and key")
        self._key = Ed25519PublicKey.from_public_bytes(public)
        self._id = key_id
        self.name = name

    def verify(self, note: str) -> Checkpoint:
        """The checkpoint in ``note`` once its signature by this key verifies."""
        body, sep, signatures = note.rpartition("\n\n")
        if not sep:
            raise LogIntegrityError("a checkpoint is not a signed note")
        body += "\n"
        for line in signatures.splitlines():
            if not line.startswith(_DASH):
                continue
            name, _, blob = line[len(_DASH) :].partition(" ")
            try:
                raw = base64.b64decode(blob, validate=True)
            except binascii.Error:
                continue
            if name != self.name or raw[:4] != self._id:
                continue
            try:
                self._key.verify(raw[4:], body.encode("utf-8"))
            except InvalidSignature:
                raise LogIntegrityError("a checkpoint's signature does not verify") from None
            return parse_checkpoint(body, self.name, note)
        raise LogIntegrityError(f"a checkpoint carries no signature by {self.name}")


def _decode_vkey(vkey: str) -> tuple[str, bytes, bytes]:
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise ConfigError("not a verifier key (NAME+KEYID+BASE64)")
    name, key_id, encoded = parts
    try:
        raw = base64.b64decode(encoded, validate=True)
        ident = bytes.fromhex(key_id)
    except (ValueError, binascii.Error) as exc:
        raise ConfigError(f"not a verifier key (NAME+KEYID+BASE64): {exc}") from exc
    if raw[:1] != _ED25519 or len(raw) != 33:
        raise ConfigError("the verifier key is not an Ed25519 key")
    return name, ident, raw[1:]


def parse_checkpoint(body: str, origin: str, note: str) -> Checkpoint:
    """The size and root of a checkpoint body for ``origin``."""
    lines = body.split("\n")
    if len(lines) < 4 or lines[0] != origin:
        raise LogIntegrityError(f"a checkpoint is not for the log {origin!r}")
    try:
        size = int(lines[1])
        root = base64.b64decode(lines[2], validate=True)
    except (ValueError, binascii.Error) as exc:
        raise LogIntegrityError("a checkpoint's size or root is malformed") from exc
    if size < 0 or len(root) != 32:
        raise LogIntegrityError("a checkpoint's size or root is malformed")
    return Checkpoint(size, root, note)
