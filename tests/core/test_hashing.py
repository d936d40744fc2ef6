from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramparts.core import hash_files, sha256_file, sha256_stream
from ramparts.errors import InputError


@given(st.binary(max_size=5000), st.integers(min_value=1, max_value=300))
def test_stream_hash_matches_hashlib_for_any_chunking(data: bytes, chunk: int) -> None:
    digest = sha256_stream(io.BytesIO(data), chunk_size=chunk)
    assert digest.value == hashlib.sha256(data).hexdigest()


def test_files_hash_in_parallel_in_input_order(tmp_path: Path) -> None:
    paths = []
    for i in range(20):
        p = tmp_path / f"f{i}"
        p.write_bytes(bytes([i]) * (i * 1000 + 1))
        paths.append(p)
    results = list(hash_files(reversed(paths), workers=4))
    assert [p for p, _ in results] == list(reversed(paths))
    for p, d in results:
        assert d == sha256_file(p)
        assert d.value == hashlib.sha256(p.read_bytes()).hexdigest()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        sha256_file(tmp_path / "nope")
