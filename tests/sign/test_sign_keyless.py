"""Sigstore keyless verification, offline, of a stored bundle with a given trusted root.

The bundle is a public production Sigstore signature (a GitHub Actions workflow of
``wolfv/sigstore-test``, Rekor entry 166143216, 2025-01-28) over an in-toto statement
about a conda package; ``tests/data/README.md`` says where it and the trusted root come
from. Signing needs the network and is not tested here.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ramparts.sign.bundle import Bundle
from ramparts.sign.interface import SignError, VerificationError

pytest.importorskip("sigstore")
from ramparts.sign.keyless import SigstoreVerifier

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""

DATA = Path(__file__).parents[1] / "data" / "sigstore"
BUNDLE = DATA / "conda-provenance.sigstore.json"
ROOT = DATA / "trusted_root.json"
IDENTITY = "https://github.com/wolfv/sigstore-test/.github/workflows/action.yaml@refs/heads/main"
ISSUER = "https://token.actions.githubusercontent.com"


def test_stored_bundle_verifies_offline() -> None:
    payload = SigstoreVerifier(IDENTITY, ISSUER, trusted_root=ROOT).verify_bundle(
        Bundle.from_bytes(BUNDLE.read_bytes())
    )
    statement = json.loads(payload)
    assert statement["subject"][0]["name"] == "signed-package-1.2.0-hb0f4dca_0.conda"


@pytest.mark.parametrize(
    ("identity", "issuer"),
    [
        ("https://github.com/evil/models/.github/workflows/action.yaml@refs/heads/main", ISSUER),
        (IDENTITY, "https://accounts.google.com"),
    ],
)
def test_another_identity_or_issuer_is_refused(identity: str, issuer: str) -> None:
    verifier = SigstoreVerifier(identity, issuer, trusted_root=ROOT)
    with pytest.raises(VerificationError, match="does not verify"):
        verifier.verify_bundle(Bundle.from_bytes(BUNDLE.read_bytes()))


def test_changed_payload_is_refused() -> None:
    doc = json.loads(BUNDLE.read_text())
    statement = json.loads(base64.b64decode(doc["dsseEnvelope"]["payload"]))
    statement["subject"][0]["digest"]["sha256"] = "0" * 64
    doc["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    bundle = Bundle.from_bytes(json.dumps(doc).encode())
    with pytest.raises(VerificationError, match="does not verify"):
        SigstoreVerifier(IDENTITY, ISSUER, trusted_root=ROOT).verify_bundle(bundle)


def test_unreadable_trusted_root_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "root.json"
    bad.write_text("{}")
    with pytest.raises(SignError, match="trusted root"):
        SigstoreVerifier(IDENTITY, ISSUER, trusted_root=bad)


def test_cli_verifies_the_signature_then_refuses_a_statement_that_is_not_a_model(
    tmp_path: Path, cli: CliRun
) -> None:
    artifact = tmp_path / "signed-package-1.2.0-hb0f4dca_0.conda"
    artifact.write_bytes(b"not the package")
    argv = ["verify", str(artifact), "--signature", str(BUNDLE), "--sigstore-identity", IDENTITY]
    code, _, err = cli(argv)
    assert code == 2
    assert "needs --sigstore-issuer" in err
    code, out, _ = cli([*argv, "--sigstore-issuer", ISSUER, "--trusted-root", str(ROOT)])
    assert code == 1
    assert "not a model signature ('https://slsa.dev/spec/v1.0/provenance')" in out
    code, out, _ = cli(
        [*argv, "--sigstore-issuer", "https://accounts.google.com", "--trusted-root", str(ROOT)]
    )
    assert code == 1
    assert "the Sigstore signature does not verify" in out
