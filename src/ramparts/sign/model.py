"""Sign a model into an OpenSSF Model Signing bundle, and verify one.

Verification never warns and continues: it returns only when the signature verifies
with the trusted key or root, the statement is consistent, and every file hashed with
the recorded parameters matches; otherwise :class:`VerificationError` names the reason
and each changed, missing and extra file.
"""

from __future__ import annotations

import time
from pathlib import Path

from ramparts.core.records import record
from ramparts.sign.bundle import Bundle
from ramparts.sign.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope
from ramparts.sign.interface import (
    Manifest,
    Serialization,
    Signer,
    SignError,
    VerificationError,
    Verifier,
)
from ramparts.sign.keyless import SigstoreSigner
from ramparts.sign.manifest import Progress, hash_model
from ramparts.sign.statement import manifest_from_statement, statement_bytes

__all__ = ["Signed", "default_signature_path", "sign_model", "verify_model"]


@record
class Signed:
    """What signing or verifying produced: the manifest, the bundle, and time spent hashing."""

    manifest: Manifest
    bundle: Bundle
    hash_seconds: float


def default_signature_path(model: Path) -> Path:
    """``model.sig`` inside a directory, ``NAME.sig`` beside a file."""
    return model / "model.sig" if model.is_dir() else model.with_name(model.name + ".sig")


def _inside(model: Path, signature: Path) -> str | None:
    """The signature's path relative to the model root, when it lies inside it."""
    if not model.is_dir():
        return None
    try:
        return signature.resolve().relative_to(model.resolve()).as_posix()
    except ValueError:
        return None


def sign_model(
    model: Path,
    signer: Signer | SigstoreSigner,
    serialization: Serialization,
    *,
    signature: Path,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Signed:
    """Hash ``model`` and sign its statement; the caller writes ``bundle.to_bytes()``."""
    manifest, seconds = _hash(model, serialization, signature, workers, progress)
    if not manifest.resources:
        raise SignError(f"{model} holds no file to sign")
    payload = statement_bytes(manifest)
    if isinstance(signer, SigstoreSigner):
        bundle = signer.sign_statement(payload)
    else:
        bundle = Bundle(sign_envelope(payload, signer), signer.verification_material())
    return Signed(manifest, bundle, seconds)


def _hash(
    model: Path,
    serialization: Serialization,
    signature: Path,
    workers: int | None,
    progress: Progress | None,
) -> tuple[Manifest, float]:
    """The model's manifest (its own signature file left out) and the seconds hashing took."""
    own = _inside(model, signature)
    if own is not None:
        serialization = serialization.with_ignores([own])
    t0 = time.perf_counter()
    manifest = hash_model(model, serialization, workers=workers, progress=progress)
    return manifest, time.perf_counter() - t0


def verify_model(
    model: Path,
    bundle: Bundle,
    verifier: Verifier,
    *,
    signature: Path,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Signed:
    """Check ``bundle`` with ``verifier`` and ``model`` against it; raise on any mismatch."""
    envelope = bundle.envelope
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE:
        raise VerificationError(
            f"the signed payload is not an in-toto statement ({envelope.payload_type!r})"
        )
    payload = verifier.verify_bundle(bundle)
    try:
        expected = manifest_from_statement(payload)
    except SignError as exc:
        raise VerificationError(str(exc), rule="statement") from exc
    actual, seconds = _hash(model, expected.serialization, signature, workers, progress)
    differences = expected.compare(actual)
    if differences:
        raise VerificationError(
            f"{model} does not match its signature", differences, rule="content"
        )
    return Signed(expected, bundle, seconds)
