"""Jupyter notebooks as text: every cell source and output, with its place in the file.

A notebook is JSON, so a token in a code cell is followed by ``\\"`` and a line of
output is one string in an array; scanners that read the raw bytes miss both. Here
the JSON is decoded, and each text part (cell sources, stream output, the text forms
of results and displays, error tracebacks) becomes a :class:`Part` whose characters
map back to the line and column of the file, so a finding points at the line a
reviewer opens. Images and other binary outputs, attachments and metadata (which
holds hashes and ids) are skipped.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from collections.abc import Iterator
from typing import Any

from ramparts.core.records import field, record

__all__ = ["Part", "advance", "notebook_parts", "string_positions", "string_values"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TEXT_MIME = ("text/", "application/json", "application/javascript")


@record
class Part:
    """The text of one cell source or output, joined from its JSON strings.

    ``starts[i]`` is the offset in ``text`` where the i-th JSON string begins, and
    ``raw_offsets[i]`` where that string's first character sits in ``raw``, the whole
    file (``-1`` when it could not be placed).
    """

    member: tuple[str, ...]
    text: str
    starts: tuple[int, ...]
    raw_offsets: tuple[int, ...]
    raw: str = field(repr=False)
    line_starts: tuple[int, ...] = field(repr=False)

    def place(self, offset: int) -> tuple[int | None, int | None, int]:
        """File line and column of ``text[offset]``, and its line within the part."""
        part_line = self.text.count("\n", 0, offset) + 1
        i = max(bisect.bisect_right(self.starts, offset) - 1, 0)
        if not self.raw_offsets or self.raw_offsets[i] < 0:
            return (None, None, part_line)
        pos = advance(self.raw, self.raw_offsets[i], offset - self.starts[i])
        line = bisect.bisect_right(self.line_starts, pos)
        return (line, pos - self.line_starts[line - 1] + 1, part_line)

    def raw_span(self, start: int, end: int) -> tuple[int, int] | None:
        """Where ``text[start:end]`` lies in the file, if within one JSON string."""
        i = max(bisect.bisect_right(self.starts, start) - 1, 0)
        j = max(bisect.bisect_right(self.starts, max(end - 1, start)) - 1, 0)
        if i != j or not self.raw_offsets or self.raw_offsets[i] < 0:
            return None
        base = self.raw_offsets[i]
        return advance(self.raw, base, start - self.starts[i]), advance(
            self.raw, base, end - self.starts[i]
        )


def advance(raw: str, pos: int, count: int) -> int:
    """The raw offset ``count`` decoded characters after ``pos`` in a JSON string."""
    end = len(raw)
    for _ in range(count):
        if pos >= end:
            break
        if raw[pos] != "\\":
            pos += 1
        elif raw.startswith("u", pos + 1):
            # A non-BMP character is one Python character written as two escapes.
            pair = 0xD800 <= int(raw[pos + 2 : pos + 6] or "0", 16) < 0xDC00
            pos += 12 if pair else 6
        else:
            pos += 2
    return pos


def string_positions(raw: str) -> tuple[Any, list[int]] | None:
    """Decode ``raw`` and list the offset of every string value in document order."""
    offsets: list[int] = []
    decoder = json.JSONDecoder()

    def parse_string(s: str, end: int, strict: bool = True) -> tuple[str, int]:
        offsets.append(end)  # ``end`` is just past the opening quote
        value, after = json.decoder.scanstring(s, end, strict)  # type: ignore[attr-defined]
        return value, after

    decoder.parse_string = parse_string  # type: ignore[attr-defined]
    # The pure-Python scanner calls ``parse_string``; the C one does not.
    scan = json.scanner.py_make_scanner(decoder)  # type: ignore[attr-defined]
    try:
        start = len(raw) - len(raw.lstrip())
        doc, _ = scan(raw, start)
    except (ValueError, StopIteration, RecursionError):
        return None
    return doc, offsets


def string_values(node: Any, key: str | None = None) -> Iterator[tuple[str | None, str]]:
    """Every string value under ``node`` with the key that holds it (a list's items
    share their list's key), in document order; keys themselves are not values."""
    if isinstance(node, str):
        yield key, node
    elif isinstance(node, dict):
        for name, value in node.items():
            yield from string_values(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from string_values(value, key)


class _Placer:
    """Maps each string value object to its offset in the file."""

    def __init__(self, raw: str, doc: Any, offsets: list[int]) -> None:
        self.line_starts = (0, *(m.end() for m in re.finditer("\n", raw)))
        values = [value for _, value in string_values(doc)]
        # Duplicate keys make the two lists disagree; then nothing is placed.
        self._usable = len(values) == len(offsets)
        self._offsets = offsets
        self._index: dict[int, list[int]] = {}
        for i, value in enumerate(values):
            self._index.setdefault(id(value), []).append(i)
        self._values = values  # keep the objects alive so their ids stay unique

    def place(self, value: str, used: set[int]) -> int:
        if not self._usable:
            return -1
        for i in self._index.get(id(value), ()):
            if i not in used:
                used.add(i)
                return self._offsets[i]
        return -1


def _as_strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _output_strings(output: dict[str, Any]) -> list[list[str]]:
    """The text of one output: one list of strings per representation (a displayed
    DataFrame has both an HTML table and a plain-text one)."""
    kind = output.get("output_type")
    if kind == "stream":
        return [_as_strings(output.get("text"))]
    if kind == "error":
        return [[*_as_strings(output.get("evalue")), *_as_strings(output.get("traceback"))]]
    data = output.get("data")
    if not isinstance(data, dict):
        return []
    return [
        _as_strings(value)
        for mime, value in data.items()
        if isinstance(mime, str) and mime.startswith(_TEXT_MIME)
    ]


def notebook_parts(raw: str) -> list[Part] | None:
    """The text parts of a notebook, or ``None`` if ``raw`` is not notebook JSON."""
    decoded = string_positions(raw)
    if decoded is None:
        return None
    doc, offsets = decoded
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        return None
    placer = _Placer(raw, doc, offsets)
    used: set[int] = set()
    parts: list[Part] = []
    for i, cell in enumerate(doc["cells"]):
        if not isinstance(cell, dict):
            continue
        pieces = [(("cells[" + str(i) + "]", "source"), _as_strings(cell.get("source")))]
        for j, output in enumerate(cell.get("outputs") or ()):
            if isinstance(output, dict):
                member = (f"cells[{i}]", f"outputs[{j}]")
                pieces.extend((member, strings) for strings in _output_strings(output))
        for member, strings in pieces:
            if strings:
                parts.append(_part(member, strings, raw, placer, used))
    return parts


def _part(
    member: tuple[str, ...], strings: list[str], raw: str, placer: _Placer, used: set[int]
) -> Part:
    starts, raw_offsets, chunks = [], [], []
    offset = 0
    for s in strings:
        raw_offset = placer.place(s, used)
        # Tracebacks carry colour codes; blank them (same length, so columns stay
        # exact) so that "key=\x1b[0m..." reads as text.
        text = _ANSI.sub(lambda m: " " * len(m.group()), s) if "\x1b" in s else s
        starts.append(offset)
        raw_offsets.append(raw_offset)
        chunks.append(text)
        offset += len(text)
    return Part(member, "".join(chunks), tuple(starts), tuple(raw_offsets), raw, placer.line_starts)
