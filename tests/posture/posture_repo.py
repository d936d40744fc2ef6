"""Shared by the posture collector tests: write a small repository, collect its facts."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ramparts.posture.collect_repo import collect_repository
from ramparts.posture.interface import Fact


def collect(root: Path, files: Mapping[str, str | bytes]) -> dict[str, Fact]:
    """Write ``files`` (relative path: text or bytes) under ``root`` and return the
    facts :func:`collect_repository` finds in every file there, by name."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    walked = sorted(p for p in root.rglob("*") if p.is_file())
    return {fact.name: fact for fact in collect_repository(root, walked)}
