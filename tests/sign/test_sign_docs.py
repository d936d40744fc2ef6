"""The library example of docs/signing.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ramparts.sign.keys import generate_key

DOC = Path(__file__).parents[2] / "docs" / "signing.md"


def test_library_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code = re.search(r"## Library\n\n```python\n(.*?)```", DOC.read_text(), re.S)
    assert code is not None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "models" / "classifier").mkdir(parents=True)
    (tmp_path / "models" / "classifier" / "weights.bin").write_bytes(b"\x01" * 100)
    generate_key(tmp_path / "keys" / "signing.pem", tmp_path / "keys" / "signing.pub.pem")
    signing, checking = code.group(1).split("try:")
    scope: dict[str, object] = {}
    exec(compile(signing, str(DOC), "exec"), scope)  # noqa: S102 - our own documentation
    exec(compile("try:" + checking, str(DOC), "exec"), scope)  # noqa: S102
    assert capsys.readouterr().out == ""
    (tmp_path / "models" / "classifier" / "weights.bin").write_bytes(b"\x02" * 100)
    exec(compile("try:" + checking, str(DOC), "exec"), scope)  # noqa: S102
    assert capsys.readouterr().out.startswith("weights.bin: content changed")
