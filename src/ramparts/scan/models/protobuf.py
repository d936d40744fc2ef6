"""A minimal, bounded reader of the protobuf wire format (no schema compiler needed).

ONNX models and TensorFlow graphs are protobuf messages. We read only the few fields
we judge (operator names, domains, external-data locations), walking the wire format
over a memory map so that large files are not copied. Malformed input raises
:class:`WireError`, which callers turn into a finding.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ramparts.core.records import record

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import IO

__all__ = [
    "MAX_IN_MEMORY",
    "Field",
    "WireError",
    "fields",
    "first_bytes",
    "leading_fields",
    "mapped",
]

MAX_IN_MEMORY = 1 << 30
"""Archive members (no file descriptor to map) are read whole, up to this many bytes."""

_VARINT, _I64, _LEN, _SGROUP, _EGROUP, _I32 = 0, 1, 2, 3, 4, 5


class WireError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@record
class Field:
    """One field on the wire: number, wire type, and its value (int or a byte span)."""

    number: int
    wire_type: int
    value: int
    start: int = 0
    end: int = 0


def _varint(buf: memoryview | bytes, pos: int, end: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= end:
            raise WireError(f"truncated varint at byte {pos}")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 70:
            raise WireError(f"varint longer than 10 bytes at byte {pos}")


def fields(buf: memoryview | bytes, start: int = 0, end: int | None = None) -> Iterator[Field]:
    """Every field of the message in ``buf[start:end]``; length-delimited values as spans."""
    pos = start
    stop = len(buf) if end is None else end
    while pos < stop:
        key, pos = _varint(buf, pos, stop)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError(f"field number 0 at byte {pos}")
        if wire_type == _VARINT:
            value, pos = _varint(buf, pos, stop)
            yield Field(number, wire_type, value)
        elif wire_type == _LEN:
            length, pos = _varint(buf, pos, stop)
            if pos + length > stop:
                raise WireError(f"field {number} at byte {pos} runs past its message")
            yield Field(number, wire_type, length, pos, pos + length)
            pos += length
        elif wire_type == _I64:
            pos += 8
            yield Field(number, wire_type, 0)
        elif wire_type == _I32:
            pos += 4
            yield Field(number, wire_type, 0)
        else:  # groups are deprecated and never used by ONNX or TensorFlow
            raise WireError(f"unsupported wire type {wire_type} at byte {pos}")
        if pos > stop:
            raise WireError(f"field {number} runs past the end of its message")


def first_bytes(buf: memoryview | bytes, f: Field, limit: int = 4096) -> bytes:
    """The first ``limit`` bytes of a length-delimited field (strings are short)."""
    return bytes(buf[f.start : min(f.end, f.start + limit)])


def leading_fields(head: bytes, limit: int = 4) -> list[Field]:
    """Up to ``limit`` leading fields of ``head``, tolerating a field cut by the head's end.

    A 4 KiB head usually ends inside a large field (a graph, a tensor); that field is
    still returned, with its span clipped, so that sniffing can read field numbers.
    """
    out: list[Field] = []
    pos = 0
    try:
        while pos < len(head) and len(out) < limit:
            key, pos = _varint(head, pos, len(head))
            number, wire_type = key >> 3, key & 7
            if number == 0 or wire_type not in (_VARINT, _I64, _LEN, _I32):
                return []
            if wire_type == _VARINT:
                value, pos = _varint(head, pos, len(head))
                out.append(Field(number, wire_type, value))
            elif wire_type == _LEN:
                length, pos = _varint(head, pos, len(head))
                out.append(Field(number, wire_type, length, pos, min(pos + length, len(head))))
                pos += length
            else:
                pos += 8 if wire_type == _I64 else 4
                out.append(Field(number, wire_type, 0))
    except WireError:
        return out
    return out


@contextmanager
def mapped(fh: IO[bytes], limit: int) -> Iterator[memoryview]:
    """The whole stream as a buffer: memory-mapped for a real file (no copy), else read.

    Archive members have no file descriptor; they are read into memory, at most
    ``limit`` bytes.
    """
    import mmap  # noqa: PLC0415 (start-up time: few scans read protobuf)

    try:
        region: mmap.mmap | None = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, AttributeError):
        region = None
    view = memoryview(region if region is not None else fh.read(limit))
    try:
        yield view
    finally:
        view.release()
        if region is not None:
            region.close()
