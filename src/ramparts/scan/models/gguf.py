"""GGUF: metadata read with bounds, and chat templates checked for sandbox escapes.

A GGUF file starts with its metadata: typed key/value pairs, among them
``tokenizer.chat_template`` (a Jinja2 template that llama-cpp-python and others render
for every prompt). A template that reaches Python internals (``__class__``,
``__globals__``, ``__subclasses__``, ``cycler``/``joiner``/``lipsum`` globals...) runs
code when rendered (CVE-2024-34359). The template is inspected as text; it is never
rendered. Malformed metadata (counts or lengths past the file, unknown types) is a
finding too: it is how parser bugs in loaders are reached.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import IO

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, ScanOutput

__all__ = ["scan_gguf", "template_risks"]

_MAX_STRING = 64 << 20
_MAX_ARRAY = 1 << 26
_MAX_KV = 1 << 20
_SCALARS = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9

# Jinja constructs that reach Python objects outside the template's data. Each is
# (pattern, what it reaches). Matching is on the template text with whitespace and
# string concatenation normalised, so '__cla' ~ 'ss__' and "\x5f\x5f" spellings count.
_RISKS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), why)
    for p, why in (
        (
            (
                r"__(class|mro|base|bases|subclasses|globals|builtins|init|import|code|"
                r"func|self|dict|getattribute|reduce|reduce_ex|loader|spec)__"
            ),
            "a Python dunder attribute",
        ),
        (
            r"\b(cycler|joiner|lipsum|self|config|request|url_for|get_flashed_messages)\b\s*[\.\[|(]",
            "a Jinja global that exposes Python objects",
        ),
        (r"\|\s*attr\s*\(", "the attr filter (attribute access by computed name)"),
        (
            r"\b(os|subprocess|sys|builtins|importlib|eval|exec|popen|system)\b\s*[\.(]",
            "a Python module or call",
        ),
        (r"\\x5f|\\u005f|\\137|\\x2e|'_'\s*\*|\"_\"\s*\*", "an escaped or computed underscore"),
        (r"\|\s*format\s*\(.*%c", "format-built characters"),
    )
)


def _normalise(template: str) -> str:
    # Join adjacent string literals ('__cla' ~ 'ss__' or '__cla' + 'ss__') so that split
    # names are seen whole; drop whitespace inside {{ }} and {% %} blocks.
    joined = re.sub(r"(['\"])\s*(?:~|\+)\s*(['\"])", "", template)
    return re.sub(r"\s+", " ", joined)


def template_risks(template: str) -> list[str]:
    """What in a Jinja template reaches Python internals (empty when nothing does)."""
    text = _normalise(template)
    found: list[str] = []
    for pattern, why in _RISKS:
        match = pattern.search(text)
        if match:
            found.append(f"{why}: {match.group(0)[:60]!r}")
    return found


class _MalformedError(ValueError):
    pass


class _Reader:
    def __init__(self, fh: IO[bytes], size: int) -> None:
        self._fh = fh
        self._size = size
        self.pos = 0

    def read(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self._size:
            raise _MalformedError(
                f"a field at byte {self.pos} runs {n} bytes past the end of the file"
            )
        data = self._fh.read(n)
        if len(data) != n:
            raise _MalformedError(f"file ends inside a field at byte {self.pos}")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self._size:
            raise _MalformedError(
                f"a field at byte {self.pos} runs {n} bytes past the end of the file"
            )
        self._fh.seek(n, 1)
        self.pos += n

    def unpack(self, fmt: str) -> int | float | bool:
        value: int | float | bool = struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]
        return value

    def uint(self, fmt: str) -> int:
        value = self.unpack(fmt)
        if not isinstance(value, int):
            raise _MalformedError("expected an integer")
        return value

    def string(self, wide: bool, keep: bool) -> str | None:
        n = self.uint("<Q" if wide else "<I")
        if n > _MAX_STRING:
            raise _MalformedError(f"string of {n} bytes at byte {self.pos} exceeds the limit")
        if not keep:
            self.skip(n)
            return None
        return self.read(n).decode("utf-8", errors="replace")


def _value(r: _Reader, vtype: int, wide: bool, keep: bool) -> str | None:
    """Read (or skip) one value; only strings that are kept are returned."""
    if vtype in _SCALARS:
        r.skip(struct.calcsize(_SCALARS[vtype]))
        return None
    if vtype == _STRING:
        return r.string(wide, keep)
    if vtype == _ARRAY:
        item_type = r.uint("<I")
        count = r.uint("<Q" if wide else "<I")
        if count > _MAX_ARRAY:
            raise _MalformedError(f"array of {count} items at byte {r.pos} exceeds the limit")
        if item_type in _SCALARS:
            r.skip(count * struct.calcsize(_SCALARS[item_type]))
        elif item_type in (_STRING, _ARRAY):
            for _ in range(count):
                _value(r, item_type, wide, keep=False)
        else:
            raise _MalformedError(f"unknown array item type {item_type} at byte {r.pos}")
        return None
    raise _MalformedError(f"unknown value type {vtype} at byte {r.pos}")


def _finding(
    item: ScanItem,
    rule: str,
    title: str,
    message: str,
    severity: Severity,
    refs: tuple[str, ...],
    offset: int,
) -> Finding:
    return Finding(
        rule_id=rule,
        title=title,
        message=message,
        severity=severity,
        confidence=Confidence.HIGH,
        location=item.location(offset=offset),
        references=refs,
        remediation=(
            "Do not render this template; replace tokenizer.chat_template with a vetted one "
            "and render templates in a sandboxed Jinja environment."
            if rule == "RMP-GGUF-001"
            else "Re-export the model with a current GGUF writer and scan again."
        ),
        scanner="models",
    )


def _header(r: _Reader) -> tuple[bool, int]:
    r.read(4)
    version = r.uint("<I")
    if version not in (1, 2, 3):
        raise _MalformedError(f"unknown GGUF version {version}")
    wide = version >= 2  # version 1 used 32-bit counts and lengths
    r.uint("<Q" if wide else "<I")  # tensor count
    kv_count = r.uint("<Q" if wide else "<I")
    if kv_count > _MAX_KV:
        raise _MalformedError(f"{kv_count} metadata entries exceed the limit")
    return wide, kv_count


def scan_gguf(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Read GGUF metadata with bounds; report risky chat templates and malformed fields."""
    with item.open() as fh:
        r = _Reader(fh, item.size)
        try:
            wide, kv_count = _header(r)
            for _ in range(kv_count):
                key = r.string(wide, keep=True) or ""
                vtype = r.uint("<I")
                at = r.pos
                keep = key.startswith("tokenizer.chat_template")
                value = _value(r, vtype, wide, keep)
                if value is None:
                    continue
                risks = template_risks(value)
                if risks:
                    yield _finding(
                        item,
                        "RMP-GGUF-001",
                        "chat template reaches Python internals",
                        f"{key} would run code when rendered: " + "; ".join(risks),
                        Severity.CRITICAL,
                        ("CVE-2024-34359", "CWE-1336", "AML.T0010.003", "OWASP LLM03:2025"),
                        at,
                    )
        except _MalformedError as exc:
            yield _finding(
                item,
                "RMP-GGUF-002",
                "malformed GGUF metadata",
                str(exc),
                Severity.HIGH,
                ("CWE-20", "AML.T0010.003"),
                r.pos,
            )
