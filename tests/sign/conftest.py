"""Fixtures of the sign tests: a throw-away PKI (root, intermediate, leaf certificates)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _cert(
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None,
    *,
    ca: bool,
    signing: bool = True,
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer[0].subject if issuer else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    usage = dict.fromkeys(
        (
            "content_commitment",
            "key_encipherment",
            "data_encipherment",
            "key_agreement",
            "encipher_only",
            "decipher_only",
        ),
        False,
    )
    builder = builder.add_extension(
        x509.KeyUsage(digital_signature=signing, key_cert_sign=ca, crl_sign=ca, **usage),
        critical=True,
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer[1].public_key()),
            critical=False,
        )
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _pem(path: Path, *items: x509.Certificate | ec.EllipticCurvePrivateKey) -> Path:
    out = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            out += item.public_bytes(serialization.Encoding.PEM)
        else:
            out += item.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
    path.write_bytes(out)
    return path


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    root_key, mid_key, leaf_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    root = _cert("root", root_key, None, ca=True)
    mid = _cert("intermediate", mid_key, (root, root_key), ca=True)
    leaf = _cert("signer", leaf_key, (mid, mid_key), ca=False)
    other_key = ec.generate_private_key(ec.SECP256R1())
    other_root = _cert("other", other_key, None, ca=True)
    nosign_key = ec.generate_private_key(ec.SECP256R1())
    nosign = _cert("nosign", nosign_key, (mid, mid_key), ca=False, signing=False)
    return {
        "root": _pem(tmp_path / "root.pem", root),
        "other_root": _pem(tmp_path / "other.pem", other_root),
        "mid": _pem(tmp_path / "mid.pem", mid),
        "leaf": _pem(tmp_path / "leaf.pem", leaf),
        "leaf_key": _pem(tmp_path / "leaf.key", leaf_key),
        "nosign": _pem(tmp_path / "nosign.pem", nosign),
        "nosign_key": _pem(tmp_path / "nosign.key", nosign_key),
    }
