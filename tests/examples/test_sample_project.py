"""The bundled sample project matches its generator and has its planted problems.

Pickles here are only disassembled with ``pickletools.genops``; nothing is ever loaded.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import pickletools
import re
import struct
import subprocess
import sys
import zipfile
import zlib
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


def imported_globals(data: bytes) -> list[tuple[str, str]]:
    """(module, name) of every GLOBAL / STACK_GLOBAL, read statically from the opcodes."""
    found: list[tuple[str, str]] = []
    strings: list[str] = []
    for op, arg, _ in pickletools.genops(io.BytesIO(data)):
        if op.name == "GLOBAL":
            module, name = str(arg).split(" ", 1)
            found.append((module, name))
        elif op.name == "STACK_GLOBAL":
            found.append((strings[-2], strings[-1]))
        elif isinstance(arg, str) and "UNICODE" in op.name:
            strings.append(arg)
    return found


def test_committed_tree_matches_the_generator() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "generate_sample_project.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr


def test_planted_pickle_calls_os_system_with_a_marker_payload() -> None:
    data = (SAMPLE / "models" / "classifier.pkl").read_bytes()
    assert imported_globals(data) in ([("os", "system")], [("posix", "system")])
    ops = [op.name for op, _, _ in pickletools.genops(io.BytesIO(data))]
    assert "STACK_GLOBAL" in ops
    assert "REDUCE" in ops
    assert b"touch /tmp/ramparts-sample-pwned" in data


def test_benign_checkpoint_names_only_torch_globals() -> None:
    with zipfile.ZipFile(SAMPLE / "models" / "weights.pt") as zf:
        data = zf.read("weights/data.pkl")
        assert zf.read("weights/version") == b"3\n"
        assert len(zf.read("weights/data/0")) == 16
    assert set(imported_globals(data)) == {
        ("collections", "OrderedDict"),
        ("torch._utils", "_rebuild_tensor_v2"),
        ("torch", "FloatStorage"),
    }
    assert "BINPERSID" in [op.name for op, _, _ in pickletools.genops(io.BytesIO(data))]


def test_planted_personal_data() -> None:
    with (SAMPLE / "data" / "customers.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 200
    assert all(luhn_ok(r["card_number"]) for r in rows)
    assert all(len(r["card_number"]) == 16 for r in rows)
    prefixes = {r["card_number"][0] for r in rows}
    assert prefixes == {"2", "4", "5"}
    assert all(
        r["card_number"][0] != "2" or 2221 <= int(r["card_number"][:4]) <= 2720 for r in rows
    )
    assert all(re.fullmatch(r"\+[1-9]\d{7,14}", r["phone"]) for r in rows)
    assert all(r["email"].endswith(("@example.com", "@example.org")) for r in rows)


def test_notebook_leaks_fabricated_credentials_and_embeds_a_valid_png() -> None:
    notebook = json.loads((SAMPLE / "notebooks" / "exploration.ipynb").read_text(encoding="utf-8"))
    assert (notebook["nbformat"], notebook["nbformat_minor"]) == (4, 5)
    outputs = [o for c in notebook["cells"] for o in c.get("outputs", [])]
    assert {o["output_type"] for o in outputs} == {"stream", "execute_result", "display_data"}
    text = "".join("".join(o.get("text", [])) for o in outputs)
    assert re.search(r"AWS_ACCESS_KEY_ID=AKIA[A-Z2-7]{16}\n", text)
    assert re.search(r"AWS_SECRET_ACCESS_KEY=[A-Za-z0-9+/]{40}\n", text)
    assert "AKIAIOSFODNN7EXAMPLE" not in text
    png = base64.b64decode(
        next(o["data"]["image/png"] for o in outputs if o["output_type"] == "display_data")
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    pos = 8
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        chunk = png[pos + 4 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(chunk)
        pos += 12 + length
    assert pos == len(png)
