"""Envelope encryption at rest: round trips, every tampering refused, rotation without re-encryption."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.privacy import envelope
from ramparts.privacy.envelope import (
    HEADER_SIZE,
    decrypt_file,
    decrypt_stream,
    encrypt_file,
    encrypt_stream,
    rewrap,
)
from ramparts.privacy.interface import PrivacyError
from ramparts.privacy.keystore import LocalKeyStore

CHUNK = 64


@pytest.fixture
def keys(tmp_path: Path) -> LocalKeyStore:
    return LocalKeyStore(tmp_path / "keys")


def _encrypt(keys: LocalKeyStore, data: bytes) -> bytes:
    out = io.BytesIO()
    assert encrypt_stream(io.BytesIO(data), out, keys, "kek-1", chunk_size=CHUNK) == len(data)
    return out.getvalue()


def _decrypt(keys: LocalKeyStore, blob: bytes) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(blob), out, keys)
    return out.getvalue()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=5 * CHUNK + 3))
def test_round_trip_of_any_size(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    keys = LocalKeyStore(tmp_path_factory.mktemp("k"))
    blob = _encrypt(keys, data)
    chunks = max(1, -(-len(data) // CHUNK))  # an empty file is one empty final chunk
    assert len(blob) == HEADER_SIZE + len(data) + 16 * chunks
    assert _decrypt(keys, blob) == data


def _chunks(blob: bytes) -> list[bytes]:
    body = blob[HEADER_SIZE:]
    step = CHUNK + 16
    return [body[i : i + step] for i in range(0, len(body), step)]


@pytest.mark.parametrize(
    "how", ["flip", "truncate", "drop", "swap", "append", "duplicate", "header"]
)
def test_every_tampering_is_refused(keys: LocalKeyStore, how: str) -> None:
    data = os.urandom(3 * CHUNK + 10)
    blob = _encrypt(keys, data)
    head, chunks = blob[:HEADER_SIZE], _chunks(blob)
    if how == "flip":
        mutated = bytearray(blob)
        mutated[HEADER_SIZE + CHUNK + 20] ^= 1
        bad = bytes(mutated)
    elif how == "truncate":
        bad = head + b"".join(chunks[:-1])
    elif how == "drop":
        bad = head + chunks[0] + chunks[2] + chunks[3]
    elif how == "swap":
        bad = head + chunks[1] + chunks[0] + chunks[2] + chunks[3]
    elif how == "append":
        bad = blob + chunks[-1]
    elif how == "duplicate":
        bad = head + chunks[0] + chunks[0] + chunks[1] + chunks[2] + chunks[3]
    else:
        mutated = bytearray(blob)
        mutated[15] ^= 1  # the stream nonce prefix
        bad = bytes(mutated)
    with pytest.raises(PrivacyError):
        _decrypt(keys, bad)


def test_decrypt_file_leaves_no_plaintext_when_tampered(
    keys: LocalKeyStore, tmp_path: Path
) -> None:
    plain = tmp_path / "model.bin"
    plain.write_bytes(os.urandom(5 * CHUNK))
    enc = tmp_path / "model.bin.enc"
    encrypt_file(plain, enc, keys, "kek-1", chunk_size=CHUNK)
    enc.write_bytes(enc.read_bytes()[:-5])
    out = tmp_path / "restored.bin"
    with pytest.raises(PrivacyError, match="cut short"):
        decrypt_file(enc, out, keys)
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_rotation_rewraps_without_reencrypting(keys: LocalKeyStore, tmp_path: Path) -> None:
    plain = tmp_path / "data.parquet"
    plain.write_bytes(os.urandom(10 * CHUNK + 1))
    enc = tmp_path / "data.enc"
    encrypt_file(plain, enc, keys, "kek-1", chunk_size=CHUNK)
    before = enc.read_bytes()
    rewrap(enc, keys, "kek-2")
    after = enc.read_bytes()
    assert after[HEADER_SIZE:] == before[HEADER_SIZE:]  # the data is untouched
    (keys_dir := tmp_path / "keys" / "kek-1.key").unlink()  # the old KEK is gone
    assert not keys_dir.exists()
    out = tmp_path / "back"
    decrypt_file(enc, out, keys)
    assert out.read_bytes() == plain.read_bytes()
    rewrap(enc, keys, "kek-3")  # and again, into the other slot
    decrypt_file(enc, out, keys)
    assert out.read_bytes() == plain.read_bytes()


def test_wrong_or_missing_key_and_foreign_files(keys: LocalKeyStore, tmp_path: Path) -> None:
    blob = _encrypt(keys, b"weights")
    other = LocalKeyStore(tmp_path / "other")
    other.get("kek-1", create=True)
    with pytest.raises(PrivacyError, match="does not open"):
        _decrypt(other, blob)
    with pytest.raises(PrivacyError, match="no key named"):
        _decrypt(LocalKeyStore(tmp_path / "empty"), blob)
    with pytest.raises(PrivacyError, match="not a ramparts encrypted artifact"):
        _decrypt(keys, b"PK\x03\x04" + bytes(300))


def test_docs_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re  # noqa: PLC0415

    doc = (Path(__file__).parents[2] / "docs" / "encryption.md").read_text()
    code = re.search(r"```python\n(.*?)```", doc, re.S)
    assert code is not None
    monkeypatch.chdir(tmp_path)
    Path("model.safetensors").write_bytes(os.urandom(3000))
    exec(compile(code.group(1), "docs/encryption.md", "exec"), {})  # noqa: S102 - our own docs
    assert Path("restored.safetensors").read_bytes() == Path("model.safetensors").read_bytes()


def test_many_chunks_through_files_reuse_buffers_and_start_writeback(
    keys: LocalKeyStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # More chunks than the pipeline has buffers, and writeback started every few chunks.
    monkeypatch.setattr(envelope, "_WRITEBACK", 3 * CHUNK)
    data = os.urandom(40 * CHUNK + 7)
    plain, enc, out = tmp_path / "model.bin", tmp_path / "model.enc", tmp_path / "back.bin"
    plain.write_bytes(data)
    assert encrypt_file(plain, enc, keys, "kek-1", chunk_size=CHUNK) == len(data)
    assert enc.stat().st_size == HEADER_SIZE + len(data) + 16 * 41
    assert decrypt_file(enc, out, keys) == len(data)
    assert out.read_bytes() == data


@pytest.mark.parametrize("into", [True, False], ids=["into-buffers", "allocating"])
def test_a_failing_chunk_releases_nothing_of_itself_or_after_it(
    keys: LocalKeyStore, monkeypatch: pytest.MonkeyPatch, into: bool
) -> None:
    # Both ways of calling AES-GCM: reusing buffers (newer cryptography) or not (older).
    monkeypatch.setattr(envelope, "_INTO", into)
    data = os.urandom(20 * CHUNK)
    blob = bytearray(_encrypt(keys, data))
    assert _decrypt(keys, bytes(blob)) == data
    bad = 13
    blob[HEADER_SIZE + bad * (CHUNK + 16) + 5] ^= 1
    out = io.BytesIO()
    with pytest.raises(PrivacyError, match=f"chunk {bad} fails its tag"):
        decrypt_stream(io.BytesIO(bytes(blob)), out, keys)
    released = out.getvalue()
    assert len(released) <= bad * CHUNK
    assert data.startswith(released)


class _ReadWriteOnly:
    """A minimal stream: ``read`` and ``write``, no ``readinto``, short reads."""

    def __init__(self, data: bytes = b"") -> None:
        self.data, self.out = data, bytearray()

    def read(self, size: int) -> bytes:
        piece, self.data = self.data[: min(size, 7)], self.data[min(size, 7) :]
        return piece

    def write(self, data: bytes) -> int:
        self.out += data
        return len(data)


def test_unbuffered_files_and_streams_without_readinto(keys: LocalKeyStore, tmp_path: Path) -> None:
    data = os.urandom(6 * CHUNK + 1)
    plain, enc = tmp_path / "plain", tmp_path / "enc"
    plain.write_bytes(data)
    with plain.open("rb", buffering=0) as fin, enc.open("wb", buffering=0) as fout:
        encrypt_stream(fin, fout, keys, "kek-1", chunk_size=CHUNK)
    with enc.open("rb", buffering=0) as fin:
        assert _decrypt(keys, fin.read()) == data
    sink = _ReadWriteOnly()
    source = _ReadWriteOnly(enc.read_bytes())
    assert decrypt_stream(source, sink, keys) == len(data)  # type: ignore[arg-type]
    assert bytes(sink.out) == data
