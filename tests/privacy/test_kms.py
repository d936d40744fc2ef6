"""Customer-managed keys: KEKs wrapped by a CMK, and the AWS, Cloud KMS and Vault adapters."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
import sys
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.privacy.envelope import HEADER_SIZE, decrypt_file, encrypt_file, rewrap
from ramparts.privacy.interface import PrivacyError
from ramparts.privacy.kms import (
    AwsKmsWrapper,
    GcpKmsWrapper,
    KeyWrapper,
    VaultTransitWrapper,
    WrappedKeyStore,
    context_bytes,
    crc32c,
)

DOC = Path(__file__).parents[2] / "docs" / "encryption.md"


class LocalCmk(KeyWrapper):
    """A CMK simulated in memory: AES-GCM with the context as associated data.

    ``enabled = False`` refuses everything, as a disabled KMS key does; ``can_decrypt =
    False`` models a caller allowed to encrypt only.
    """

    def __init__(self, name: str = "fake:cmk-1") -> None:
        self._name = name
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.enabled = True
        self.can_decrypt = True
        self.calls: list[tuple[str, dict[str, str]]] = []

    @property
    def name(self) -> str:
        return self._name

    def wrap(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        self.calls.append(("wrap", dict(context)))
        if not self.enabled:
            raise PrivacyError("DisabledException: the key is disabled")
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext, context_bytes(context))

    def unwrap(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        self.calls.append(("unwrap", dict(context)))
        if not (self.enabled and self.can_decrypt):
            raise PrivacyError("DisabledException: the key is disabled")
        try:
            return self._aead.decrypt(ciphertext[:12], ciphertext[12:], context_bytes(context))
        except InvalidTag as exc:
            raise PrivacyError("InvalidCiphertextException") from exc

    def count(self, op: str) -> int:
        return sum(1 for call, _ in self.calls if call == op)


@pytest.fixture
def cmk() -> LocalCmk:
    return LocalCmk()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "keys"


# -- WrappedKeyStore -----------------------------------------------------------------


def test_round_trip_across_processes_and_file_format(cmk: LocalCmk, root: Path) -> None:
    key = WrappedKeyStore(root, cmk).get("registry", create=True)
    assert len(key) == 32
    # A new process (a new store) unwraps the same key from the file.
    assert WrappedKeyStore(root, cmk).get("registry") == key
    record = json.loads((root / "registry.kek").read_text())
    assert record["format"] == "ramparts-wrapped-kek"
    assert record["version"] == 1
    assert (record["kek"], record["provider"], record["key_id"]) == ("registry", "fake", "cmk-1")
    assert key not in base64.b64decode(record["ciphertext"])
    assert key.hex() not in (root / "registry.kek").read_text()
    assert cmk.calls[0] == ("wrap", {"ramparts-kek": "registry"})


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_files_only_their_owner_can_read(cmk: LocalCmk, root: Path) -> None:
    WrappedKeyStore(root, cmk).get("registry", create=True)
    path = root / "registry.kek"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    path.chmod(0o640)
    with pytest.raises(PrivacyError, match="can be read by other users; run: chmod 600"):
        WrappedKeyStore(root, cmk).get("registry")


def test_a_key_is_unwrapped_once_per_process(cmk: LocalCmk, root: Path) -> None:
    WrappedKeyStore(root, cmk).get("registry", create=True)
    store = WrappedKeyStore(root, cmk)
    before = cmk.count("unwrap")
    results: list[bytes] = []
    threads = [
        threading.Thread(target=lambda: results.append(store.get("registry"))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(results)) == 1
    assert len(results) == 8
    assert cmk.count("unwrap") == before + 1


def test_missing_invalid_and_malformed(cmk: LocalCmk, root: Path) -> None:
    store = WrappedKeyStore(root, cmk)
    with pytest.raises(PrivacyError, match="no key named 'registry'"):
        store.get("registry")
    assert cmk.calls == []
    with pytest.raises(PrivacyError, match="invalid key name"):
        store.get("../escape", create=True)
    root.mkdir(mode=0o700)
    (root / "broken.kek").write_text("{not json")
    (root / "broken.kek").chmod(0o600)
    with pytest.raises(PrivacyError, match="is not a ramparts wrapped key file"):
        store.get("broken")
    with pytest.raises(PrivacyError, match="must read PROVIDER:KEY_ID"):
        WrappedKeyStore(root, LocalCmk("no-colon"))


def test_a_file_of_another_cmk_is_refused(cmk: LocalCmk, root: Path) -> None:
    WrappedKeyStore(root, cmk).get("registry", create=True)
    other = LocalCmk("fake:cmk-2")
    with pytest.raises(PrivacyError) as caught:
        WrappedKeyStore(root, other).get("registry")
    assert str(caught.value) == (
        "key 'registry' is wrapped by fake:cmk-1, not by the configured fake:cmk-2"
    )
    assert other.calls == []


def test_a_renamed_file_does_not_open(cmk: LocalCmk, root: Path) -> None:
    store = WrappedKeyStore(root, cmk)
    store.get("registry", create=True)
    text = (root / "registry.kek").read_text()
    (root / "copy.kek").write_text(text)
    (root / "copy.kek").chmod(0o600)
    with pytest.raises(PrivacyError, match="holds the key 'registry', not 'copy'"):
        store.get("copy")
    # Even with its recorded name edited, the wrapping is bound to the original name.
    (root / "copy.kek").write_text(text.replace('"kek": "registry"', '"kek": "copy"'))
    with pytest.raises(PrivacyError, match="cannot unwrap key 'copy' with fake:cmk-1"):
        store.get("copy")


def test_a_failing_wrapper_is_a_privacy_error_and_writes_nothing(cmk: LocalCmk, root: Path) -> None:
    cmk.enabled = False
    with pytest.raises(PrivacyError) as caught:
        WrappedKeyStore(root, cmk).get("registry", create=True)
    assert str(caught.value) == (
        "cannot wrap key 'registry' with fake:cmk-1: DisabledException: the key is disabled"
    )
    assert not (root / "registry.kek").exists()
    # A CMK the caller may encrypt with but not decrypt with would lose every artifact.
    cmk.enabled, cmk.can_decrypt = True, False
    with pytest.raises(PrivacyError, match="cannot wrap key 'registry'"):
        WrappedKeyStore(root, cmk).get("registry", create=True)
    assert not (root / "registry.kek").exists()


def test_a_wrapper_that_gives_back_another_key_is_refused(root: Path) -> None:
    class Liar(LocalCmk):
        def unwrap(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
            return bytes(32)

    with pytest.raises(PrivacyError, match="did not give back the key 'registry'"):
        WrappedKeyStore(root, Liar()).get("registry", create=True)
    assert not (root / "registry.kek").exists()


def test_artifacts_open_only_while_the_cmk_unwraps(
    cmk: LocalCmk, root: Path, tmp_path: Path
) -> None:
    plain, sealed, out = tmp_path / "model.bin", tmp_path / "model.enc", tmp_path / "out.bin"
    plain.write_bytes(os.urandom(5000))
    running = WrappedKeyStore(root, cmk)
    encrypt_file(plain, sealed, running, "registry")
    decrypt_file(sealed, out, WrappedKeyStore(root, cmk))
    assert out.read_bytes() == plain.read_bytes()

    cmk.enabled = False  # the customer disables the CMK
    out.unlink()
    with pytest.raises(PrivacyError, match="cannot unwrap key 'registry'"):
        decrypt_file(sealed, out, WrappedKeyStore(root, cmk))
    assert not out.exists()
    decrypt_file(sealed, out, running)  # a running process keeps its cached KEK...
    out.unlink()
    running.forget()  # ...until it forgets it
    with pytest.raises(PrivacyError, match="DisabledException"):
        decrypt_file(sealed, out, running)

    cmk.enabled = True  # and enabled again, everything opens again
    decrypt_file(sealed, out, running)
    assert out.read_bytes() == plain.read_bytes()


def test_rotate_wrapping_moves_keks_to_a_new_cmk_without_touching_data(
    cmk: LocalCmk, root: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "model.bin"
    plain.write_bytes(os.urandom(3000))
    old = WrappedKeyStore(root, cmk)
    sealed = {}
    for name in ("kek-a", "kek-b"):
        sealed[name] = tmp_path / f"{name}.enc"
        encrypt_file(plain, sealed[name], old, name)
    before = {name: path.read_bytes() for name, path in sealed.items()}

    cmk2 = LocalCmk("fake:cmk-2")
    new = old.rotate_wrapping(cmk2)
    assert new.wrapper is cmk2
    assert new.names() == ["kek-a", "kek-b"]
    assert {path.read_bytes() for path in sealed.values()} == set(before.values())
    for name in ("kek-a", "kek-b"):
        record = json.loads((root / f"{name}.kek").read_text())
        assert record["key_id"] == "cmk-2"
        assert stat.S_IMODE((root / f"{name}.kek").stat().st_mode) == 0o600
    assert [p.name for p in root.iterdir() if p.name.endswith(".tmp")] == []

    cmk.enabled = False  # the old CMK can go
    fresh = WrappedKeyStore(root, cmk2)
    for name, path in sealed.items():
        out = tmp_path / f"{name}.out"
        decrypt_file(path, out, fresh)
        assert out.read_bytes() == plain.read_bytes()
    with pytest.raises(PrivacyError, match="wrapped by fake:cmk-2, not by the configured"):
        WrappedKeyStore(root, cmk).get("kek-a")

    # Rerunning an interrupted rotation skips what is done (the old CMK is not asked).
    cmk.calls.clear()
    WrappedKeyStore(root, cmk).rotate_wrapping(cmk2)
    assert cmk.calls == []


def test_rotate_wrapping_under_the_same_cmk_rewraps_each_file(cmk: LocalCmk, root: Path) -> None:
    store = WrappedKeyStore(root, cmk)
    key = store.get("registry", create=True)
    first = (root / "registry.kek").read_text()
    again = store.rotate_wrapping(cmk)
    assert (root / "registry.kek").read_text() != first
    assert WrappedKeyStore(root, cmk).get("registry") == key == again.get("registry")


def test_kek_rotation_in_envelopes_works_with_wrapped_keys(
    cmk: LocalCmk, root: Path, tmp_path: Path
) -> None:
    plain, sealed, out = tmp_path / "m.bin", tmp_path / "m.enc", tmp_path / "m.out"
    plain.write_bytes(os.urandom(2000))
    store = WrappedKeyStore(root, cmk)
    encrypt_file(plain, sealed, store, "registry-2026")
    rewrap(sealed, store, "registry-2027")
    (root / "registry-2026.kek").unlink()
    decrypt_file(sealed, out, WrappedKeyStore(root, cmk))
    assert out.read_bytes() == plain.read_bytes()
    assert len(sealed.read_bytes()) > HEADER_SIZE


# -- AWS KMS -------------------------------------------------------------------------

ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def aws_kms() -> Iterator[tuple[Any, Any]]:
    boto3 = pytest.importorskip("boto3")
    from botocore.stub import Stubber  # noqa: PLC0415

    client = boto3.client(
        "kms",
        region_name="eu-west-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="not-a-real-secret",
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_aws_requests_are_exact(aws_kms: tuple[Any, Any]) -> None:
    client, stubber = aws_kms
    context = {"ramparts-kek": "registry"}
    stubber.add_response(
        "encrypt",
        {"CiphertextBlob": b"wrapped-by-kms", "KeyId": ARN},
        {"KeyId": ARN, "Plaintext": b"k" * 32, "EncryptionContext": context},
    )
    stubber.add_response(
        "decrypt",
        {"Plaintext": b"k" * 32, "KeyId": ARN},
        {"KeyId": ARN, "CiphertextBlob": b"wrapped-by-kms", "EncryptionContext": context},
    )
    wrapper = AwsKmsWrapper(ARN, client=client)
    assert wrapper.name == f"aws-kms:{ARN}"
    assert wrapper.wrap(b"k" * 32, context=context) == b"wrapped-by-kms"
    assert wrapper.unwrap(b"wrapped-by-kms", context=context) == b"k" * 32


def test_aws_store_writes_the_kms_ciphertext(
    aws_kms: tuple[Any, Any], root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, stubber = aws_kms
    monkeypatch.setattr(secrets, "token_bytes", lambda n: b"\x07" * n)
    context = {"ramparts-kek": "registry"}
    stubber.add_response(
        "encrypt",
        {"CiphertextBlob": b"blob"},
        {"KeyId": "alias/ramparts", "Plaintext": b"\x07" * 32, "EncryptionContext": context},
    )
    stubber.add_response(
        "decrypt",
        {"Plaintext": b"\x07" * 32},
        {"KeyId": "alias/ramparts", "CiphertextBlob": b"blob", "EncryptionContext": context},
    )
    store = WrappedKeyStore(root, AwsKmsWrapper("alias/ramparts", client=client))
    assert store.get("registry", create=True) == b"\x07" * 32
    record = json.loads((root / "registry.kek").read_text())
    assert (record["provider"], record["key_id"]) == ("aws-kms", "alias/ramparts")
    assert base64.b64decode(record["ciphertext"]) == b"blob"


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        ("DisabledException", "the key is disabled"),
        ("AccessDeniedException", "lacks kms:Encrypt or kms:Decrypt"),
        ("InvalidCiphertextException", "changed or belongs to another name"),
    ],
)
def test_aws_errors_are_one_line(aws_kms: tuple[Any, Any], code: str, hint: str) -> None:
    client, stubber = aws_kms
    stubber.add_client_error(
        "decrypt",
        service_error_code=code,
        service_message=f"{ARN}\nis refused.",
        http_status_code=400,
    )
    with pytest.raises(PrivacyError) as caught:
        AwsKmsWrapper(ARN, client=client).unwrap(b"blob", context={"ramparts-kek": "r"})
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"AWS KMS refused to decrypt with {ARN}: {code}: {ARN} is refused.")
    assert hint in message
    assert isinstance(caught.value.__cause__, Exception)


def test_aws_without_boto3_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(PrivacyError, match=re.escape("pip install 'ramparts[aws]'")):
        AwsKmsWrapper(ARN)


# -- Vault transit -------------------------------------------------------------------

TOKEN = "hvs.CAESIJlU8x-not-a-real-token"
VAULT = "https://vault.example:8200"


class FakeTransit:
    """Vault's transit encrypt/decrypt endpoints, recording each request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.wrapped: dict[str, tuple[str, str | None]] = {}
        self.fail: tuple[int, Any] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail is not None:
            status, body = self.fail
            if isinstance(body, str):
                return httpx.Response(status, text=body)
            return httpx.Response(status, json=body)
        body = json.loads(request.content)
        if request.url.path.endswith("/encrypt/ramparts"):
            ciphertext = f"vault:v1:{base64.b64encode(os.urandom(24)).decode()}"
            self.wrapped[ciphertext] = (body["plaintext"], body.get("associated_data"))
            return httpx.Response(200, json={"data": {"ciphertext": ciphertext, "key_version": 1}})
        plaintext, aad = self.wrapped.get(body["ciphertext"], ("", None))
        if not plaintext or aad != body.get("associated_data"):
            return httpx.Response(400, json={"errors": ["cipher: message authentication failed"]})
        return httpx.Response(200, json={"data": {"plaintext": plaintext}})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))


@pytest.fixture
def transit() -> FakeTransit:
    return FakeTransit()


def test_vault_requests_are_exact(transit: FakeTransit) -> None:
    wrapper = VaultTransitWrapper(
        VAULT + "/", "ramparts", token=TOKEN, namespace="ml/", http=transit.client()
    )
    assert wrapper.name == "vault-transit:ml/transit/ramparts"
    context = {"ramparts-kek": "registry"}
    ciphertext = wrapper.wrap(b"k" * 32, context=context)
    assert ciphertext.startswith(b"vault:v1:")
    assert wrapper.unwrap(ciphertext, context=context) == b"k" * 32

    encrypt, decrypt = transit.requests
    aad = base64.b64encode(b'{"ramparts-kek":"registry"}').decode()
    assert (encrypt.method, str(encrypt.url)) == ("POST", f"{VAULT}/v1/transit/encrypt/ramparts")
    assert encrypt.headers["X-Vault-Token"] == TOKEN
    assert encrypt.headers["X-Vault-Namespace"] == "ml"
    assert json.loads(encrypt.content) == {
        "plaintext": base64.b64encode(b"k" * 32).decode(),
        "associated_data": aad,
    }
    assert (decrypt.method, str(decrypt.url)) == ("POST", f"{VAULT}/v1/transit/decrypt/ramparts")
    assert json.loads(decrypt.content) == {
        "ciphertext": ciphertext.decode(),
        "associated_data": aad,
    }
    with pytest.raises(PrivacyError, match="message authentication failed"):
        wrapper.unwrap(ciphertext, context={"ramparts-kek": "other"})


def test_vault_without_associated_data_and_nested_mount(transit: FakeTransit) -> None:
    wrapper = VaultTransitWrapper(
        VAULT,
        "ramparts",
        token=TOKEN,
        mount="/kms/transit/",
        associated_data=False,
        http=transit.client(),
    )
    wrapper.wrap(b"k" * 32, context={"ramparts-kek": "registry"})
    (request,) = transit.requests
    assert str(request.url) == f"{VAULT}/v1/kms/transit/encrypt/ramparts"
    assert "X-Vault-Namespace" not in request.headers
    assert json.loads(request.content) == {"plaintext": base64.b64encode(b"k" * 32).decode()}


def test_vault_store_round_trip(transit: FakeTransit, root: Path) -> None:
    wrapper = VaultTransitWrapper(VAULT, "ramparts", token=TOKEN, http=transit.client())
    key = WrappedKeyStore(root, wrapper).get("registry", create=True)
    record = json.loads((root / "registry.kek").read_text())
    assert (record["provider"], record["key_id"]) == ("vault-transit", "transit/ramparts")
    assert base64.b64decode(record["ciphertext"]).startswith(b"vault:v1:")
    assert WrappedKeyStore(root, wrapper).get("registry") == key


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            403,
            {"errors": ["permission denied"]},
            (
                "Vault transit encrypt with vault-transit:transit/ramparts failed: HTTP 403: "
                "permission denied (the token is invalid or expired, or its policy does not "
                "allow this key)"
            ),
        ),
        (
            400,
            {"errors": ["'[0].associated_data' provided for non-AEAD cipher suite rsa-4096"]},
            (
                "Vault transit encrypt with vault-transit:transit/ramparts failed: HTTP 400: "
                "'[0].associated_data' provided for non-AEAD cipher suite rsa-4096"
            ),
        ),
        (
            503,
            {"errors": ["Vault is sealed"]},
            (
                "Vault transit encrypt with vault-transit:transit/ramparts failed: HTTP 503: "
                "Vault is sealed (Vault is sealed or unavailable)"
            ),
        ),
        (
            502,
            "<html>\n<body>Bad gateway</body>\n</html>",
            (
                "Vault transit encrypt with vault-transit:transit/ramparts failed: HTTP 502 Bad "
                "Gateway"
            ),
        ),
        (
            400,
            {"errors": [f"invalid token\n{TOKEN}"]},
            (
                "Vault transit encrypt with vault-transit:transit/ramparts failed: HTTP 400: "
                "invalid token [token]"
            ),
        ),
        (200, {"warnings": []}, "Vault transit encrypt answered without data"),
    ],
)
def test_vault_errors_are_one_line_without_the_token(
    transit: FakeTransit, status: int, body: Any, expected: str
) -> None:
    transit.fail = (status, body)
    wrapper = VaultTransitWrapper(VAULT, "ramparts", token=TOKEN, http=transit.client())
    with pytest.raises(PrivacyError) as caught:
        wrapper.wrap(b"k" * 32, context={"ramparts-kek": "registry"})
    assert str(caught.value) == expected
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(wrapper)


def test_vault_unreachable(root: Path) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    wrapper = VaultTransitWrapper(
        VAULT, "ramparts", token=TOKEN, http=httpx.Client(transport=httpx.MockTransport(refuse))
    )
    with pytest.raises(PrivacyError) as caught:
        WrappedKeyStore(root, wrapper).get("registry", create=True)
    assert str(caught.value) == (
        "cannot wrap key 'registry' with vault-transit:transit/ramparts: cannot reach Vault "
        f"at {VAULT}: ConnectError: connection refused"
    )


def test_vault_settings_are_checked() -> None:
    with pytest.raises(PrivacyError, match="must use https"):
        VaultTransitWrapper("http://vault.example:8200", "k", token=TOKEN)
    for local in ("http://127.0.0.1:8200", "http://localhost:8200", "http://[::1]:8200"):
        VaultTransitWrapper(local, "k", token=TOKEN).close()
    with pytest.raises(PrivacyError, match="invalid Vault transit key name"):
        VaultTransitWrapper(VAULT, "a/b", token=TOKEN)
    with pytest.raises(PrivacyError, match="invalid Vault mount path"):
        VaultTransitWrapper(VAULT, "k", token=TOKEN, mount="transit/../sys")
    with pytest.raises(PrivacyError, match="a Vault token is needed"):
        VaultTransitWrapper(VAULT, "k", token="")
    wrapper = VaultTransitWrapper(VAULT, "k", token=TOKEN)
    with pytest.raises(PrivacyError, match="not a Vault transit ciphertext"):
        wrapper.unwrap(b"\xff\x00", context={})
    wrapper.close()


# -- Google Cloud KMS ----------------------------------------------------------------

GCP_KEY = "projects/acme-ml/locations/europe-west1/keyRings/ramparts/cryptoKeys/registry"


class FakeKmsClient:
    """The two KeyManagementServiceClient methods the adapter uses, checking CRC-32C as
    Cloud KMS does and answering with the real response types."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self.corrupt = False

    def encrypt(self, *, request: dict[str, Any]) -> Any:
        from google.cloud import kms as gkms  # noqa: PLC0415

        self.requests.append(request)
        assert request["plaintext_crc32c"] == crc32c(request["plaintext"])
        aad = request["additional_authenticated_data"]
        assert request["additional_authenticated_data_crc32c"] == crc32c(aad)
        nonce = os.urandom(12)
        ciphertext = nonce + self._aead.encrypt(nonce, request["plaintext"], aad)
        return gkms.EncryptResponse(
            name=f"{request['name']}/cryptoKeyVersions/1",
            ciphertext=ciphertext,
            ciphertext_crc32c=crc32c(ciphertext) ^ self.corrupt,
            verified_plaintext_crc32c=True,
            verified_additional_authenticated_data_crc32c=True,
        )

    def decrypt(self, *, request: dict[str, Any]) -> Any:
        from google.api_core import exceptions  # noqa: PLC0415
        from google.cloud import kms as gkms  # noqa: PLC0415

        self.requests.append(request)
        ciphertext = request["ciphertext"]
        assert request["ciphertext_crc32c"] == crc32c(ciphertext)
        try:
            plaintext = self._aead.decrypt(
                ciphertext[:12], ciphertext[12:], request["additional_authenticated_data"]
            )
        except InvalidTag:
            raise exceptions.InvalidArgument(
                "Decryption failed: the ciphertext is invalid."
            ) from None
        return gkms.DecryptResponse(plaintext=plaintext, plaintext_crc32c=crc32c(plaintext))


@pytest.fixture
def gcp_client() -> FakeKmsClient:
    pytest.importorskip("google.cloud.kms", reason="the gcp extra (google-cloud-kms) is absent")
    return FakeKmsClient()


def test_crc32c_known_answer() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(b"") == 0


def test_gcp_requests_are_exact(gcp_client: FakeKmsClient, root: Path) -> None:
    wrapper = GcpKmsWrapper(GCP_KEY, client=gcp_client)
    assert wrapper.name == f"gcp-kms:{GCP_KEY}"
    key = WrappedKeyStore(root, wrapper).get("registry", create=True)
    assert WrappedKeyStore(root, wrapper).get("registry") == key
    encrypt, check, decrypt = gcp_client.requests
    aad = b'{"ramparts-kek":"registry"}'
    assert encrypt == {
        "name": GCP_KEY,
        "plaintext": key,
        "additional_authenticated_data": aad,
        "plaintext_crc32c": crc32c(key),
        "additional_authenticated_data_crc32c": crc32c(aad),
    }
    ciphertext = base64.b64decode(json.loads((root / "registry.kek").read_text())["ciphertext"])
    for request in (check, decrypt):
        assert request == {
            "name": GCP_KEY,
            "ciphertext": ciphertext,
            "additional_authenticated_data": aad,
            "ciphertext_crc32c": crc32c(ciphertext),
            "additional_authenticated_data_crc32c": crc32c(aad),
        }


def test_gcp_errors_and_corruption(gcp_client: FakeKmsClient) -> None:
    wrapper = GcpKmsWrapper(GCP_KEY, client=gcp_client)
    context = {"ramparts-kek": "registry"}
    ciphertext = wrapper.wrap(b"k" * 32, context=context)
    with pytest.raises(PrivacyError) as caught:
        wrapper.unwrap(ciphertext, context={"ramparts-kek": "other"})
    assert str(caught.value) == (
        f"Cloud KMS could not decrypt with {GCP_KEY}: 400 Decryption failed: the ciphertext "
        "is invalid."
    )
    gcp_client.corrupt = True
    with pytest.raises(PrivacyError, match="corrupted in transit"):
        wrapper.wrap(b"k" * 32, context=context)
    with pytest.raises(PrivacyError, match="must read projects/P/locations/L"):
        GcpKmsWrapper(f"{GCP_KEY}/cryptoKeyVersions/3", client=gcp_client)


def test_gcp_without_the_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.api_core.exceptions", None)
    with pytest.raises(PrivacyError, match=re.escape("pip install 'ramparts[gcp]'")):
        GcpKmsWrapper(GCP_KEY)


# -- The documentation's examples ----------------------------------------------------


def _doc_blocks(heading: str) -> list[str]:
    text = DOC.read_text()
    start = text.index(f"## {heading}")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start : end if end > 0 else None], re.S)


class FakeAwsKms:
    """boto3's kms client, encrypt and decrypt only: a key per KeyId, context as AAD."""

    def __init__(self) -> None:
        self._keys: dict[str, LocalCmk] = {}

    def _key(self, key_id: str) -> LocalCmk:
        return self._keys.setdefault(key_id, LocalCmk(f"fake:{key_id}"))

    def encrypt(self, *, KeyId: str, Plaintext: bytes, EncryptionContext: dict[str, str]) -> Any:  # noqa: N803
        blob = self._key(KeyId).wrap(Plaintext, context=EncryptionContext)
        return {"CiphertextBlob": blob, "KeyId": KeyId}

    def decrypt(
        self,
        *,
        KeyId: str,  # noqa: N803
        CiphertextBlob: bytes,  # noqa: N803
        EncryptionContext: dict[str, str],  # noqa: N803
    ) -> Any:
        plain = self._key(KeyId).unwrap(CiphertextBlob, context=EncryptionContext)
        return {"Plaintext": plain, "KeyId": KeyId}


def _run(code: str, name: str) -> None:
    exec(compile(code, f"docs/encryption.md ({name})", "exec"), {})  # noqa: S102 - our own docs


def test_docs_customer_managed_key_examples_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    boto3 = pytest.importorskip("boto3")
    aws, gcp, vault, rotation = _doc_blocks("Customer-managed keys")
    fake_kms = FakeAwsKms()
    monkeypatch.setattr(boto3, "client", lambda service, **_: fake_kms)

    def chdir(name: str) -> Path:
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        return tmp_path / name

    here = chdir("aws")
    (here / "model.safetensors").write_bytes(os.urandom(3000))
    _run(aws, "aws")
    assert (here / "restored.safetensors").read_bytes() == (here / "model.safetensors").read_bytes()
    _run(rotation, "rotation")
    record = json.loads((here / ".ramparts/keys/registry-2026.kek").read_text())
    assert record["key_id"] == "alias/ramparts-2027"

    real_client = httpx.Client
    transit = FakeTransit()
    monkeypatch.setattr(
        httpx, "Client", lambda **kw: real_client(transport=httpx.MockTransport(transit), **kw)
    )
    monkeypatch.setenv("VAULT_TOKEN", TOKEN)
    here = chdir("vault")
    _run(vault, "vault")
    assert (here / ".ramparts/keys/registry-2026.kek").exists()
    assert transit.requests[0].headers["X-Vault-Namespace"] == "ml-platform"

    gkms = pytest.importorskip("google.cloud.kms")
    monkeypatch.setattr(gkms, "KeyManagementServiceClient", FakeKmsClient)
    here = chdir("gcp")
    _run(gcp, "gcp")
    assert (here / ".ramparts/keys/registry-2026.kek").exists()
