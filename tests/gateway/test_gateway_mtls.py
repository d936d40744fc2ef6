"""``[mtls]``: client-certificate identities behind a TLS-terminating proxy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ramparts.cli.gateway_cmd import build_gateway
from ramparts.cli.identity_cmd import wiring
from ramparts.cli.state import AppState
from ramparts.gateway.config import GatewayConfig, MtlsConfig, Route, load_config
from ramparts.gateway.interface import GatewayError
from ramparts.gateway.mock import MockUpstream

SPIFFE = "spiffe://example.org/ns/prod/sa/batch"
BODY = {"model": "mock", "messages": [{"role": "user", "content": "hello"}]}


def _certificate(uri: str) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "batch")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _gateway(
    tmp_path: Path, serve: Callable[[Any], str], mtls: MtlsConfig
) -> tuple[str, dict[str, str]]:
    state = AppState(environ={"RAMPARTS_STATE_DIR": str(tmp_path / "state")})
    people = wiring(state)
    keys = {
        name: people.identities.create(name, ["model-consumer"]).api_key
        for name in ("batch", "app")
    }
    people.close()
    config = GatewayConfig(
        routes=(Route("default", serve(MockUpstream()) + "/v1"),), token_endpoint=False, mtls=mtls
    )
    return serve(build_gateway(state, config, [])), keys


def _post(url: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(url + "/v1/chat/completions", json=BODY, headers=headers, timeout=30)


def test_a_certificate_from_a_trusted_proxy_is_the_identity(
    tmp_path: Path, serve: Callable[[Any], str]
) -> None:
    mtls = MtlsConfig({SPIFFE: "batch"}, header="x-client-cert", trusted_proxies=("127.0.0.1",))
    url, keys = _gateway(tmp_path, serve, mtls)
    cert = quote(_certificate(SPIFFE))
    assert _post(url, {"x-client-cert": cert}).status_code == 200
    # Without a certificate the bearer credential still works (required = false) ...
    assert _post(url, {"Authorization": f"Bearer {keys['app']}"}).status_code == 200
    # ... and an unmapped certificate is refused, not ignored.
    other = quote(_certificate("spiffe://example.org/ns/prod/sa/other"))
    refused = _post(url, {"x-client-cert": other, "Authorization": f"Bearer {keys['app']}"})
    assert refused.status_code == 401


def test_a_certificate_header_from_elsewhere_and_a_missing_certificate_are_refused(
    tmp_path: Path, serve: Callable[[Any], str]
) -> None:
    mtls = MtlsConfig(
        {SPIFFE: "batch"}, header="x-client-cert", trusted_proxies=("10.0.0.0/8",), required=True
    )
    url, keys = _gateway(tmp_path, serve, mtls)
    spoofed = _post(url, {"x-client-cert": quote(_certificate(SPIFFE))})
    assert spoofed.status_code == 401
    assert "not a trusted proxy" in spoofed.json()["error"]["message"]
    missing = _post(url, {"Authorization": f"Bearer {keys['app']}"})
    assert missing.status_code == 401
    assert "client certificate is required" in missing.json()["error"]["message"]


def test_the_mtls_section_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "gateway.toml"
    path.write_text(
        '[[routes]]\nupstream = "http://127.0.0.1:8000/v1"\n\n'
        '[mtls]\nheader = "x-client-cert"\ntrusted_proxies = ["127.0.0.1"]\nrequired = true\n'
        f'[mtls.identities]\n"{SPIFFE}" = "batch"\n"CN=reports,O=Example" = "reports"\n'
    )
    mtls = load_config(path).mtls
    assert mtls is not None
    assert mtls.required
    assert dict(mtls.identities) == {SPIFFE: "batch", "CN=reports,O=Example": "reports"}
    with pytest.raises(GatewayError, match="go together"):
        MtlsConfig({SPIFFE: "batch"}, header="x-client-cert")
    path.write_text('[[routes]]\nupstream = "http://127.0.0.1:8000/v1"\n[mtls]\nrequired = 1\n')
    with pytest.raises(GatewayError):
        load_config(path)
