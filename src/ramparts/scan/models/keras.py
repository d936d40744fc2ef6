"""Keras model configs: Lambda layers, and references to code outside Keras.

A ``.keras`` file is a zip whose ``config.json`` describes the model; legacy ``.h5``
files carry the same JSON in a ``model_config`` attribute. Loading deserialises every
object the config names: a ``Lambda`` layer carries marshalled Python bytecode
(CVE-2024-3660), and a ``module``/``registered_name`` outside Keras makes the loader
import and call arbitrary code even in safe mode (CVE-2025-1550). The config is walked
as JSON; nothing is imported or built.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, ScanOutput

__all__ = ["config_risks", "looks_like_keras_config", "scan_hdf5_raw", "scan_keras_config"]

_MAX_CONFIG = 64 << 20
_SAFE_MODULES = re.compile(
    r"^(keras|tf_keras|tensorflow\.keras|keras_nlp|keras_cv|keras_hub)(\.|$)"
)
# Modules whose objects Keras configs legitimately name outside the keras package.
_SAFE_EXACT = frozenset({"builtins"})
_LAMBDA_CLASSES = frozenset({"Lambda", "TFOpLambda", "SlicingOpLambda"})
_REFS = ("CWE-94", "AML.T0010.003", "AML.T0011.000", "OWASP LLM03:2025")


def looks_like_keras_config(head: bytes) -> bool:
    """Whether ``head`` starts a JSON document shaped like a Keras model config."""
    text = head.lstrip()
    return text.startswith(b"{") and b'"class_name"' in text and b'"config"' in text


def config_risks(config: Any, path: str = "$") -> Iterator[tuple[str, str, Severity, str]]:
    """Walk a Keras config; yield (rule id, where, severity, what) for each risky object."""
    stack: list[tuple[Any, str]] = [(config, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, list):
            stack.extend((v, f"{where}[{i}]") for i, v in enumerate(node))
            continue
        if not isinstance(node, dict):
            continue
        cls = node.get("class_name")
        module = node.get("module")
        registered = node.get("registered_name")
        if cls in _LAMBDA_CLASSES:
            name = (
                (node.get("config") or {}).get("name", "?")
                if isinstance(node.get("config"), dict)
                else "?"
            )
            yield (
                "RMP-KERAS-001",
                where,
                Severity.CRITICAL,
                f"{cls} layer {name!r} holds Python code that runs when the model is loaded",
            )
        if (
            isinstance(module, str)
            and module
            and not (_SAFE_MODULES.match(module) or module in _SAFE_EXACT)
        ):
            yield (
                "RMP-KERAS-002",
                where,
                Severity.CRITICAL if _dangerous(module) else Severity.HIGH,
                f"object {cls!r} is imported from module {module!r}, outside Keras",
            )
        if isinstance(registered, str) and ">" in registered:
            package = registered.split(">", 1)[0]
            if not _SAFE_MODULES.match(package):
                yield (
                    "RMP-KERAS-003",
                    where,
                    Severity.HIGH,
                    f"custom object {registered!r} must be registered by code the loader runs",
                )
        if node.get("class_name") == "function" or (isinstance(node.get("function"), (list, dict))):
            stack.append((node.get("function"), f"{where}.function"))
        stack.extend((v, f"{where}.{k}") for k, v in node.items() if isinstance(v, (dict, list)))


def _dangerous(module: str) -> bool:
    root = module.split(".", 1)[0]
    return root in {
        "os",
        "posix",
        "nt",
        "subprocess",
        "builtins",
        "sys",
        "shutil",
        "importlib",
        "runpy",
        "pickle",
        "marshal",
        "socket",
        "ctypes",
        "pty",
        "code",
        "webbrowser",
    }


def _findings(item: ScanItem, config: Any, offset: int | None) -> Iterator[Finding]:
    for rule, where, severity, what in config_risks(config):
        yield Finding(
            rule_id=rule,
            title={
                "RMP-KERAS-001": "Keras Lambda layer (code in the model)",
                "RMP-KERAS-002": "Keras config imports code outside Keras",
                "RMP-KERAS-003": "Keras custom object",
            }[rule],
            message=f"{what} (at {where})",
            severity=severity,
            confidence=Confidence.HIGH,
            location=item.location(offset=offset),
            evidence=where,
            references=("CVE-2024-3660", "CVE-2025-1550", *_REFS),
            remediation="Rebuild the layer from code you control instead of loading it from the "
            "file; load only with safe_mode=True and review every custom object.",
            scanner="models",
        )


def scan_keras_config(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Parse a Keras config.json (or model.json) and report risky objects."""
    if item.size > _MAX_CONFIG:
        return
    with item.open() as fh:
        raw = fh.read(_MAX_CONFIG)
    try:
        config = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return  # not a Keras config after all; other scanners see the JSON
    yield from _findings(item, config, None)


_H5_CONFIG = re.compile(rb'\{"class_name": ?"')
_CHUNK = 8 << 20


def scan_hdf5_raw(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Find the model_config JSON inside an HDF5 file without an HDF5 library.

    HDF5 stores a string attribute contiguously, so the JSON can be found by its
    opening bytes and decoded with a raw JSON decoder that stops at its end. Every
    candidate in the file is tried, in bounded chunks.
    """
    decoder = json.JSONDecoder()
    with item.open() as fh:
        offset = 0
        tail = b""
        while chunk := fh.read(_CHUNK):
            data = tail + chunk
            base = offset - len(tail)
            for match in _H5_CONFIG.finditer(data):
                start = match.start()
                window = data[start : start + _MAX_CONFIG]
                if len(window) < _MAX_CONFIG and len(data) - start == len(window):
                    window += fh.read(_MAX_CONFIG - len(window))
                    fh.seek(offset + len(chunk))
                try:
                    config, _ = decoder.raw_decode(window.decode("utf-8", errors="replace"))
                except ValueError:
                    continue
                yield from _findings(item, config, base + start)
            offset += len(chunk)
            tail = data[-64:]
