"""The bundled sample project matches its generator and has its planted problems."""

from __future__ import annotations

import csv
import io
import json
import pickletools
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "sample-ai-project"


def luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def test_committed_tree_matches_the_generator() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "generate_sample_project.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_planted_pickle_names_os_system_statically() -> None:
    data = (SAMPLE / "models" / "classifier.pkl").read_bytes()
    names = [arg for op, arg, _ in pickletools.genops(io.BytesIO(data)) if isinstance(arg, str)]
    assert names[:2] == ["os", "system"]
    assert any("touch /tmp/ramparts-sample-pwned" in n for n in names)


def test_planted_personal_data_and_credentials() -> None:
    with (SAMPLE / "data" / "customers.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 200
    assert all(luhn_ok(r["card_number"]) for r in rows)
    assert any(r["card_number"].startswith(("22", "23", "24", "25", "26", "27")) for r in rows)
    notebook = json.loads((SAMPLE / "notebooks" / "exploration.ipynb").read_text(encoding="utf-8"))
    outputs = "".join(
        "".join(o.get("text", [])) for c in notebook["cells"] for o in c.get("outputs", [])
    )
    assert "AWS_ACCESS_KEY_ID=AKIA" in outputs
    assert "AKIAIOSFODNN7EXAMPLE" not in outputs
