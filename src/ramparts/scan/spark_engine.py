"""The PII scan of big tables on Apache Spark: ``ramparts scan pii PATH --engine spark``.

CSV/TSV files are read by Spark as lines with their line numbers; Parquet files as
rows with their row numbers. Executors run the same code as the in-process reader
(``row_values`` and the detector, through ``mapInArrow``), and the driver turns the
results into the same findings: same rule, line, column and evidence. "Sample, then
confirm" is decided once, on the driver, from the first rows, and sent to the
executors, so it cannot depend on how the data is partitioned.

pyspark is optional (``pip install 'ramparts[spark]'``, Java 17+); the executors run
the driver's Python (``PYSPARK_PYTHON``), so ramparts is importable there.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ramparts.core.records import record
from ramparts.privacy.pii import PiiDetector, column_hint, pii_detection
from ramparts.scan.interface import ScanError
from ramparts.scan.pii import SAMPLE_ROWS, Located, cells, row_values, value_detections

__all__ = ["SparkTables", "TableResult"]

_SCHEMA = "line long, col long, idx long, kind string, start long, end long, value string"


@record(frozen=False, slots=False)
class TableResult:
    """What one table held: values located as the in-process reader locates them,
    and the column counts for the summaries."""

    located: list[Located]
    header: list[str]
    kinds: list[Counter[str]]
    rows: int


def _scan_lines(
    batches: Iterator[Any], delimiter: str, hints: list[str | None], settled: frozenset[int]
) -> Iterator[Any]:
    """Executor side: personal values of CSV lines (``n`` 1-based, line 1 the header)."""
    import pyarrow as pa  # noqa: PLC0415 (executor side)

    detector = PiiDetector()
    for batch in batches:
        out: dict[str, list[Any]] = {
            k: [] for k in ("line", "col", "idx", "kind", "start", "end", "value")
        }
        for n, text in zip(
            batch.column("n").to_pylist(), batch.column("value").to_pylist(), strict=True
        ):
            if n == 1 or text is None or not text.strip():
                continue
            row = text.rstrip("\r")
            skip = settled if n - 1 > SAMPLE_ROWS else frozenset()
            for index, det in row_values(detector, row, delimiter, hints, skip):
                _append(out, n, det.start + 1, index, det)
        yield pa.RecordBatch.from_pydict(out, schema=_arrow_schema())


def _scan_rows(
    batches: Iterator[Any], names: list[str], hints: list[str | None], settled: frozenset[int]
) -> Iterator[Any]:
    """Executor side: personal values of Parquet rows (``n`` 1-based)."""
    import pyarrow as pa  # noqa: PLC0415 (executor side)

    detector = PiiDetector()
    for batch in batches:
        out: dict[str, list[Any]] = {
            k: [] for k in ("line", "col", "idx", "kind", "start", "end", "value")
        }
        numbers = batch.column("n").to_pylist()
        values = [batch.column(name).to_pylist() for name in names]
        for r, n in enumerate(numbers):
            skip = settled if n > SAMPLE_ROWS else frozenset()
            for index in range(len(names)):
                if index in skip:
                    continue
                for det in value_detections(detector, values[index][r], hints[index]):
                    _append(out, n, None, index, det)
        yield pa.RecordBatch.from_pydict(out, schema=_arrow_schema())


def _redact_lines(
    batches: Iterator[Any],
    delimiter: str,
    hints: list[str | None],
    settled: frozenset[int],
    redactor: Any,
    secrets: bool,
) -> Iterator[Any]:
    """Executor side: CSV lines rewritten with their values replaced."""
    import pyarrow as pa  # noqa: PLC0415 (executor side)

    from ramparts.privacy.secrets import SecretDetector  # noqa: PLC0415

    detector = PiiDetector()
    secret_detector = SecretDetector() if secrets else None
    for batch in batches:
        numbers, texts = batch.column("n").to_pylist(), batch.column("value").to_pylist()
        out: list[str] = []
        for n, text in zip(numbers, texts, strict=True):
            line = text or ""
            if n > 1 and line.strip():
                skip = settled if n - 1 > SAMPLE_ROWS else frozenset()
                row = line.rstrip("\r")
                found = [det for _, det in row_values(detector, row, delimiter, hints, skip)]
                if secret_detector is not None:
                    found.extend(secret_detector.detect(row))
                line = redactor.apply(row, found) + line[len(row) :]
            out.append(line)
        yield pa.RecordBatch.from_pydict({"n": numbers, "value": out})


def _append(out: dict[str, list[Any]], n: int, col: int | None, index: int, det: Any) -> None:
    out["line"].append(n)
    out["col"].append(col)
    out["idx"].append(index)
    out["kind"].append(det.kind)
    out["start"].append(det.start)
    out["end"].append(det.end)
    out["value"].append(det.value)


def _arrow_schema() -> Any:
    import pyarrow as pa  # noqa: PLC0415

    return pa.schema(
        [
            ("line", pa.int64()),
            ("col", pa.int64()),
            ("idx", pa.int64()),
            ("kind", pa.string()),
            ("start", pa.int64()),
            ("end", pa.int64()),
            ("value", pa.string()),
        ]
    )


class SparkTables:
    """A Spark session (``master``, e.g. ``local[2]`` or a cluster URL) that scans
    tables; created on first use and stopped by :meth:`close`."""

    def __init__(self, master: str = "local[2]") -> None:
        # Fail before any file is read, with one line, when the extra is missing.
        if importlib.util.find_spec("pyspark") is None:
            raise ScanError("--engine spark needs pyspark: pip install 'ramparts[spark]'")
        self._master = master
        self._spark: Any = None

    def _session(self) -> Any:
        if self._spark is None:
            try:
                from pyspark.sql import SparkSession  # noqa: PLC0415
            except ImportError as exc:
                raise ScanError(
                    "--engine spark needs pyspark: pip install 'ramparts[spark]'"
                ) from exc
            # Executors must run this interpreter, where ramparts is installed.
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            self._spark = (
                SparkSession.builder.master(self._master)
                .appName("ramparts-pii")
                .config("spark.ui.enabled", "false")
                .getOrCreate()
            )
            self._spark.sparkContext.setLogLevel("ERROR")
        return self._spark

    def close(self) -> None:
        """Stop the Spark session, if one was started."""
        if self._spark is not None:
            self._spark.stop()
            self._spark = None

    def csv(self, path: Path, delimiter: str) -> TableResult:
        """Scan one CSV/TSV file; lines numbered as in the file."""
        names, hints, settled = _csv_plan(path, delimiter)
        frame = self._numbered_lines(path)
        rows = frame.filter("n > 1 AND trim(value) != ''").count()
        found = frame.mapInArrow(
            lambda it: _scan_lines(it, delimiter, hints, settled), _SCHEMA
        ).collect()
        return _result(found, names, rows)

    def _numbered_lines(self, path: Path) -> Any:
        spark = self._session()
        lines = spark.read.text(str(path)).rdd.map(lambda r: r[0]).zipWithIndex()
        numbered = lines.map(lambda p: (p[0], p[1] + 1))
        return spark.createDataFrame(numbered, "value string, n long")

    def redact_csv(
        self, path: Path, target: Path, delimiter: str, redactor: Any, *, secrets: bool
    ) -> None:
        """Write ``path`` with its values replaced to ``target``, line order kept.

        Lines are rewritten on the executors and gathered into one file; line endings
        become ``\\n``. Keyed operators send the key to the executors with the task.
        """
        _, hints, settled = _csv_plan(path, delimiter)
        frame = self._numbered_lines(path)
        rewritten = frame.mapInArrow(
            lambda it: _redact_lines(it, delimiter, hints, settled, redactor, secrets),
            "n long, value string",
        )
        with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
            out = Path(tmp) / "out"
            rewritten.orderBy("n").select("value").coalesce(1).write.text(str(out))
            part = next(out.glob("part-*"))
            part.replace(target)

    def parquet(self, path: Path) -> TableResult:
        """Scan one Parquet file; rows numbered from 1 in file order."""
        import pyarrow.parquet as pq  # noqa: PLC0415

        names = list(pq.ParquetFile(str(path)).schema_arrow.names)
        hints = [column_hint(h) for h in names]
        sample = pq.ParquetFile(str(path)).iter_batches(batch_size=SAMPLE_ROWS)
        first = next(sample, None)
        seen: list[Counter[str]] = [Counter() for _ in names]
        if first is not None:
            detector = PiiDetector()
            for index, name in enumerate(names):
                for value in first.column(name).to_pylist():
                    for det in value_detections(detector, value, hints[index]):
                        seen[index][det.kind] += 1
        settled = frozenset(i for i, c in enumerate(seen) if not c)
        spark = self._session()
        data = spark.read.parquet(str(path))
        from pyspark.sql.types import LongType, StructField, StructType  # noqa: PLC0415

        numbered = data.rdd.zipWithIndex().map(lambda p: (*p[0], p[1] + 1))
        schema = StructType([*data.schema.fields, StructField("n", LongType(), False)])
        frame = spark.createDataFrame(numbered, schema)
        rows = frame.count()
        found = frame.mapInArrow(
            lambda it: _scan_rows(it, names, hints, settled), _SCHEMA
        ).collect()
        return _result(found, names, rows)


def _csv_plan(path: Path, delimiter: str) -> tuple[list[str], list[str | None], frozenset[int]]:
    """The driver's part: headers, their hints, and the columns that sampling settles
    (no personal value in the first rows), read from the file's head."""
    header, sample = _head(path, SAMPLE_ROWS + 1)
    names = [cell for cell, _ in cells(header, delimiter)]
    hints = [column_hint(h) for h in names]
    detector = PiiDetector()
    seen = [0] * len(names)
    for row in sample[:SAMPLE_ROWS]:
        for index, _ in row_values(detector, row, delimiter, hints):
            if index < len(seen):
                seen[index] += 1
    return names, hints, frozenset(i for i, n in enumerate(seen) if not n)


def _head(path: Path, count: int) -> tuple[str, list[str]]:
    with path.open(encoding="utf-8", errors="replace", newline="") as fh:
        header = fh.readline().rstrip("\r\n")
        sample = [fh.readline().rstrip("\r\n") for _ in range(count - 1)]
    return header, [row for row in sample if row.strip()]


def _result(found: list[Any], names: list[str], rows: int) -> TableResult:
    kinds: list[Counter[str]] = [Counter() for _ in names]
    located: list[Located] = []
    for r in sorted(found, key=lambda r: (r["line"], r["idx"], r["start"])):
        det = pii_detection(r["kind"], r["start"], r["end"], r["value"])
        if r["idx"] < len(kinds):
            kinds[r["idx"]][r["kind"]] += 1
        member = () if r["col"] is not None else (f"column {names[r['idx']]}",)
        located.append(Located(det, r["line"], r["col"], member))
    return TableResult(located, names, kinds, rows)
