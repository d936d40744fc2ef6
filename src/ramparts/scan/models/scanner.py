"""The model-file scanner: decides each item's format by content and dispatches.

Pickles go to the static pickle interpreter; zip, tar and compressed streams are
opened within limits and their members come back through the runner (so a pickle
inside a zip inside a tar.gz is found); NumPy files with object arrays have their
embedded pickle scanned. A file whose extension promises one format while its bytes
are another is reported, since that is how scanners that trust names are evaded.
"""

from __future__ import annotations

import functools
import os
import struct
from collections.abc import Callable, Iterable, Iterator

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, Scanner, ScanOutput
from ramparts.scan.models.containers import (
    can_open,
    has_zip_trailer,
    open_compressed,
    open_tar,
    open_zip,
    refuse_unsupported,
)
from ramparts.scan.models.formats import MODEL_EXTENSIONS, Format, expected_formats, sniff
from ramparts.scan.models.pickle_policy import DEFAULT_POLICY, PicklePolicy
from ramparts.scan.models.pickle_scan import scan_pickle_stream
from ramparts.scan.models.pickle_vm import Limits

__all__ = ["ModelScanner"]

_PICKLE_MEMBER_SUFFIXES = (".pkl", ".pickle")
_MAX_NPY_HEADER = 1 << 20


def _mismatch(item: ScanItem, fmt: Format, expected: frozenset[Format]) -> Finding:
    promised = ", ".join(sorted(f.value for f in expected))
    disguised_pickle = fmt is Format.PICKLE and Format.PICKLE not in expected
    return Finding(
        rule_id="RMP-MODEL-001",
        title="file content does not match its extension",
        message=(
            f"{item.name!r} is named as {promised} but its content is {fmt.value}; "
            "tools that trust the extension would skip or mis-load it"
        ),
        severity=Severity.HIGH if disguised_pickle else Severity.MEDIUM,
        confidence=Confidence.HIGH,
        location=item.location(offset=0),
        references=("CWE-436", "AML.T0010.003"),
        remediation="Rename the file to its real format or replace it with the expected one.",
        scanner="models",
    )


def _npy_header(head: bytes) -> tuple[dict[str, object], int] | str:
    """Parse a .npy header from ``head``; return (header, data offset) or the problem."""
    major = head[6] if len(head) > 6 else 0
    layout = {1: ("<H", 10), 2: ("<I", 12), 3: ("<I", 12)}.get(major)
    if layout is None:
        return f"unknown format version {major}"
    fmt, start = layout
    if len(head) < start:
        return "truncated header"
    (hlen,) = struct.unpack_from(fmt, head, 8)
    raw = head[start : start + hlen]
    if hlen > _MAX_NPY_HEADER or len(raw) < hlen:
        return f"header of {hlen} bytes is longer than the bytes available"
    import ast  # noqa: PLC0415 - start-up time: only numpy files need it

    try:
        # literal_eval evaluates literals only (dicts, strings, tuples), never code.
        header = ast.literal_eval(raw.decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return "header is not a Python literal"
    if not isinstance(header, dict):
        return "header is not a dict"
    return header, start + hlen


def _has_object_dtype(descr: object) -> bool:
    if isinstance(descr, str):
        return "O" in descr.lstrip("<>|=")[:1]
    if isinstance(descr, list):
        return any(
            isinstance(field, tuple) and len(field) >= 2 and _has_object_dtype(field[1])
            for field in descr
        )
    return True  # an unexpected descriptor shape: treat as objects, scan the payload


@functools.lru_cache(maxsize=8)
def _policy(allow: tuple[str, ...], unsafe_allow: tuple[str, ...]) -> PicklePolicy:
    return DEFAULT_POLICY.extended(allow, unsafe_allow)


def policy_for(ctx: ScanContext) -> PicklePolicy:
    """The pickle policy of this run: the built-in allowlist plus ``[scan.models]``."""
    models = ctx.settings.models
    return _policy(models.allow, models.unsafe_allow)


@functools.lru_cache(maxsize=8)
def _limits(workers: int) -> Limits:
    return Limits(workers=workers)


def limits_for(ctx: ScanContext) -> Limits:
    """The pickle interpreter's limits in this run: a long data run in a file may be
    walked by two processes unless ``[scan] workers = 1``."""
    return _limits(min(2, ctx.settings.workers or os.cpu_count() or 1))


def _scan_pickle(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    with item.open() as fh:
        yield from scan_pickle_stream(
            fh, path=item.path, member=item.member, policy=policy_for(ctx), limits=limits_for(ctx)
        )
    # A pickle followed by a zip is read as a pickle by loaders that start at byte 0
    # and as a zip by those that read the central directory: check both readings.
    if has_zip_trailer(item):
        yield from open_zip(item, ctx, scan_prefix=False)


def _scan_numpy(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    parsed = _npy_header(item.head)
    if isinstance(parsed, str):
        yield Finding(
            rule_id="RMP-NUMPY-001",
            title="malformed NumPy file",
            message=f"the .npy header cannot be read: {parsed}",
            severity=Severity.MEDIUM,
            location=item.location(offset=0),
            references=("CWE-20",),
            scanner="models",
        )
        return
    header, offset = parsed
    if not _has_object_dtype(header.get("descr")):
        return
    yield Finding(
        rule_id="RMP-NUMPY-002",
        title="NumPy array of Python objects",
        message="the array holds pickled objects; loading needs allow_pickle=True",
        severity=Severity.MEDIUM,
        location=item.location(offset=offset),
        references=("CWE-502",),
        remediation="Store numeric dtypes only, or convert to safetensors.",
        scanner="models",
    )
    # Object arrays are stored as a pickle after the header; np.load runs it when
    # allow_pickle=True. Scan that pickle like any other.
    with item.open() as fh:
        fh.seek(offset)
        yield from scan_pickle_stream(
            fh, path=item.path, member=item.member, policy=policy_for(ctx)
        )


Handler = Callable[[ScanItem, ScanContext], Iterable[ScanOutput]]


def _compressed_if_possible(item: ScanItem, ctx: ScanContext, kind: str) -> Iterable[ScanOutput]:
    """lz4 and zstd streams (joblib can write lz4) when their library is installed;
    otherwise a finding says they were not inspected."""
    if can_open(kind):
        return open_compressed(item, ctx, kind=kind)
    return refuse_unsupported(item, ctx, kind=kind)


# The format modules below are imported when a file of their format turns up: a scan
# of pickles never pays for the GGUF, ONNX, Keras or TensorFlow readers.


def _sevenzip(item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
    from ramparts.scan.models.sevenzip import open_7z  # noqa: PLC0415

    return open_7z(item, ctx)


def _gguf(item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
    from ramparts.scan.models.gguf import scan_gguf  # noqa: PLC0415

    return scan_gguf(item, ctx)


def _safetensors(item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
    from ramparts.scan.models.safetensors_fmt import scan_safetensors  # noqa: PLC0415

    return scan_safetensors(item, ctx)


def _hdf5(item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
    from ramparts.scan.models.keras import scan_hdf5_raw  # noqa: PLC0415

    return scan_hdf5_raw(item, ctx)


def _onnx(item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
    from ramparts.scan.models.onnx import scan_onnx  # noqa: PLC0415

    return scan_onnx(item, ctx)


def _tf_graph(item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
    from ramparts.scan.models.tensorflow import scan_tf_graph  # noqa: PLC0415

    return scan_tf_graph(item, ctx)


def _text_model(item: ScanItem, ctx: ScanContext, *, keras: bool) -> Iterable[ScanOutput]:
    """TorchScript code, a Keras config or a TF graph: formats recognised by shape."""
    from ramparts.scan.models.keras import scan_keras_config  # noqa: PLC0415
    from ramparts.scan.models.tensorflow import looks_like_graph_def  # noqa: PLC0415
    from ramparts.scan.models.torchscript import (  # noqa: PLC0415
        is_torchscript_code,
        scan_torchscript_code,
    )

    if is_torchscript_code(item):
        return scan_torchscript_code(item, ctx)
    if keras:
        return scan_keras_config(item, ctx)
    if looks_like_graph_def(item.head, item.name.lower()):
        return _tf_graph(item, ctx)
    return ()


_HANDLERS: dict[Format, Handler] = {
    Format.PICKLE: _scan_pickle,
    Format.ZIP: open_zip,
    Format.TAR: open_tar,
    Format.GZIP: functools.partial(open_compressed, kind="gzip"),
    Format.BZIP2: functools.partial(open_compressed, kind="bzip2"),
    Format.XZ: functools.partial(open_compressed, kind="xz"),
    Format.ZLIB: functools.partial(open_compressed, kind="zlib"),
    Format.SEVENZIP: _sevenzip,
    Format.LZ4: functools.partial(_compressed_if_possible, kind="lz4"),
    Format.ZSTD: functools.partial(_compressed_if_possible, kind="zstd"),
    Format.NUMPY: _scan_numpy,
    Format.SAFETENSORS: _safetensors,
    Format.GGUF: _gguf,
    Format.HDF5: _hdf5,
    Format.ONNX: _onnx,
    Format.TF_SAVED_MODEL: _tf_graph,
}

_KERAS_CONFIG_NAMES = frozenset({"config.json", "model.json"})


class ModelScanner(Scanner):
    """Model files of every pickle-based format and their containers; never loads them."""

    name = "models"
    description = (
        "model files: pickle, PyTorch, joblib, NumPy, Keras, safetensors, GGUF (never loaded)"
    )

    def prepare(self, ctx: ScanContext) -> None:
        """Build the pickle policy now, so a bad ``[scan.models]`` entry fails at once."""
        policy_for(ctx)

    def accepts(self, item: ScanItem) -> bool:
        """Items whose content is a handled format, or whose name promises a model file."""
        if sniff(item.head) in _HANDLERS or self._keras_config(item) or _torchscript(item):
            return True
        name = item.name.lower()
        dot = name.rfind(".")
        return dot > 0 and name[dot:] in MODEL_EXTENSIONS

    def scan(self, item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
        """Check the extension against the content, then dispatch on the content."""
        fmt = sniff(item.head)
        expected = expected_formats(item.name)
        if fmt is Format.UNKNOWN and item.name.lower().endswith(_PICKLE_MEMBER_SUFFIXES):
            # A member named as a pickle is read as one even if it hides its start:
            # the interpreter reports what it can decode and that the rest is malformed.
            fmt = Format.PICKLE
        if expected is not None and fmt not in expected:
            yield _mismatch(item, fmt, expected)
        handler = _HANDLERS.get(fmt)
        if handler is not None:
            yield from handler(item, ctx)
        else:
            yield from _text_model(item, ctx, keras=self._keras_config(item))

    @staticmethod
    def _keras_config(item: ScanItem) -> bool:
        # Keras configs are JSON: recognised by name inside a container (config.json of
        # a .keras zip) or by shape, so a renamed config is still read.
        in_container = bool(item.member) and item.name in _KERAS_CONFIG_NAMES
        if in_container:
            return True
        if not item.head.lstrip().startswith(b"{"):
            return False  # not JSON: the keras module is not imported for every file
        from ramparts.scan.models.keras import looks_like_keras_config  # noqa: PLC0415

        return looks_like_keras_config(item.head)


def _torchscript(item: ScanItem) -> bool:
    if not item.name.endswith(".py"):
        return False  # not code: the torchscript module is not imported for every file
    from ramparts.scan.models.torchscript import is_torchscript_code  # noqa: PLC0415

    return is_torchscript_code(item)
