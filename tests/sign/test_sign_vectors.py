"""Published reference payloads: our manifests hash to the same subject digests.

The models and digests are the golden payloads of sigstore/model-transparency's test
suite (``tests/_signing/testdata/signing/TestPayload``): folders of short text files
whose contents that suite defines, hashed whole and in 8-byte shards.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.sign.interface import Serialization
from ramparts.sign.manifest import hash_model


def _sample(root: Path) -> Path:
    for i in range(2):
        (root / f"d{i}").mkdir(parents=True)
        for j in range(3):
            (root / f"d{i}" / f"f{i}{j}").write_text(f"This is file f{i}{j} in d{i}.")
    for i in range(4):
        (root / f"f{i}").write_text(f"This is file f{i} in root.")
    return root


def _deep(root: Path) -> Path:
    current = root
    for i in range(5):
        current = current / f"d{i}"
    current.mkdir(parents=True)
    for i in range(4):
        (current / f"f{i}").write_text(f"This is file f{i}.")
    return root


@pytest.mark.parametrize(
    ("build", "shard_size", "subject"),
    [
        (_sample, None, "143cc682e555951649f18e2761c3d526d2502996f5e32dc187ef7f8a614f8df7"),
        (_sample, 8, "2139af57fd2a4f324ac7cd0fc04898cce73d0871b363c8eb3fc07ab7da4c8445"),
        (_deep, 8, "fe81b684c60474cea9b27ba1de9993e54bb19806664613758aa4d335ee398497"),
    ],
)
def test_reference_subject_digests(
    tmp_path: Path, build: object, shard_size: int | None, subject: str
) -> None:
    model = build(tmp_path / "model")  # type: ignore[operator]
    serialization = Serialization(
        method="files" if shard_size is None else "shards",
        allow_symlinks=True,
        shard_size=shard_size,
        ignore_paths=(),
    )
    manifest = hash_model(model, serialization)
    assert manifest.root_digest == subject
