"""Hashing a model into an OpenSSF Model Signing manifest."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from ramparts.sign.interface import DifferenceKind, Manifest, Serialization, SignError
from ramparts.sign.manifest import hash_model


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def model(tmp_path: Path) -> Path:
    root = tmp_path / "bert"
    (root / "sub").mkdir(parents=True)
    (root / "config.json").write_bytes(b"{}")
    (root / "sub" / "weights.bin").write_bytes(b"w" * 2500)
    (root / "empty").write_bytes(b"")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_bytes(b"ref")
    (root / ".gitignore").write_bytes(b"*.tmp")
    return root


def test_files_method_names_and_digests(model: Path) -> None:
    manifest = hash_model(model, Serialization())
    assert manifest.model_name == "bert"
    assert [(r.name, r.algorithm, r.digest) for r in manifest.resources] == [
        ("config.json", "sha256", _sha(b"{}")),
        ("empty", "sha256", _sha(b"")),
        ("sub/weights.bin", "sha256", _sha(b"w" * 2500)),
    ]
    raw = b"".join(bytes.fromhex(r.digest) for r in manifest.resources)
    assert manifest.root_digest == _sha(raw)


def test_shards_split_files_and_skip_empty_ones(model: Path) -> None:
    manifest = hash_model(model, Serialization(method="shards", shard_size=1000))
    names = [r.name for r in manifest.resources]
    assert names == [
        "config.json:0:2",
        "sub/weights.bin:0:1000",
        "sub/weights.bin:1000:2000",
        "sub/weights.bin:2000:2500",
    ]
    assert {r.algorithm for r in manifest.resources} == {"sha256-sharded-1000"}
    assert manifest.resources[3].digest == _sha(b"w" * 500)


def test_one_file_model_is_named_dot(tmp_path: Path) -> None:
    path = tmp_path / "model.safetensors"
    path.write_bytes(b"abc")
    manifest = hash_model(path, Serialization())
    assert manifest.model_name == "model.safetensors"
    assert [r.name for r in manifest.resources] == ["."]


def test_ignores_cover_everything_beneath(model: Path) -> None:
    manifest = hash_model(model, Serialization().with_ignores(["sub"]))
    assert [r.name for r in manifest.resources] == ["config.json", "empty"]
    everything = hash_model(model, Serialization(ignore_paths=()))
    assert ".git/HEAD" in [r.name for r in everything.resources]


@pytest.mark.parametrize("hash_type", ["sha256", "blake2b", "blake3"])
def test_parallel_and_serial_hashing_agree(model: Path, hash_type: str) -> None:
    ser = Serialization(hash_type=hash_type)
    assert hash_model(model, ser, workers=1) == hash_model(model, ser, workers=4)


def test_symlink_refused_unless_allowed(model: Path) -> None:
    (model / "link.bin").symlink_to(model / "sub" / "weights.bin")
    with pytest.raises(SignError, match=r"link\.bin is a symbolic link"):
        hash_model(model, Serialization())
    followed = hash_model(model, Serialization(allow_symlinks=True))
    digests = {r.name: r.digest for r in followed.resources}
    assert digests["link.bin"] == digests["sub/weights.bin"]


def test_symlink_loop_refused(model: Path) -> None:
    (model / "sub" / "up").symlink_to(model)
    with pytest.raises(SignError, match="links back"):
        hash_model(model, Serialization(allow_symlinks=True))


def test_fifo_refused_without_blocking(model: Path) -> None:
    os.mkfifo(model / "pipe")
    with pytest.raises(SignError, match="pipe is not a regular file"):
        hash_model(model, Serialization())


def test_non_utf8_name_refused(model: Path) -> None:
    (model / os.fsdecode(b"bad\xff")).write_bytes(b"x")
    with pytest.raises(SignError, match="must be UTF-8"):
        hash_model(model, Serialization())


def test_compare_names_every_difference(model: Path) -> None:
    signed = hash_model(model, Serialization())
    (model / "config.json").write_bytes(b"{ }")
    (model / "sub" / "weights.bin").unlink()
    (model / "extra.py").write_bytes(b"import os")
    diffs = signed.compare(hash_model(model, Serialization()))
    assert [(d.kind, d.name) for d in diffs] == [
        (DifferenceKind.CHANGED, "config.json"),
        (DifferenceKind.EXTRA, "extra.py"),
        (DifferenceKind.MISSING, "sub/weights.bin"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "tree"}, "unknown serialization method"),
        ({"hash_type": "md5"}, "unsupported hash"),
        ({"method": "shards", "shard_size": 0}, "must be positive"),
        ({"shard_size": 10}, "only to the 'shards' method"),
    ],
)
def test_bad_serialization_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(SignError, match=message):
        Serialization(**kwargs)  # type: ignore[arg-type]


def test_manifest_refuses_duplicate_names() -> None:
    from ramparts.sign.interface import Resource  # noqa: PLC0415

    r = Resource("a", "sha256", _sha(b""))
    with pytest.raises(SignError, match="twice"):
        Manifest("m", Serialization(), (r, r))
