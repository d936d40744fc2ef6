"""Model files and datasets, recognised by their bytes (and names, for tables).

:func:`model_format` reuses :func:`ramparts.scan.models.formats.sniff`: a file named
like a model counts when its bytes match a model format, any other binary file only
with an unmistakable signature. :func:`dataset_format` takes extensions and the magic
numbers of columnar formats.
"""

from __future__ import annotations

from ramparts.scan.models.formats import MODEL_EXTENSIONS, Format, sniff

__all__ = ["DATASET_FORMATS", "dataset_format", "model_format"]

DATASET_FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".arrow": "arrow",
    ".feather": "feather",
    ".avro": "avro",
    ".orc": "orc",
    ".tfrecord": "tfrecord",
    ".tfrecords": "tfrecord",
}
"""Dataset formats by extension (a binary file named like a text table is not one)."""

_DATA_MAGIC = (
    (b"PAR1", "parquet"),
    (b"ARROW1", "arrow"),
    (b"FEA1", "feather"),
    (b"Obj\x01", "avro"),
)
_TEXT_TABLES = frozenset({"csv", "tsv", "jsonl"})
_DATA_DIRS = frozenset({"data", "datasets"})
_TINY = 1024
_STRONG = frozenset({Format.SAFETENSORS, Format.GGUF, Format.NUMPY})
_LABELS = {
    Format.PICKLE: "pickle",
    Format.SAFETENSORS: "safetensors",
    Format.GGUF: "GGUF",
    Format.HDF5: "HDF5 (Keras/TensorFlow)",
    Format.ONNX: "ONNX",
    Format.TF_SAVED_MODEL: "TensorFlow SavedModel",
    Format.NUMPY: "NumPy array",
}


def model_format(suffix: str, head: bytes, binary: bool) -> tuple[str, str] | None:
    """(format, description) of a model file, from its content; ``None`` otherwise."""
    fmt = sniff(head) if binary or suffix in MODEL_EXTENSIONS else Format.UNKNOWN
    if suffix in MODEL_EXTENSIONS:
        if suffix == ".tflite" and head[4:8] == b"TFL3":
            return "tflite", "TensorFlow Lite"
        # Text that merely starts like a compressed stream is not a model.
        named = fmt is not Format.UNKNOWN and (binary or fmt is Format.PICKLE)
        return (_format(fmt, suffix, head), _describe(fmt, suffix, head)) if named else None
    if fmt in _STRONG or (fmt is Format.PICKLE and head[:1] == b"\x80"):
        return str(fmt.value), _describe(fmt, suffix, head)
    if fmt is Format.ZIP and b"data.pkl" in head[:512]:
        return "pytorch-zip", "pickle (PyTorch zip)"
    return None


def _format(fmt: Format, suffix: str, head: bytes) -> str:
    """The ``format`` property: the sniffed format, the zip flavour named."""
    if fmt is not Format.ZIP:
        return str(fmt.value)
    if b"data.pkl" in head[:512] or suffix in (".pt", ".pth", ".ckpt", ".bin"):
        return "pytorch-zip"
    return {".keras": "keras-zip", ".npz": "numpy-zip"}.get(suffix, str(fmt.value))


def _describe(fmt: Format, suffix: str, head: bytes) -> str:
    if fmt is Format.ZIP:
        if b"data.pkl" in head[:512] or suffix in (".pt", ".pth", ".ckpt", ".bin"):
            return "pickle (PyTorch zip)"
        return {".keras": "Keras v3 (zip)", ".npz": "NumPy archive (zip)"}.get(
            suffix, f"zip archive ({suffix or 'no extension'})"
        )
    if fmt is Format.PICKLE and suffix == ".joblib":
        return "pickle (joblib)"
    if fmt in _LABELS:
        return _LABELS[fmt]
    return f"{fmt.value} ({suffix or 'no extension'})"


def dataset_format(rel: str, suffix: str, head: bytes, binary: bool, size: int) -> str | None:
    """The dataset format of a file, or ``None``."""
    fmt = next((name for magic, name in _DATA_MAGIC if binary and head.startswith(magic)), None)
    if fmt is None:
        fmt = DATASET_FORMATS.get(suffix)
        if fmt in _TEXT_TABLES and binary:
            return None
    if fmt is None or rel.endswith(".intoto.jsonl"):
        return None
    if size < _TINY and not _DATA_DIRS.intersection(rel.split("/")[:-1]):
        return None
    return fmt
