"""Deciding a file's format from its content, never from its name alone.

:func:`sniff` reads the first bytes of an item (its ``head``) and names the format;
:func:`expected_formats` says what an extension promises, so that a mismatch between
the two can be reported (a pickle named ``.safetensors`` is an evasion, not a typo).
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable

from ramparts.scan.models.pickle_scan import looks_like_pickle
from ramparts.scan.models.protobuf import Field, leading_fields

__all__ = ["MODEL_EXTENSIONS", "Format", "expected_formats", "looks_like_pickle", "sniff"]


class Format(enum.Enum):
    """Formats the model scanner recognises by content."""

    PICKLE = "pickle"
    ZIP = "zip"
    TAR = "tar"
    GZIP = "gzip"
    BZIP2 = "bzip2"
    XZ = "xz"
    LZ4 = "lz4"
    ZSTD = "zstd"
    SEVENZIP = "7z"
    ZLIB = "zlib"
    NUMPY = "numpy"
    SAFETENSORS = "safetensors"
    GGUF = "gguf"
    HDF5 = "hdf5"
    ONNX = "onnx"
    TF_SAVED_MODEL = "tf-savedmodel"
    UNKNOWN = "unknown"


_MAGIC: tuple[tuple[bytes, Format], ...] = (
    (b"PK\x03\x04", Format.ZIP),
    (b"PK\x05\x06", Format.ZIP),  # empty archive
    (b"\x1f\x8b", Format.GZIP),
    (b"BZh", Format.BZIP2),
    (b"\xfd7zXZ\x00", Format.XZ),
    (b"\x04\x22\x4d\x18", Format.LZ4),
    (b"\x28\xb5\x2f\xfd", Format.ZSTD),
    (b"7z\xbc\xaf\x27\x1c", Format.SEVENZIP),
    (b"\x93NUMPY", Format.NUMPY),
    (b"GGUF", Format.GGUF),
    (b"\x89HDF\r\n\x1a\n", Format.HDF5),
)

# What an extension promises. A pickle is acceptable under many names (.bin and .pt
# have held legacy pickles for years); a format outside the promise is a mismatch.
_PICKLE_LIKE = frozenset({Format.PICKLE, Format.ZIP, Format.TAR})
_EXPECTED: dict[str, frozenset[Format]] = {
    ".pkl": frozenset({Format.PICKLE}),
    ".pickle": frozenset({Format.PICKLE}),
    ".dill": frozenset({Format.PICKLE}),
    ".pt": _PICKLE_LIKE,
    ".pth": _PICKLE_LIKE,
    ".ckpt": _PICKLE_LIKE,
    ".bin": _PICKLE_LIKE | {Format.UNKNOWN},
    ".joblib": frozenset(
        {Format.PICKLE, Format.ZLIB, Format.GZIP, Format.BZIP2, Format.XZ, Format.LZ4}
    ),
    ".npy": frozenset({Format.NUMPY}),
    ".npz": frozenset({Format.ZIP}),
    ".safetensors": frozenset({Format.SAFETENSORS}),
    ".gguf": frozenset({Format.GGUF}),
    ".h5": frozenset({Format.HDF5}),
    ".hdf5": frozenset({Format.HDF5}),
    ".keras": frozenset({Format.ZIP}),
    ".onnx": frozenset({Format.ONNX}),
}

MODEL_EXTENSIONS = frozenset(_EXPECTED) | {".pb", ".tflite", ".mar", ".nemo"}
"""Extensions that mark a file as a model artefact worth a format check."""


def _looks_like_safetensors(head: bytes) -> bool:
    if len(head) < 10:
        return False
    (size,) = struct.unpack_from("<Q", head)
    return 2 <= size <= 100_000_000 and head[8:9] == b"{"


def _looks_like_tar(head: bytes) -> bool:
    return len(head) >= 262 and head[257:262] == b"ustar"


def _looks_like_zlib(head: bytes) -> bool:
    # RFC 1950: CMF 0x78 (deflate, 32K window) and a header checksum divisible by 31.
    return len(head) >= 2 and head[0] == 0x78 and (head[0] << 8 | head[1]) % 31 == 0


def _protobuf_format(head: bytes) -> Format | None:
    lead = leading_fields(head, 3)
    if _onnx_lead(lead):
        return Format.ONNX
    if _saved_model_lead(lead):
        return Format.TF_SAVED_MODEL
    return None


# Checks without a fixed magic number, in order: the more specific first.
_CHECKS: tuple[tuple[Callable[[bytes], bool], Format], ...] = (
    (_looks_like_tar, Format.TAR),
    (_looks_like_safetensors, Format.SAFETENSORS),
    (looks_like_pickle, Format.PICKLE),
    (_looks_like_zlib, Format.ZLIB),
)


def sniff(head: bytes) -> Format:
    """The format of an item whose first bytes are ``head``."""
    for magic, fmt in _MAGIC:
        if head.startswith(magic):
            return fmt
    for check, fmt in _CHECKS:
        if check(head):
            return fmt
    return _protobuf_format(head) or Format.UNKNOWN


def _onnx_lead(lead: list[Field]) -> bool:
    # ModelProto starts with ir_version (field 1, a small varint), then metadata fields.
    return (
        len(lead) >= 2
        and lead[0].number == 1
        and lead[0].wire_type == 0
        and 3 <= lead[0].value <= 20
        and lead[1].number in {2, 3, 4, 5, 6, 7, 8, 14, 20, 25}
    )


def _saved_model_lead(lead: list[Field]) -> bool:
    # SavedModel: saved_model_schema_version (field 1) = 1, then meta_graphs (field 2).
    return (
        len(lead) >= 2
        and lead[0].number == 1
        and lead[0].wire_type == 0
        and lead[0].value == 1
        and lead[1].number == 2
        and lead[1].wire_type == 2
    )


def expected_formats(name: str) -> frozenset[Format] | None:
    """The formats a file name's extension promises, or ``None`` if it promises none."""
    dot = name.rfind(".")
    if dot <= 0:
        return None
    return _EXPECTED.get(name[dot:].lower())
