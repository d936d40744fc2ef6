"""Stage fingerprints: dataset digests per pipeline stage, and the rows that changed."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ramparts.core.merkle import MerkleAccumulator
from ramparts.sign.fingerprint import FingerprintStore, compare, fingerprint
from ramparts.sign.interface import SignError

CliRun = Callable[[list[str]], tuple[int, str, str]]
"""The ``cli`` fixture of tests/conftest.py."""


def _csv(path: Path, rows: int, edit: dict[int, str] | None = None) -> Path:
    lines = ["id,name,note"]
    for i in range(1, rows + 1):
        lines.append((edit or {}).get(i, f'{i},user {i},"plain"'))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_merkle_root_is_over_canonical_rows(tmp_path: Path) -> None:
    data = _csv(tmp_path / "t.csv", 3)
    record = fingerprint(data, dataset="t", stage="raw")
    acc = MerkleAccumulator()
    for row in (["id", "name", "note"], *([str(i), f"user {i}", "plain"] for i in (1, 2, 3))):
        acc.append_data(json.dumps(row).encode())
    (file,) = record.files
    assert (file.name, file.rows, file.row_root) == ("t.csv", 4, acc.root().hex())
    # quoting is layout, not content
    data.write_text(data.read_text().replace('"plain"', "plain"))
    assert not compare(record, fingerprint(data, dataset="t", stage="raw"))[0].changed_rows


def test_changed_added_and_removed_rows_are_located(tmp_path: Path) -> None:
    data = _csv(tmp_path / "t.csv", 500)
    store = FingerprintStore(tmp_path / "store")
    store.save(fingerprint(data, dataset="t", stage="cleaned"))
    _csv(data, 500, {17: '17,user 17,"poisoned"', 42: '42,user 42,"x"'})
    data.write_text(data.read_text().replace('300,user 300,"plain"\n', "") + '501,new,"y"\n')
    recorded = store.load("t", "cleaned")
    assert recorded is not None
    (change,) = compare(recorded, fingerprint(data, dataset="t", stage="cleaned"))
    assert change.changed_rows == (18, 43)  # line numbers: the header is line 1
    assert change.added_rows == (501,)
    assert change.removed_rows == 1
    assert "rows changed at line 18, 43" in change.describe()


def test_multiline_fields_report_their_first_line(tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    data.write_text('id,text\n1,"two\nlines"\n2,after\n')
    record = fingerprint(data, dataset="t", stage="raw")
    data.write_text('id,text\n1,"two\nlines"\n2,changed\n')
    (change,) = compare(record, fingerprint(data, dataset="t", stage="raw"))
    assert change.changed_rows == (4,)


def test_jsonl_and_parquet_rows(tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "a.jsonl").write_text('{"x": 1}\n{"x": 2}\n')
    pq.write_table(pa.table({"x": [1, 2, 3], "y": ["a", "b", "c"]}), folder / "b.parquet")
    (folder / "readme.txt").write_text("notes")
    record = fingerprint(folder, dataset="ds", stage="features")
    assert [(f.name, f.rows) for f in record.files] == [
        ("a.jsonl", 2),
        ("b.parquet", 3),
        ("readme.txt", None),
    ]
    (folder / "a.jsonl").write_text('{"x": 1}\n{"x": 20}\n')
    pq.write_table(pa.table({"x": [1, 2, 4], "y": ["a", "b", "c"]}), folder / "b.parquet")
    (folder / "readme.txt").unlink()
    (folder / "extra.csv").write_text("a\n1\n")
    changes = {
        c.name: c for c in compare(record, fingerprint(folder, dataset="ds", stage="features"))
    }
    assert changes["a.jsonl"].changed_rows == (2,)
    assert changes["b.parquet"].changed_rows == (3,)
    assert changes["readme.txt"].kind == "missing"
    assert changes["extra.csv"].kind == "added"


def test_unknown_stage_and_bad_record(tmp_path: Path) -> None:
    data = _csv(tmp_path / "t.csv", 2)
    with pytest.raises(SignError, match="unknown stage"):
        fingerprint(data, dataset="t", stage="deploy")
    store = FingerprintStore(tmp_path / "s")
    path = store.save(fingerprint(data, dataset="t", stage="raw"))
    path.write_text("{")
    with pytest.raises(SignError, match="unreadable"):
        store.load("t", "raw")


def test_cli_record_check_and_list(tmp_path: Path, cli: CliRun) -> None:
    data = _csv(tmp_path / "t.csv", 50)
    store = ["--store", str(tmp_path / "fp"), "--name", "customers"]
    code, out, _ = cli(["fingerprint", str(data), "--stage", "raw", *store])
    assert code == 0
    assert out.startswith("recorded stage 'raw' of customers: sha256:")
    code, out, _ = cli(["fingerprint", str(data), "--stage", "cleaned", *store])
    code, out, _ = cli(["fingerprint", str(data), "--check", *store])
    assert code == 0
    assert "matches stage 'cleaned'" in out
    _csv(data, 50, {5: '5,user 5,"tampered"'})
    code, out, _ = cli(["fingerprint", str(data), "--check", "--stage", "raw", *store])
    assert code == 1
    assert "differs from stage 'raw'" in out
    assert "t.csv: rows changed at line 6" in out
    code, out, _ = cli(["-f", "json", "fingerprint", str(data), "--check", *store])
    assert code == 1
    doc = json.loads(out)
    assert doc["stage"] == "cleaned"
    assert doc["changes"] == [
        {
            "file": "t.csv",
            "kind": "changed",
            "changed_rows": [6],
            "added_rows": [],
            "removed_rows": 0,
        }
    ]
    code, out, _ = cli(["fingerprint", str(data), "--list", *store])
    assert [line.split()[0] for line in out.splitlines()] == ["raw", "cleaned"]
    code, _, err = cli(["fingerprint", str(data), "--check", "--stage", "train", *store])
    assert code == 2
    assert "no fingerprint of 'customers' is recorded for stage 'train'" in err
    code, _, err = cli(["fingerprint", str(data), *store])
    assert code == 2
    assert "give --stage" in err
