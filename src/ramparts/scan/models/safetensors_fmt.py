"""safetensors: checking the header that every loader trusts.

safetensors holds no code, but its loaders trust the header: an 8-byte little-endian
length, a JSON object of tensors (dtype, shape, ``data_offsets``) and optional string
``__metadata__``, then one byte buffer. An inconsistent header (offsets past the end,
overlapping tensors, sizes that disagree with shape and dtype, duplicate keys, a huge
header) is how memory-safety bugs in loaders are reached, so each is a finding.
Only the header is read; tensor bytes are never touched.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterator

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, ScanOutput

__all__ = ["MAX_HEADER_BYTES", "scan_safetensors"]

MAX_HEADER_BYTES = 100_000_000
"""The format's own limit on the JSON header (loaders refuse larger ones)."""

_DTYPE_BYTES = {
    "BOOL": 1,
    "U8": 1,
    "I8": 1,
    "F8_E5M2": 1,
    "F8_E4M3": 1,
    "F8_E8M0": 1,
    "I16": 2,
    "U16": 2,
    "F16": 2,
    "BF16": 2,
    "I32": 4,
    "U32": 4,
    "F32": 4,
    "I64": 8,
    "U64": 8,
    "F64": 8,
    "C64": 8,
}
# Sub-byte types pack several values per byte; their sizes are checked in bits.
_DTYPE_BITS = {"F4": 4, "F6_E2M3": 6, "F6_E3M2": 6}


class _HeaderError(ValueError):
    """One header problem, with the tensor it concerns."""


def _finding(item: ScanItem, message: str, *, severity: Severity = Severity.HIGH) -> Finding:
    return Finding(
        rule_id="RMP-SAFETENSORS-001",
        title="inconsistent safetensors header",
        message=message,
        severity=severity,
        confidence=Confidence.HIGH,
        location=item.location(offset=0),
        references=("CWE-20", "CWE-787", "AML.T0010.003"),
        remediation="Re-export the tensors with the safetensors library and scan again.",
        scanner="models",
    )


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise _HeaderError(f"duplicate key {key!r} in the header")
        seen[key] = value
    return seen


def _tensor_span(name: str, entry: object, data_size: int) -> tuple[int, int]:
    if not isinstance(entry, dict):
        raise _HeaderError(f"tensor {name!r} is not an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    extra = sorted(set(entry) - {"dtype", "shape", "data_offsets"})
    if extra:
        raise _HeaderError(f"tensor {name!r} has unknown fields {extra}")
    if not isinstance(dtype, str) or (dtype not in _DTYPE_BYTES and dtype not in _DTYPE_BITS):
        raise _HeaderError(f"tensor {name!r} has unknown dtype {dtype!r}")
    if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)):
        raise _HeaderError(f"tensor {name!r} has an invalid shape {shape!r}")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
    ):
        raise _HeaderError(f"tensor {name!r} has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end:
        raise _HeaderError(f"tensor {name!r} has data_offsets out of order [{begin}, {end}]")
    if end > data_size:
        raise _HeaderError(f"tensor {name!r} ends at {end}, past the {data_size}-byte buffer")
    count = math.prod(shape)
    if dtype in _DTYPE_BYTES:
        expected = count * _DTYPE_BYTES[dtype]
    else:
        expected = (count * _DTYPE_BITS[dtype] + 7) // 8
    if end - begin != expected:
        raise _HeaderError(
            f"tensor {name!r} spans {end - begin} bytes but {dtype}{shape} needs {expected}"
        )
    return begin, end


def _check(header: object, data_size: int) -> None:
    if not isinstance(header, dict):
        raise _HeaderError("header is not a JSON object")
    spans: list[tuple[int, int, str]] = []
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
            ):
                raise _HeaderError("__metadata__ must map strings to strings")
            continue
        begin, end = _tensor_span(name, entry, data_size)
        spans.append((begin, end, name))
    spans.sort()
    position = 0
    for begin, end, name in spans:
        if begin < position:
            raise _HeaderError(f"tensor {name!r} overlaps the tensor before it")
        if begin > position:
            raise _HeaderError(f"{begin - position} unindexed bytes before tensor {name!r}")
        position = end
    if position != data_size:
        raise _HeaderError(f"{data_size - position} bytes after the last tensor are not indexed")


def scan_safetensors(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Yield a finding for each inconsistency of a safetensors header (at most one)."""
    if item.size < 8:
        yield _finding(item, "file too short for a safetensors header")
        return
    (length,) = struct.unpack_from("<Q", item.head)
    if length > MAX_HEADER_BYTES or length > item.size - 8:
        yield _finding(item, f"header length {length} exceeds the file or the format's limit")
        return
    with item.open() as fh:
        fh.seek(8)
        raw = fh.read(length)
    try:
        _check(json.loads(raw, object_pairs_hook=_no_duplicates), item.size - 8 - length)
    except _HeaderError as exc:
        yield _finding(item, str(exc))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        yield _finding(item, f"header is not valid JSON: {exc}")
