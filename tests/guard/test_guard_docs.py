"""The library example in docs/guards.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "guards.md"


def test_the_first_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "docs/guards.md has no python example"
    exec(compile(blocks[0], str(DOC), "exec"), {})  # noqa: S102 - our own documentation


def test_the_configuration_example_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    config = next(b for b in blocks if "guards_from_config(" in b)
    namespace: dict[str, object] = {}
    exec(compile(config, str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation
    assert [g.name for g in namespace["chain"]] == ["size", "injection", "secrets"]  # type: ignore[attr-defined]
