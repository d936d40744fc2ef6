"""The PII scanner: personal data in datasets, logs, notebooks and documents.

Tables (CSV, TSV) are read row by row with each column's header as context; the
first rows are sampled to classify every column ("column email: 99% email,
confidential"), reported once per column as ``RMP-DATA-COLUMN``. JSON Lines records
use their keys the same way. Notebooks are read part by part (a DataFrame preview
in an output is text), and logs and documents as free text. Every value is located
by line and column of the file and its evidence is redacted.

Run alone (``ramparts scan pii``) it reads every text file, configs and code
included. Within ``ramparts scan PATH`` it reads data and document files only
(``data_only``): a maintainer's address in ``pyproject.toml`` is not a dataset.
"""

from __future__ import annotations

import hashlib
import html
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Protocol

from ramparts.core.records import field, record, replace
from ramparts.core.types import Confidence, Finding, Location, Severity, Skip
from ramparts.privacy.interface import Detection, redact
from ramparts.privacy.pii import KINDS, PiiDetector, column_hint
from ramparts.scan.interface import ScanContext, ScanItem, Scanner, ScanOutput
from ramparts.scan.notebook import advance, notebook_parts, string_positions, string_values
from ramparts.scan.secrets import MAX_TEXT_BYTES

__all__ = [
    "SAMPLE_ROWS",
    "Located",
    "PiiScanner",
    "cells",
    "column_findings",
    "row_values",
    "value_detections",
]

_TABLES = {".csv": ",", ".tsv": "\t"}
_JSON_LINES = (".jsonl", ".ndjson")
_TEXT = (".txt", ".log", ".md", ".text", ".rst")
_DATA = frozenset((*_TABLES, *_JSON_LINES, *_TEXT, ".ipynb", ".parquet"))
_ENGINE_TABLES = frozenset((*_TABLES, ".parquet"))
_BATCH_ROWS = 8192
SAMPLE_ROWS = 1000
_MAX_FINDINGS = 10_000
"""Findings listed per file, so a huge table cannot make a huge report (the column
summaries still count every row)."""
_SEVERITY = {s.value: s for s in Severity}
_REFERENCES = ("CWE-359", "OWASP LLM02:2025", "AML.T0057")
_REMEDIATION = (
    "Remove or redact personal data that the dataset does not need "
    "(ramparts redact), restrict who can read it, and record its classification."
)


def _suffix(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


class PiiScanner(Scanner):
    """Personal data in CSV/TSV, JSON Lines, notebooks, logs and text documents."""

    name = "pii"
    description = "personal data in datasets, logs, notebooks and documents (typed, validated)"

    def __init__(
        self,
        detector: PiiDetector | None = None,
        *,
        data_only: bool = False,
        tables: TableEngine | None = None,
    ) -> None:
        self._detector = detector or PiiDetector()
        self._data_only = data_only
        self._tables = tables

    def accepts(self, item: ScanItem) -> bool:
        """Text items and Parquet; with ``data_only``, data and document files only."""
        if item.head.startswith(b"PAR1") and _suffix(item.name) == ".parquet":
            return True
        if b"\x00" in item.head:
            return False
        if not self._data_only:
            return True
        suffix = _suffix(item.name)
        return suffix in _DATA

    def scan(self, item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
        """Read ``item`` the way its format asks and report each personal value."""
        suffix = _suffix(item.name)
        columns = _Columns()
        if self._tables is not None and item.source is not None and suffix in _ENGINE_TABLES:
            yield from self._on_engine(item, self._tables, suffix)
            return
        with item.open() as fh:
            if suffix in _TABLES:
                # Tables stream line by line: memory stays flat whatever their size.
                lines = io.TextIOWrapper(fh, encoding="utf-8", errors="replace", newline="")
                found = self._table(lines, _TABLES[suffix], columns)
                yield from self._report(item, found, columns)
                return
            if suffix == ".parquet":
                yield from self._report(item, self._parquet(item, fh, columns), columns)
                return
            if item.size > MAX_TEXT_BYTES:
                where = "!".join((item.path, *item.member))
                yield Skip(where, f"larger than {MAX_TEXT_BYTES >> 20} MiB")
                return
            text = fh.read(MAX_TEXT_BYTES + 1).decode("utf-8", errors="replace")
        yield from self._report(item, self.locate(item.name, text, columns), columns)

    def _on_engine(self, item: ScanItem, engine: TableEngine, suffix: str) -> Iterator[ScanOutput]:
        source = item.source
        if source is None:  # pragma: no cover - checked by the caller
            return
        result = (
            engine.parquet(source) if suffix == ".parquet" else engine.csv(source, _TABLES[suffix])
        )
        columns = _Columns(result.header, result.kinds, result.rows)
        yield from self._report(item, result.located, columns)

    def _report(
        self, item: ScanItem, found: Iterable[Located | Skip], columns: _Columns
    ) -> Iterator[ScanOutput]:
        listed = 0
        for loc in found:
            if isinstance(loc, Skip):
                yield loc
                return
            listed += 1
            if listed <= _MAX_FINDINGS:
                member = (*item.member, *loc.member)
                yield _finding(item, loc.det, loc.line, loc.column, member)
        if listed > _MAX_FINDINGS:
            # The rest were read (the column summaries count them) but not listed.
            yield Skip(
                "!".join((item.path, *item.member)),
                f"{listed} personal values; the first {_MAX_FINDINGS} are listed",
            )
        yield from column_findings(item, columns)

    def locate(self, name: str, text: str, columns: _Columns | None = None) -> Iterator[Located]:
        """Every personal value in ``text`` (the content of a file called ``name``),
        with its offsets in ``text`` itself: redaction replaces exactly those."""
        suffix = _suffix(name)
        if suffix in _TABLES:
            lines = text.splitlines(keepends=True)
            yield from self._table(lines, _TABLES[suffix], columns or _Columns())
        elif suffix in _JSON_LINES:
            yield from self._json_lines(text)
        elif suffix == ".ipynb":
            yield from self._notebook(text)
        else:
            yield from self._text(text)

    # Formats -------------------------------------------------------------------

    def _text(self, text: str, base: int = 0, first_line: int = 1) -> Iterator[Located]:
        line, pos = first_line, 0
        for det in self._detector.detect(text):
            line += text.count("\n", pos, det.start)
            pos = det.start
            line_start = text.rfind("\n", 0, det.start) + 1
            yield Located(_shifted(det, base), line, det.start - line_start + 1, ())

    def _table(self, lines: Iterable[str], delimiter: str, columns: _Columns) -> Iterator[Located]:
        """Rows of a CSV/TSV (lines with their endings), the header giving context."""
        offset = 0
        hints: list[str | None] = []
        for number, raw in enumerate(lines, start=1):
            row = raw.rstrip("\r\n")
            if number == 1:
                columns.header = [cell for cell, _ in cells(row, delimiter)]
                hints = [column_hint(h) for h in columns.header]
                columns.kinds = [Counter() for _ in columns.header]
            elif row.strip():
                columns.rows += 1
                yield from self._row(row, number, offset, delimiter, hints, columns)
            offset += len(raw)

    def _row(
        self,
        row: str,
        number: int,
        offset: int,
        delimiter: str,
        hints: list[str | None],
        columns: _Columns,
    ) -> Iterator[Located]:
        skip = columns.settled_set() if number - 1 > SAMPLE_ROWS else frozenset()
        for index, det in row_values(self._detector, row, delimiter, hints, skip):
            if index < len(columns.kinds):
                columns.kinds[index][det.kind] += 1
            yield Located(_shifted(det, offset), number, det.start + 1, ())

    def _parquet(
        self, item: ScanItem, fh: IO[bytes], columns: _Columns
    ) -> Iterator[Located | Skip]:
        """A Parquet file read as Arrow record batches (bounded memory); rows are
        numbered from 1 and each value is located by row and column name."""
        where = "!".join((item.path, *item.member))
        try:
            import pyarrow.parquet as pq  # noqa: PLC0415 (optional: pip install ramparts[tables])
        except ImportError:
            yield Skip(where, "Parquet needs pyarrow: pip install 'ramparts[tables]'")
            return
        if not fh.seekable():
            yield Skip(where, "Parquet inside an archive is not read (it needs random access)")
            return
        try:
            parquet = pq.ParquetFile(fh)
            columns.header = list(parquet.schema_arrow.names)
            hints = [column_hint(h) for h in columns.header]
            columns.kinds = [Counter() for _ in columns.header]
            row = 0
            for batch in parquet.iter_batches(batch_size=_BATCH_ROWS):
                values = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
                for r in range(batch.num_rows):
                    row += 1
                    columns.rows += 1
                    skip = columns.settled_set() if row > SAMPLE_ROWS else frozenset()
                    for index, name in enumerate(columns.header):
                        if index in skip:
                            continue
                        yield from self._parquet_cell(
                            values[index][r], name, hints[index], row, index, columns
                        )
        except (OSError, ValueError) as exc:  # pyarrow's errors derive from these
            yield Skip(where, f"unreadable Parquet: {exc}")

    def _parquet_cell(
        self, value: object, name: str, hint: str | None, row: int, index: int, columns: _Columns
    ) -> Iterator[Located]:
        for det in value_detections(self._detector, value, hint):
            columns.kinds[index][det.kind] += 1
            yield Located(det, row, None, (f"column {name}",))

    def _json_lines(self, text: str) -> Iterator[Located]:
        line_start = 0
        for number, raw in enumerate(text.split("\n"), start=1):
            if raw.strip():
                yield from self._json_record(raw, number, line_start)
            line_start += len(raw) + 1

    def _json_record(self, raw: str, number: int, base: int) -> Iterator[Located]:
        decoded = string_positions(raw)
        pairs = list(string_values(decoded[0])) if decoded is not None else []
        if decoded is None or len(pairs) != len(decoded[1]):
            # Not JSON, or duplicate keys (positions cannot be paired): plain text.
            yield from self._text(raw, base, number)
            return
        for (key, value), offset in zip(pairs, decoded[1], strict=True):
            hint = column_hint(key) if key else None
            for det in self._detector.detect_value(value, hint):
                start, end = advance(raw, offset, det.start), advance(raw, offset, det.end)
                moved = replace(det, start=base + start, end=base + end)
                yield Located(moved, number, start + 1, ())

    def _notebook(self, text: str) -> Iterator[Located]:
        parts = notebook_parts(text)
        if parts is None:
            yield from self._text(text)
            return
        for part in parts:
            cells = _html_table_cells(part.text) or _text_table_cells(part.text)
            if cells is None:
                dets = self._detector.detect(part.text)
            else:
                dets = [
                    _shifted(det, offset)
                    for value, offset, hint in cells
                    for det in self._detector.detect_value(value, hint)
                ]
            for det in dets:
                line, column, _ = part.place(det.start)
                span = part.raw_span(det.start, det.end)
                moved = replace(det, start=span[0], end=span[1]) if span else det
                yield Located(moved, line, column, part.member)


class TableResult(Protocol):
    """What a table engine found in one table."""

    located: list[Located]
    header: list[str]
    kinds: list[Counter[str]]
    rows: int


class TableEngine(Protocol):
    """Reads whole tables elsewhere (Spark) with the same recognizers."""

    def csv(self, path: Path, delimiter: str) -> TableResult:
        """One CSV/TSV file."""
        ...

    def parquet(self, path: Path) -> TableResult:
        """One Parquet file."""
        ...


@record
class Located:
    """A personal value with its offsets in the file's text, line and column, and the
    place inside the file (a notebook cell) where it is."""

    det: Detection
    line: int | None
    column: int | None
    member: tuple[str, ...]


@record(frozen=False, slots=False)
class _Columns:
    """What a table's columns hold, counted while its rows are read."""

    header: list[str] = field(default_factory=list)
    kinds: list[Counter[str]] = field(default_factory=list)
    rows: int = 0

    def settled_set(self) -> frozenset[int]:
        """Columns that showed no personal value in the first ``SAMPLE_ROWS`` rows
        (sample, then confirm): such columns (ids, metrics) are not read further."""
        return frozenset(i for i, kinds in enumerate(self.kinds) if not kinds)


_TAG = re.compile(r"<(/?)(thead|tbody|tr|th|td)\b[^>]*>", re.IGNORECASE)


def _html_table_cells(text: str) -> list[tuple[str, int, str | None]] | None:
    """Cells of an HTML table (a DataFrame's ``text/html``) with their column's hint."""
    if "<table" not in text:
        return None
    headers: list[str] = []
    cells: list[tuple[str, int, str | None]] = []
    section, row_th, row_td, open_cell = "", 0, 0, None
    for m in _TAG.finditer(text):
        closing, tag = m.group(1) == "/", m.group(2).lower()
        if tag in ("thead", "tbody"):
            section = "" if closing else tag
        elif tag == "tr" and not closing:
            row_th, row_td = 0, 0
            if section == "thead":
                headers = []
        elif tag in ("th", "td") and not closing:
            open_cell = m.end()
        elif tag in ("th", "td") and open_cell is not None:
            value = html.unescape(text[open_cell : m.start()])
            if section == "thead":
                headers.append(value.strip())
            elif tag == "th":
                row_th += 1
            else:
                index = row_th + row_td
                hint = column_hint(headers[index]) if index < len(headers) else None
                cells.append((text[open_cell : m.start()], open_cell, hint))
                row_td += 1
            open_cell = None
    return cells or None


_COLUMNS = re.compile(r"\S+(?: \S+)*")


def _text_table_cells(text: str) -> list[tuple[str, int, str | None]] | None:
    """Cells of a DataFrame's plain-text preview: columns are runs of text separated by
    two or more spaces, the first line holds the headers and each row starts with its
    index."""
    lines = text.split("\n")
    if len(lines) < 2:
        return None
    headers = [m.group() for m in _COLUMNS.finditer(lines[0])]
    if len(headers) < 2 or any(not re.fullmatch(r"[\w.\-]+", h) for h in headers):
        return None
    hints = [column_hint(h) for h in headers]
    cells: list[tuple[str, int, str | None]] = []
    offset = len(lines[0]) + 1
    for line in lines[1:]:
        tokens = list(_COLUMNS.finditer(line))
        if tokens and len(tokens) == len(headers) + 1:
            for token, hint in zip(tokens[1:], hints, strict=True):
                cells.append((token.group(), offset + token.start(), hint))
        elif tokens:
            cells.append((line, offset, None))  # not a row of this table: free text
        offset += len(line) + 1
    return cells


def value_detections(detector: PiiDetector, value: object, hint: str | None) -> list[Detection]:
    """Personal data in one typed table value (Parquet, Arrow): text and integers are
    read, nulls, bytes, booleans and floats are not. In-process and Spark share it."""
    if value is None or isinstance(value, bytes | bool | float):
        return []
    return detector.detect_value(str(value), hint)


def row_values(
    detector: PiiDetector,
    row: str,
    delimiter: str,
    hints: list[str | None],
    skip: frozenset[int] = frozenset(),
) -> Iterator[tuple[int, Detection]]:
    """Each personal value of one CSV/TSV row with its column index; offsets are in
    ``row``. The in-process reader and the Spark engine both use this."""
    for index, (cell, at) in enumerate(cells(row, delimiter)):
        if index in skip:
            continue
        hint = hints[index] if index < len(hints) else None
        for det in detector.detect_value(cell, hint):
            yield index, _shifted(det, at)


def _shifted(det: Detection, offset: int) -> Detection:
    return replace(det, start=det.start + offset, end=det.end + offset)


def cells(line: str, delimiter: str) -> Iterator[tuple[str, int]]:
    """The cells of one CSV/TSV line with the offset of each value (quotes handled)."""
    i, n = 0, len(line)
    while i <= n:
        if i < n and line[i] == '"':
            j, chunks = i + 1, []
            while j < n:
                if line[j] == '"':
                    if j + 1 < n and line[j + 1] == '"':
                        chunks.append('"')
                        j += 2
                        continue
                    break
                chunks.append(line[j])
                j += 1
            yield "".join(chunks), i + 1
            end = line.find(delimiter, j)
        else:
            end = line.find(delimiter, i)
            stop = n if end < 0 else end
            yield line[i:stop], i
        if end < 0:
            return
        i = end + 1


def column_findings(item: ScanItem, columns: _Columns) -> Iterator[Finding]:
    rows = columns.rows
    for index, (name, counts) in enumerate(zip(columns.header, columns.kinds, strict=True)):
        if not counts or not rows:
            continue
        kind, hits = counts.most_common(1)[0]
        share = hits / rows
        if share < 0.5:
            continue
        info = KINDS[kind]
        yield Finding(
            rule_id="RMP-DATA-COLUMN",
            title="column holds personal data",
            message=(
                f"column {name!r} (#{index + 1}): {share:.0%} {info.kind}, "
                f"sensitivity {info.sensitivity} ({hits} of {rows} rows)"
            ),
            severity=Severity.INFO,
            confidence=Confidence.HIGH if share >= 0.9 else Confidence.MEDIUM,
            location=Location(item.path, line=1, member=item.member),
            evidence=f"{name}: {info.kind}",
            references=_REFERENCES,
            scanner="pii",
        )


def _finding(
    item: ScanItem, det: Detection, line: int | None, column: int | None, member: tuple[str, ...]
) -> Finding:
    info = KINDS[det.kind]
    digest = hashlib.sha256(det.value.encode()).hexdigest()
    parts = (det.rule_id, item.path, "!".join(member), digest)
    return Finding(
        rule_id=det.rule_id,
        title=f"{info.title} ({info.sensitivity})",
        message=f"{info.title}, confirmed by {info.basis}",
        severity=_SEVERITY.get(info.severity, Severity.MEDIUM),
        confidence=Confidence.HIGH,
        location=Location(item.path, line=line, column=column, member=member),
        evidence=redact(det.value),
        remediation=_REMEDIATION,
        references=_REFERENCES,
        scanner="pii",
        fingerprint=hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32],
    )
