"""Signing and verifying models: DSSE, statements, keys and certificate chains."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ramparts.sign.bundle import Bundle
from ramparts.sign.certificates import CertificateSigner, CertificateVerifier
from ramparts.sign.dsse import pae
from ramparts.sign.interface import Serialization, SignError, VerificationError
from ramparts.sign.keys import KeySigner, KeyVerifier, generate_key
from ramparts.sign.manifest import hash_model
from ramparts.sign.model import default_signature_path, sign_model, verify_model
from ramparts.sign.statement import manifest_from_statement, statement_bytes


def test_pae_matches_the_dsse_specification_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "classifier"
    root.mkdir()
    (root / "model.safetensors").write_bytes(b"\x08" * 4096)
    (root / "config.json").write_bytes(b'{"arch": "bert"}')
    return root


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    private, public = tmp_path / "k.pem", tmp_path / "k.pub.pem"
    generate_key(private, public)
    return private, public


def _sign(model: Path, private: Path, **kw: object) -> Path:
    sig = default_signature_path(model)
    signed = sign_model(model, KeySigner(private), Serialization(**kw), signature=sig)  # type: ignore[arg-type]
    sig.write_bytes(signed.bundle.to_bytes())
    return sig


def _verify(model: Path, public: Path, sig: Path | None = None) -> None:
    sig = sig or default_signature_path(model)
    verify_model(model, Bundle.from_bytes(sig.read_bytes()), KeyVerifier(public), signature=sig)


@pytest.mark.parametrize("curve", ["p256", "p384", "p521"])
def test_round_trip_on_every_curve(model: Path, tmp_path: Path, curve: str) -> None:
    private, public = tmp_path / f"{curve}.pem", tmp_path / f"{curve}.pub.pem"
    generate_key(private, public, curve)
    sig = _sign(model, private)
    assert sig == model / "model.sig"
    _verify(model, public)


def test_bundle_is_a_sigstore_v03_dsse_bundle(model: Path, keys: tuple[Path, Path]) -> None:
    doc = json.loads(_sign(model, keys[0]).read_text())
    assert doc["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert doc["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"
    assert len(doc["verificationMaterial"]["publicKey"]["hint"]) == 64
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    assert statement["predicateType"] == "https://model_signing/signature/v1.0"
    assert statement["subject"][0]["name"] == "classifier"
    # the signature file inside the model folder is left out, and recorded as such
    assert "model.sig" in statement["predicate"]["serialization"]["ignore_paths"]
    names = [r["name"] for r in statement["predicate"]["resources"]]
    assert names == ["config.json", "model.safetensors"]


def test_shards_and_blake3_round_trip(model: Path, keys: tuple[Path, Path]) -> None:
    _sign(model, keys[0], method="shards", shard_size=1000, hash_type="blake3")
    _verify(model, keys[1])


def test_changed_byte_added_and_removed_files_are_named(
    model: Path, keys: tuple[Path, Path]
) -> None:
    _sign(model, keys[0])
    data = bytearray((model / "model.safetensors").read_bytes())
    data[100] ^= 1
    (model / "model.safetensors").write_bytes(bytes(data))
    (model / "config.json").unlink()
    (model / "loader.py").write_text("import os")
    with pytest.raises(VerificationError) as err:
        _verify(model, keys[1])
    assert [str(d).split(":")[0] for d in err.value.differences] == [
        "config.json",
        "loader.py",
        "model.safetensors",
    ]
    assert "content changed" in str(err.value.differences[2])


def test_wrong_key_is_refused(model: Path, keys: tuple[Path, Path], tmp_path: Path) -> None:
    _sign(model, keys[0])
    other, other_pub = tmp_path / "o.pem", tmp_path / "o.pub.pem"
    generate_key(other, other_pub)
    with pytest.raises(VerificationError, match="signed by another key"):
        _verify(model, other_pub)


def _rewrite(sig: Path, edit: object) -> None:
    doc = json.loads(sig.read_text())
    edit(doc)  # type: ignore[operator]
    sig.write_text(json.dumps(doc))


def test_forged_payload_is_refused(model: Path, keys: tuple[Path, Path]) -> None:
    sig = _sign(model, keys[0])
    (model / "config.json").write_bytes(b'{"arch": "evil"}')
    forged = hash_model(model, Serialization().with_ignores(["model.sig"]))

    def swap(doc: dict[str, dict[str, str]]) -> None:
        doc["dsseEnvelope"]["payload"] = base64.b64encode(statement_bytes(forged)).decode()

    _rewrite(sig, swap)
    with pytest.raises(VerificationError, match="does not verify"):
        _verify(model, keys[1])


def test_hint_removed_still_needs_the_right_key(
    model: Path, keys: tuple[Path, Path], tmp_path: Path
) -> None:
    sig = _sign(model, keys[0])
    _rewrite(sig, lambda doc: doc["verificationMaterial"].pop("publicKey"))
    _verify(model, keys[1])
    other, other_pub = tmp_path / "o.pem", tmp_path / "o.pub.pem"
    generate_key(other, other_pub)
    with pytest.raises(VerificationError, match="does not verify"):
        _verify(model, other_pub)


def test_inconsistent_statement_is_refused() -> None:
    manifest = hash_model(Path(__file__), Serialization())
    doc = json.loads(statement_bytes(manifest))
    doc["subject"][0]["digest"]["sha256"] = "0" * 64
    with pytest.raises(SignError, match="inconsistent"):
        manifest_from_statement(json.dumps(doc).encode())
    doc = json.loads(statement_bytes(manifest))
    doc["predicate"]["resources"][0]["name"] = "../etc/passwd"
    with pytest.raises(SignError, match="unsafe path"):
        manifest_from_statement(json.dumps(doc).encode())


_BUNDLE_HEAD = (
    b'{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "verificationMaterial": {}, '
)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xff", "not JSON"),
        (b"[]", "not a Sigstore bundle"),
        (b'{"mediaType": "x"}', "media type"),
        (_BUNDLE_HEAD + b'"messageSignature": {}}', "signs a message"),
        (
            _BUNDLE_HEAD + b'"dsseEnvelope": {"payloadType": "t", "payload": "!!",'
            b' "signatures": [{"sig": "AA=="}]}}',
            "not valid base64",
        ),
    ],
)
def test_malformed_bundles_are_refused(data: bytes, message: str) -> None:
    with pytest.raises(SignError, match=message):
        Bundle.from_bytes(data)


# -- certificate method -------------------------------------------------------------


def _sign_cert(model: Path, key: Path, cert: Path, chain: list[Path]) -> Path:
    sig = default_signature_path(model)
    signer = CertificateSigner(key, cert, chain)
    sig.write_bytes(sign_model(model, signer, Serialization(), signature=sig).bundle.to_bytes())
    return sig


def test_certificate_chain_round_trip(model: Path, pki: dict[str, Path]) -> None:
    sig = _sign_cert(model, pki["leaf_key"], pki["leaf"], [pki["mid"]])
    bundle = Bundle.from_bytes(sig.read_bytes())
    assert len(bundle.material["x509CertificateChain"]["certificates"]) == 2
    verify_model(model, bundle, CertificateVerifier([pki["root"]]), signature=sig)


def test_certificate_from_another_root_is_refused(model: Path, pki: dict[str, Path]) -> None:
    sig = _sign_cert(model, pki["leaf_key"], pki["leaf"], [pki["mid"]])
    bundle = Bundle.from_bytes(sig.read_bytes())
    with pytest.raises(VerificationError, match="not trusted"):
        verify_model(model, bundle, CertificateVerifier([pki["other_root"]]), signature=sig)


def test_certificate_that_may_not_sign_is_refused(model: Path, pki: dict[str, Path]) -> None:
    sig = _sign_cert(model, pki["nosign_key"], pki["nosign"], [pki["mid"]])
    bundle = Bundle.from_bytes(sig.read_bytes())
    with pytest.raises(VerificationError, match="not allowed to sign"):
        verify_model(model, bundle, CertificateVerifier([pki["root"]]), signature=sig)


def test_certificate_must_belong_to_the_key(pki: dict[str, Path]) -> None:
    with pytest.raises(SignError, match="is not for the key"):
        CertificateSigner(pki["nosign_key"], pki["leaf"])


def test_key_verifier_refuses_certificate_bundles(
    model: Path, pki: dict[str, Path], keys: tuple[Path, Path]
) -> None:
    sig = _sign_cert(model, pki["leaf_key"], pki["leaf"], [pki["mid"]])
    with pytest.raises(VerificationError, match="signed with a certificate"):
        _verify(model, keys[1], sig)
