"""S3 artifact storage: only ciphertext leaves the machine, nothing is overwritten, tampering fails."""

from __future__ import annotations

import io
import os
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.privacy.keystore import LocalKeyStore
from ramparts.registry.interface import ConflictError, NotFoundError, RegistryError
from ramparts.registry.s3store import S3ArtifactStore

boto3 = pytest.importorskip("boto3", reason="the s3 extra (boto3) is absent")
from boto3.s3.transfer import TransferConfig  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

MARKER = b"PLAINTEXT-WEIGHTS-0123456789"
BUCKET = "acme-models"


def _missing(operation: str) -> ClientError:
    return ClientError({"Error": {"Code": "404", "Message": "Not Found"}}, operation)


class FakeS3:
    """The four S3 client methods the store uses; objects live in a dict."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], bytes] = {}

    def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise _missing("HeadObject")
        return {"ContentLength": len(self.objects[Bucket, Key])}

    def upload_file(self, *, Filename: str, Bucket: str, Key: str, Config: Any = None) -> None:  # noqa: N803
        self.objects[Bucket, Key] = Path(Filename).read_bytes()

    def download_file(self, *, Bucket: str, Key: str, Filename: str, Config: Any = None) -> None:  # noqa: N803
        if (Bucket, Key) not in self.objects:
            raise _missing("HeadObject")
        Path(Filename).write_bytes(self.objects[Bucket, Key])

    def delete_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
        self.objects.pop((Bucket, Key), None)
        return {}


@pytest.fixture
def s3() -> FakeS3:
    return FakeS3()


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeyStore:
    return LocalKeyStore(tmp_path / "keys")


@pytest.fixture
def staging(tmp_path: Path) -> Path:
    path = tmp_path / "staging"
    path.mkdir()
    return path


@pytest.fixture
def store(s3: FakeS3, keys: LocalKeyStore, staging: Path) -> S3ArtifactStore:
    return S3ArtifactStore(
        BUCKET,
        prefix="ramparts/artifacts",
        keystore=keys,
        kek_name="registry-2026",
        client=s3,
        tmp_dir=staging,
    )


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    (root / "sub").mkdir(parents=True)
    (root / "weights.bin").write_bytes(MARKER * 200)
    (root / "sub" / "config.json").write_text('{"layers": 12}')
    return root


def test_round_trip_uploads_only_ciphertext(
    store: S3ArtifactStore, s3: FakeS3, model: Path, tmp_path: Path, staging: Path
) -> None:
    size = store.put("v-1", model)
    assert list(s3.objects) == [(BUCKET, "ramparts/artifacts/v-1.rmpa")]
    uploaded = s3.objects[BUCKET, "ramparts/artifacts/v-1.rmpa"]
    assert uploaded.startswith(b"RMPENC")
    assert MARKER not in uploaded
    assert b"weights.bin" not in uploaded  # not even the tar's member names
    assert b"layers" not in uploaded
    assert size % 512 == 0
    assert size > len(MARKER) * 200

    target = tmp_path / "restored"
    store.fetch("v-1", target)
    assert (target / "weights.bin").read_bytes() == MARKER * 200
    assert (target / "sub" / "config.json").read_text() == '{"layers": 12}'
    assert list(staging.iterdir()) == []  # no plaintext left behind


def test_an_existing_blob_is_never_overwritten(
    store: S3ArtifactStore, s3: FakeS3, model: Path, tmp_path: Path
) -> None:
    store.put("v-1", model)
    before = s3.objects[BUCKET, "ramparts/artifacts/v-1.rmpa"]
    other = tmp_path / "other.bin"
    other.write_bytes(b"something else")
    with pytest.raises(ConflictError, match="artifact v-1 exists already"):
        store.put("v-1", other)
    assert s3.objects[BUCKET, "ramparts/artifacts/v-1.rmpa"] == before


@pytest.mark.parametrize("how", ["flip", "truncate", "header"])
def test_tampered_ciphertext_is_refused(
    store: S3ArtifactStore, s3: FakeS3, model: Path, tmp_path: Path, staging: Path, how: str
) -> None:
    store.put("v-1", model)
    blob = bytearray(s3.objects[BUCKET, "ramparts/artifacts/v-1.rmpa"])
    if how == "flip":
        blob[len(blob) // 2] ^= 1
    elif how == "truncate":
        del blob[-100:]
    else:
        blob[15] ^= 1
    s3.objects[BUCKET, "ramparts/artifacts/v-1.rmpa"] = bytes(blob)
    target = tmp_path / "restored"
    with pytest.raises(RegistryError, match="artifact v-1 failed decryption"):
        store.fetch("v-1", target)
    assert not target.exists()
    assert list(staging.iterdir()) == []


def test_fetch_refusals_and_delete(
    store: S3ArtifactStore, s3: FakeS3, model: Path, tmp_path: Path
) -> None:
    with pytest.raises(NotFoundError, match="artifact v-9 is not in the store"):
        store.fetch("v-9", tmp_path / "nowhere")
    store.put("v-1", model)
    with pytest.raises(ConflictError, match="exists already; give a new folder"):
        store.fetch("v-1", model)
    store.delete("v-1")
    assert s3.objects == {}
    store.delete("v-1")  # deleting a missing blob is not an error
    for bad in ("", "a/b", ".hidden"):
        with pytest.raises(RegistryError, match="invalid blob name"):
            store.put(bad, model)


def test_a_single_file_and_the_unpack_filter(
    store: S3ArtifactStore, s3: FakeS3, keys: LocalKeyStore, tmp_path: Path
) -> None:
    single = tmp_path / "model.safetensors"
    single.write_bytes(os.urandom(5000))
    store.put("v-2", single)
    store.fetch("v-2", tmp_path / "out")
    assert (tmp_path / "out" / "model.safetensors").read_bytes() == single.read_bytes()

    # A tar crafted to escape the target (sealed with the right key) is still refused.
    from ramparts.privacy.envelope import encrypt_file  # noqa: PLC0415

    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tar:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    sealed = tmp_path / "evil.rmpa"
    encrypt_file(evil, sealed, keys, "registry-2026")
    s3.objects[BUCKET, "ramparts/artifacts/v-3.rmpa"] = sealed.read_bytes()
    with pytest.raises(RegistryError, match=r"artifact v-3 cannot be unpacked: .*outside"):
        store.fetch("v-3", tmp_path / "out3")
    assert not (tmp_path / "escaped.txt").exists()


def test_storage_errors_are_registry_errors(
    keys: LocalKeyStore, model: Path, staging: Path
) -> None:
    class Forbidden(FakeS3):
        def head_object(self, *, Bucket: str, Key: str) -> dict[str, Any]:  # noqa: N803
            raise ClientError({"Error": {"Code": "403", "Message": "Forbidden"}}, "HeadObject")

    store = S3ArtifactStore(
        BUCKET, keystore=keys, kek_name="k", client=Forbidden(), tmp_dir=staging
    )
    with pytest.raises(RegistryError) as caught:
        store.put("v-1", model)
    assert str(caught.value) == (
        f"cannot check artifact v-1 (s3://{BUCKET}/v-1.rmpa): An error occurred (403) when "
        "calling the HeadObject operation: Forbidden"
    )
    with pytest.raises(RegistryError, match="invalid bucket name"):
        S3ArtifactStore("a/b", keystore=keys, kek_name="k", client=FakeS3())


# -- A real botocore client, stubbed: the conditional write ----------------------------


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber, list[tuple[str, dict[str, Any]]]]]:
    client = boto3.client(
        "s3",
        region_name="eu-west-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="not-a-real-secret",
    )
    sent: list[tuple[str, dict[str, Any]]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        sent.append((model.name, dict(params)))

    client.meta.events.register("before-parameter-build.s3.*", record)
    with Stubber(client) as stubber:
        yield client, stubber, sent
        stubber.assert_no_pending_responses()


def _stubbed_store(client: Any, keys: LocalKeyStore, staging: Path, **kw: Any) -> S3ArtifactStore:
    return S3ArtifactStore(
        BUCKET,
        prefix="ramparts/",
        keystore=keys,
        kek_name="registry-2026",
        client=client,
        tmp_dir=staging,
        transfer_config=TransferConfig(use_threads=False),
        **kw,
    )


def test_uploads_carry_if_none_match(
    stubbed: tuple[Any, Stubber, list[tuple[str, dict[str, Any]]]],
    keys: LocalKeyStore,
    staging: Path,
    model: Path,
) -> None:
    client, stubber, sent = stubbed
    store = _stubbed_store(client, keys, staging)
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_response("put_object", {"ETag": '"e1"'})
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_client_error(
        "put_object",
        service_error_code="PreconditionFailed",
        service_message="At least one of the pre-conditions you specified did not hold",
        http_status_code=412,
    )
    stubber.add_response("put_object", {"ETag": '"e2"'})

    store.put("v-1", model)
    with pytest.raises(ConflictError, match="artifact v-2 exists already"):
        store.put("v-2", model)  # another writer won the race after our HeadObject
    client.put_object(Bucket=BUCKET, Key="elsewhere/notes.txt", Body=b"x")  # not ours

    names = [name for name, _ in sent]
    assert names == ["HeadObject", "PutObject", "HeadObject", "PutObject", "PutObject"]
    head, put, _, put2, other = (params for _, params in sent)
    assert head == {"Bucket": BUCKET, "Key": "ramparts/v-1.rmpa"}
    assert (put["Bucket"], put["Key"], put["IfNoneMatch"]) == (BUCKET, "ramparts/v-1.rmpa", "*")
    assert put2["IfNoneMatch"] == "*"
    assert "IfNoneMatch" not in other


def test_multipart_completion_carries_if_none_match(
    stubbed: tuple[Any, Stubber, list[tuple[str, dict[str, Any]]]],
    keys: LocalKeyStore,
    staging: Path,
    tmp_path: Path,
) -> None:
    client, stubber, sent = stubbed
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 << 20))
    store = S3ArtifactStore(
        BUCKET,
        keystore=keys,
        kek_name="registry-2026",
        client=client,
        tmp_dir=staging,
        transfer_config=TransferConfig(
            use_threads=False, multipart_threshold=5 << 20, multipart_chunksize=5 << 20
        ),
    )
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_response("create_multipart_upload", {"UploadId": "u-1"})
    stubber.add_response("upload_part", {"ETag": '"p1"'})
    stubber.add_response("upload_part", {"ETag": '"p2"'})
    stubber.add_client_error(
        "complete_multipart_upload", service_error_code="PreconditionFailed", http_status_code=412
    )
    stubber.add_response("abort_multipart_upload", {})
    with pytest.raises(ConflictError, match="artifact v-1 exists already"):
        store.put("v-1", big)
    completes = [params for name, params in sent if name == "CompleteMultipartUpload"]
    assert len(completes) == 1
    assert completes[0]["IfNoneMatch"] == "*"
    assert completes[0]["Key"] == "v-1.rmpa"
    assert [name for name, _ in sent][-1] == "AbortMultipartUpload"


def test_conditional_writes_can_be_turned_off(
    stubbed: tuple[Any, Stubber, list[tuple[str, dict[str, Any]]]],
    keys: LocalKeyStore,
    staging: Path,
    model: Path,
) -> None:
    client, stubber, sent = stubbed
    store = _stubbed_store(client, keys, staging, conditional_writes=False)
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    stubber.add_response("put_object", {"ETag": '"e1"'})
    store.put("v-1", model)
    assert "IfNoneMatch" not in sent[-1][1]


def test_without_boto3_the_extra_is_named(
    monkeypatch: pytest.MonkeyPatch, keys: LocalKeyStore
) -> None:
    import sys  # noqa: PLC0415

    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(RegistryError, match=re.escape("pip install 'ramparts[s3]'")):
        S3ArtifactStore(BUCKET, keystore=keys, kek_name="k")


def test_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    doc = (Path(__file__).parents[2] / "docs" / "encryption.md").read_text()
    section = doc[doc.index("## S3-compatible storage") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    s3 = FakeS3()
    made: list[dict[str, Any]] = []

    def client(service: str, **kw: Any) -> FakeS3:
        made.append({"service": service, **kw})
        return s3

    monkeypatch.setattr(boto3, "client", client)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "weights.bin").write_bytes(MARKER)
    exec(compile(code.group(1), "docs/encryption.md (s3)", "exec"), {})  # noqa: S102 - our own docs
    assert made == [
        {"service": "s3", "endpoint_url": "https://minio.internal:9000", "region_name": "eu-west-1"}
    ]
    assert (tmp_path / "restored-model" / "weights.bin").read_bytes() == MARKER
    assert s3.objects == {}  # the example ends by deleting the blob


def test_a_missing_object_with_a_real_client_is_not_found(
    stubbed: tuple[Any, Stubber, list[tuple[str, dict[str, Any]]]],
    keys: LocalKeyStore,
    staging: Path,
    tmp_path: Path,
) -> None:
    client, stubber, sent = stubbed
    store = _stubbed_store(client, keys, staging)
    stubber.add_client_error("head_object", service_error_code="404", http_status_code=404)
    with pytest.raises(NotFoundError, match="artifact v-1 is not in the store"):
        store.fetch("v-1", tmp_path / "out")
    assert sent == [("HeadObject", {"Bucket": BUCKET, "Key": "ramparts/v-1.rmpa"})]
    assert not (tmp_path / "out").exists()
