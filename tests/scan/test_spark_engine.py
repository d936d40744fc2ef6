"""The Spark engine gives the same PII findings and redacted copies as in-process."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from ramparts.privacy.keystore import LocalKeyStore
from ramparts.privacy.redact import Redactor
from ramparts.scan.pii import SAMPLE_ROWS, PiiScanner
from ramparts.scan.redaction import redact_tree
from ramparts.scan.runner import run_scan


def _rows() -> list[str]:
    rows = ["id,full_name,email,card_number,dob,note"]
    for i in range(SAMPLE_ROWS + 300):
        # A note column with nothing personal in its sample, then an email: sampling
        # must settle it the same way on both engines.
        note = f"late contact ops{i}@northwind.io" if i > SAMPLE_ROWS + 100 else f"n{i}"
        name = "Stefan Thompson" if i % 2 else "Nadia Nguyen"
        rows.append(f"{i},{name},user{i}@proton.me,4103 0738 6009 7117,06/06/1947,{note}")
        if i == 50:
            rows.append("")  # a blank line counts as a line, not a row
    return rows


@pytest.mark.slow
def test_spark_and_local_agree(tmp_path: Path) -> None:
    if shutil.which("java") is None or importlib.util.find_spec("pyspark") is None:
        message = "the Spark engine test needs pyspark (dev extra) and Java 17+"
        if os.environ.get("RAMPARTS_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message}; RAMPARTS_REQUIRE_SERVICES=1 forbids skipping", pytrace=False)
        pytest.skip(message)
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    from ramparts.scan.spark_engine import SparkTables  # noqa: PLC0415

    (tmp_path / "people.csv").write_text("\n".join(_rows()) + "\n", encoding="utf-8")
    (tmp_path / "people.tsv").write_text(
        "\n".join(r.replace(",", "\t") for r in _rows()[:40]) + "\n", encoding="utf-8"
    )
    pq.write_table(
        pa.table(
            {"patient": ["Pedro Byrne", None, "Maya Jackson"], "mrn": ["44045213", "1", "3054058"]}
        ),
        tmp_path / "patients.parquet",
    )
    local = run_scan(tmp_path, [PiiScanner()])
    redactor = Redactor(
        default="tokenize",
        operators={"email": "hash", "credit-card": "mask"},
        key=LocalKeyStore(tmp_path.parent / "keys").get("k", create=True),
    )
    redact_tree(tmp_path, tmp_path.parent / "local-copy", redactor)
    engine = SparkTables("local[2]")
    try:
        spark = run_scan(tmp_path, [PiiScanner(tables=engine)])
        redact_tree(tmp_path, tmp_path.parent / "spark-copy", redactor, tables=engine)
    finally:
        engine.close()

    def key(report):  # type: ignore[no-untyped-def]
        return sorted(
            (
                f.rule_id,
                f.location.path,
                f.location.line,
                f.location.column,
                f.location.member,
                f.fingerprint,
                f.message,
            )
            for f in report.findings
        )

    assert spark.errors == ()
    assert key(spark) == key(local)
    assert any(f.location.path == "patients.parquet" for f in spark.findings)
    for name in ("people.csv", "people.tsv"):
        local_copy = (tmp_path.parent / "local-copy" / name).read_bytes()
        assert (tmp_path.parent / "spark-copy" / name).read_bytes() == local_copy
        assert b"proton.me" not in local_copy


def test_without_pyspark_the_run_stops_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ramparts.cli import main  # noqa: PLC0415
    from ramparts.scan import spark_engine  # noqa: PLC0415

    monkeypatch.setattr(spark_engine.importlib.util, "find_spec", lambda name: None)
    (tmp_path / "a.csv").write_text("email\nx@northwind.io\n", encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["scan", "pii", str(tmp_path), "--engine", "spark"])
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert (
        err.strip()
        == "ramparts: error: --engine spark needs pyspark: pip install 'ramparts[spark]'"
    )
