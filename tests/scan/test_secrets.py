"""The secrets scanner on real file shapes: notebooks, JSONL, pragmas, binaries."""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

from ramparts.scan.interface import ScanContext
from ramparts.scan.runner import run_scan
from ramparts.scan.secrets import SecretScanner, ignored_rules

_RNG = random.Random(7)  # noqa: S311 - reproducible test data, not keys


def _token(prefix: str, n: int) -> str:
    return prefix + "".join(_RNG.choice(string.ascii_letters + string.digits) for _ in range(n))


GROQ = _token("gsk_", 52)
HF = "hf_" + "".join(_RNG.choice(string.ascii_letters) for _ in range(34))


def _scan(root: Path) -> list[dict[str, object]]:
    report = run_scan(root, [SecretScanner()], ctx=ScanContext())
    return [
        {
            "rule": f.rule_id,
            "path": f.location.path,
            "line": f.location.line,
            "column": f.location.column,
            "member": f.location.member,
            "evidence": f.evidence,
            "message": f.message,
            "fingerprint": f.fingerprint,
        }
        for f in report.findings
    ]


def _notebook(path: Path) -> None:
    png = base64.b64encode(bytes(_RNG.randrange(256) for _ in range(3000))).decode()
    nb = {
        "cells": [
            {"cell_type": "markdown", "id": "a1", "metadata": {}, "source": ["# Title\n"]},
            {
                "cell_type": "code",
                "execution_count": 1,
                "id": "b2",
                "metadata": {},
                "outputs": [
                    {"name": "stdout", "output_type": "stream", "text": ["ok\n", f"token {HF}\n"]},
                    {
                        "data": {"image/png": png, "text/plain": ["<Figure>"]},
                        "metadata": {},
                        "output_type": "display_data",
                    },
                ],
                "source": ["import groq\n", f'client = groq.Groq(api_key="{GROQ}")\n'],
            },
        ],
        "metadata": {"kernelspec": {"name": "python3"}, "widgets": {"state": _token("", 64)}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path.write_text(json.dumps(nb, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def test_notebook_secrets_are_located_by_cell_and_file_line(tmp_path: Path) -> None:
    nb = tmp_path / "explore.ipynb"
    _notebook(nb)
    found = _scan(tmp_path)
    assert sorted(f["rule"] for f in found) == [
        "RMP-SECRET-GROQ-API-KEY",
        "RMP-SECRET-HUGGINGFACE-TOKEN",
    ]
    lines = nb.read_text(encoding="utf-8").splitlines()
    for f in found:
        line, column = int(str(f["line"])), int(str(f["column"]))
        secret = GROQ if "GROQ" in str(f["rule"]) else HF
        assert lines[line - 1][column - 1 :].startswith(secret)
        assert secret not in str(f["evidence"])
    by_rule = {f["rule"]: f for f in found}
    assert by_rule["RMP-SECRET-GROQ-API-KEY"]["member"] == ("cells[1]", "source")
    assert "line 2 of the cell source" in str(by_rule["RMP-SECRET-GROQ-API-KEY"]["message"])
    assert by_rule["RMP-SECRET-HUGGINGFACE-TOKEN"]["member"] == ("cells[1]", "outputs[0]")


def test_escaped_quotes_in_jsonl_logs(tmp_path: Path) -> None:
    record = {"prompt": f'use OPENAI_API_KEY="{GROQ}" please', "user": "u1"}
    (tmp_path / "requests.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    found = _scan(tmp_path)
    assert [f["rule"] for f in found] == ["RMP-SECRET-GROQ-API-KEY"]
    assert found[0]["line"] == 1


def test_pragmas_suppress_by_rule(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text(
        f'A = "{GROQ}"  # ramparts: ignore\n'
        f'B = "{GROQ}"  # ramparts: ignore[RMP-SECRET-GROQ-API-KEY]\n'
        f'C = "{GROQ}"  # ramparts: ignore[RMP-SECRET-JWT]\n',
        encoding="utf-8",
    )
    found = _scan(tmp_path)
    assert [f["line"] for f in found] == [3]
    assert ignored_rules("x  # ramparts: ignore[A, B]") == frozenset({"A", "B"})
    assert ignored_rules("nothing here") is None


def test_fingerprint_survives_line_moves_and_binaries_are_skipped(tmp_path: Path) -> None:
    src = tmp_path / "settings.py"
    src.write_text(f'KEY = "{GROQ}"\n', encoding="utf-8")
    (tmp_path / "blob.bin").write_bytes(b"\x00\x01" + GROQ.encode())
    first = _scan(tmp_path)
    src.write_text(f'# moved\n\nKEY = "{GROQ}"\n', encoding="utf-8")
    second = _scan(tmp_path)
    assert len(first) == len(second) == 1
    assert first[0]["line"] != second[0]["line"]
    assert first[0]["fingerprint"] == second[0]["fingerprint"]


def test_sample_project_key_is_found_in_the_notebook_output_and_nothing_else() -> None:
    sample = Path(__file__).resolve().parents[2] / "examples" / "sample-ai-project"
    found = _scan(sample)
    assert {(f["path"], f["member"]) for f in found} == {
        ("notebooks/exploration.ipynb", ("cells[1]", "outputs[0]"))
    }
    assert {f["rule"] for f in found} == {
        "RMP-SECRET-AWS-ACCESS-KEY-ID",
        "RMP-SECRET-AWS-SECRET-ACCESS-KEY",
    }


def test_a_key_printed_by_a_cell_is_found_by_its_cell(tmp_path: Path) -> None:
    key = _token("", 40)
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 3,
                "id": "c3",
                "metadata": {},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": [key + "\n"]}],
                "source": ["import os\n", 'print(os.environ["CO_API_KEY"])'],
            },
            {
                "cell_type": "code",
                "execution_count": 4,
                "id": "c4",
                "metadata": {},
                "outputs": [{"name": "stdout", "output_type": "stream", "text": [key + "\n"]}],
                "source": ["print(run_id)"],
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "keys.ipynb"
    path.write_text(json.dumps(nb, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    found = _scan(tmp_path)
    assert [(f["rule"], f["member"]) for f in found] == [
        ("RMP-SECRET-PRINTED-SECRET", ("cells[0]", "outputs[0]"))
    ]
    line = path.read_text(encoding="utf-8").splitlines()[int(str(found[0]["line"])) - 1]
    assert line[int(str(found[0]["column"])) - 1 :].startswith(key)
