"""The PII scanner on tables, JSON Lines and text: typed values at exact places."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.scan.interface import ScanContext
from ramparts.scan.pii import PiiScanner
from ramparts.scan.registry import load
from ramparts.scan.runner import run_scan


def _found(root: Path, scanner: PiiScanner | None = None) -> list[tuple[str, str, int, int]]:
    report = run_scan(root, [scanner or PiiScanner()], ctx=ScanContext())
    return [
        (f.rule_id, f.location.path, f.location.line or 0, f.location.column or 0)
        for f in report.findings
    ]


def test_csv_columns_give_context_and_every_value_is_located(tmp_path: Path) -> None:
    rows = [
        "id,full_name,dob,mrn,os_build,note",
        '7,Stefan Thompson,06/06/1947,14967190,4.31.24.13,"call +44 20 7946 0958"',
        "8,Nadia Nguyen,2005-08-12,111-1867,1.7.1.46,",
    ]
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    found = _found(tmp_path)
    kinds = [(rule, line) for rule, _, line, _ in found if rule.startswith("RMP-PII-")]
    assert sorted(kinds) == sorted(
        [
            ("RMP-PII-PERSON-NAME", 2),
            ("RMP-PII-DATE-OF-BIRTH", 2),
            ("RMP-PII-MEDICAL-RECORD-NUMBER", 2),
            ("RMP-PII-PHONE-NUMBER", 2),
            ("RMP-PII-PERSON-NAME", 3),
            ("RMP-PII-DATE-OF-BIRTH", 3),
            ("RMP-PII-MEDICAL-RECORD-NUMBER", 3),
        ]
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    for rule, _, line, column in found:
        if rule == "RMP-PII-PHONE-NUMBER":
            assert lines[line - 1][column - 1 :].startswith("+44 20 7946 0958")
        if rule == "RMP-PII-DATE-OF-BIRTH" and line == 3:
            assert lines[2][column - 1 :].startswith("2005-08-12")
    columns = [
        f for f in run_scan(tmp_path, [PiiScanner()]).findings if f.rule_id == "RMP-DATA-COLUMN"
    ]
    assert any("'dob'" in f.message and "100% date-of-birth" in f.message for f in columns)


def test_json_lines_keys_are_context(tmp_path: Path) -> None:
    records = [
        {"user": "u1", "client_ip": "2406:cb35:4269:c5a4::a89f", "prompt": "my SSN is 219-09-9998"},
        {"user": "u2", "client_ip": "142.104.95.171", "prompt": "hello"},
    ]
    path = tmp_path / "requests.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    found = _found(tmp_path)
    assert sorted((rule, line) for rule, _, line, _ in found) == [
        ("RMP-PII-IPV4", 2),
        ("RMP-PII-IPV6", 1),
        ("RMP-PII-US-SSN", 1),
    ]
    raw = path.read_text(encoding="utf-8").splitlines()
    for rule, _, line, column in found:
        if rule == "RMP-PII-US-SSN":
            assert raw[line - 1][column - 1 :].startswith("219-09-9998")


def test_with_every_scanner_only_data_files_are_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nauthors = [{name = "Jane Doe", email = "jane@northwind.io"}]\n',
        encoding="utf-8",
    )
    (tmp_path / "contacts.csv").write_text("email\njane@northwind.io\n", encoding="utf-8")
    everything = run_scan(tmp_path, load(None))
    pii = {f.location.path for f in everything.findings if f.rule_id.startswith("RMP-PII-")}
    assert pii == {"contacts.csv"}
    alone = {path for _, path, _, _ in _found(tmp_path)}
    assert alone == {"pyproject.toml", "contacts.csv"}


def test_a_dataframe_shown_in_a_notebook_is_read_by_column(tmp_path: Path) -> None:
    html = [
        "<table>\n",
        "  <thead>\n    <tr><th></th><th>patient</th><th>mrn</th><th>dob</th></tr>\n  </thead>\n",
        "  <tbody>\n    <tr><th>0</th><td>Pedro Byrne</td><td>44045213</td>",
        "<td>26 Sep 1966</td></tr>\n  </tbody>\n",
        "</table>\n",
    ]
    plain = ["       patient       mrn          dob\n", "0  Pedro Byrne  44045213  26 Sep 1966"]
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": 1,
                "id": "a",
                "metadata": {},
                "outputs": [
                    {
                        "data": {"text/html": html, "text/plain": plain},
                        "execution_count": 1,
                        "metadata": {},
                        "output_type": "execute_result",
                    }
                ],
                "source": ["df.head()"],
            }
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "eda.ipynb"
    path.write_text(json.dumps(nb, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    found = _found(tmp_path)
    kinds = sorted(rule for rule, *_ in found)
    # Each value twice: once in the HTML table, once in the plain-text one.
    assert kinds == sorted(
        2 * ["RMP-PII-PERSON-NAME", "RMP-PII-MEDICAL-RECORD-NUMBER", "RMP-PII-DATE-OF-BIRTH"]
    )
    lines = path.read_text(encoding="utf-8").splitlines()
    for rule, _, line, column in found:
        if rule == "RMP-PII-MEDICAL-RECORD-NUMBER":
            assert lines[line - 1][column - 1 :].startswith("44045213")


def test_parquet_is_read_as_record_batches(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    table = pa.table(
        {
            "patient": ["Pedro Byrne", "Maya Jackson", None],
            "mrn": ["44045213", "3054058", "77120001"],
            "visits": [3, 5, 8],
        }
    )
    pq.write_table(table, tmp_path / "patients.parquet", row_group_size=2)
    report = run_scan(tmp_path, [PiiScanner()])
    found = sorted(
        (f.rule_id, f.location.line, f.location.member)
        for f in report.findings
        if f.rule_id.startswith("RMP-PII-")
    )
    assert found == [
        ("RMP-PII-MEDICAL-RECORD-NUMBER", 1, ("column mrn",)),
        ("RMP-PII-MEDICAL-RECORD-NUMBER", 2, ("column mrn",)),
        ("RMP-PII-MEDICAL-RECORD-NUMBER", 3, ("column mrn",)),
        ("RMP-PII-PERSON-NAME", 1, ("column patient",)),
        ("RMP-PII-PERSON-NAME", 2, ("column patient",)),
    ]
    assert report.stats.files_scanned == 1
