from __future__ import annotations

import os
from pathlib import Path

import pytest

from ramparts.core.settings import ScanSettings
from ramparts.core.types import Skip
from ramparts.errors import InputError
from ramparts.scan.walk import FileEntry, walk


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


def found(root: Path, settings: ScanSettings | None = None) -> tuple[list[str], list[Skip]]:
    files: list[str] = []
    skips: list[Skip] = []
    for e in walk(root, settings or ScanSettings()):
        if isinstance(e, FileEntry):
            files.append(e.rel)
        else:
            skips.append(e)
    return files, skips


def test_gitignore_applies_per_directory_with_negation(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {
            ".gitignore": "*.log\nbuild/\n",
            "a.py": "",
            "x.log": "",
            "build/out.bin": "",
            "sub/.gitignore": "!keep.log\n/local.txt\n",
            "sub/keep.log": "",
            "sub/drop.log": "",
            "sub/local.txt": "",
            "sub/deeper/local.txt": "",
            ".git/config": "",
        },
    )
    files, _ = found(tmp_path)
    assert files == [".gitignore", "a.py", "sub/.gitignore", "sub/deeper/local.txt", "sub/keep.log"]


def test_gitignore_can_be_turned_off_and_excludes_added(tmp_path: Path) -> None:
    tree(tmp_path, {".gitignore": "*.log\n", "x.log": "", "data/big.csv": "", "m.py": ""})
    settings = ScanSettings(respect_gitignore=False, exclude=("data/",))
    files, _ = found(tmp_path, settings)
    assert files == [".gitignore", "m.py", "x.log"]


def test_big_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    tree(tmp_path, {"small": "x", "big": "x" * 100})
    files, skips = found(tmp_path, ScanSettings(max_file_bytes=10))
    assert files == ["small"]
    assert skips[0].path == "big"
    assert "max_file_bytes" in skips[0].reason


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="needs symbolic links")
def test_symlinks_never_lead_out_of_the_root(tmp_path: Path) -> None:
    outside = tree(tmp_path / "outside", {"secret.txt": "s"})
    root = tree(tmp_path / "root", {"in.txt": "i", "dir/f.txt": "f"})
    (root / "escape").symlink_to(outside / "secret.txt")
    (root / "escape_dir").symlink_to(outside, target_is_directory=True)
    (root / "inside").symlink_to(root / "in.txt")
    (root / "loop").symlink_to(root / "dir", target_is_directory=True)
    (root / "broken").symlink_to(root / "missing")
    files, skips = found(root)
    assert files == ["dir/f.txt", "in.txt", "inside"]
    reasons = {s.path: s.reason for s in skips}
    assert "leaves the scan root" in reasons["escape"]
    assert "leaves the scan root" in reasons["escape_dir"]
    assert "not followed" in reasons["loop"]
    assert "broken" in reasons["broken"]


def test_a_single_file_root_and_a_missing_root(tmp_path: Path) -> None:
    f = tmp_path / "one.pkl"
    f.write_bytes(b"x")
    files, _ = found(f)
    assert files == ["one.pkl"]
    with pytest.raises(InputError, match="cannot read"):
        list(walk(tmp_path / "missing", ScanSettings()))
