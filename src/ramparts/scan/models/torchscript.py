"""TorchScript archives: methods in ``code/`` that run when the model is loaded.

A TorchScript archive carries its classes as TorchScript source under ``code/``.
``torch.jit.load`` (and ``torch.load`` on such a file) runs a class's
``__setstate__`` while rebuilding it, so a method defined there executes at load
time; this is how ``weights_only=True`` was bypassed (CVE-2025-32434). The source is
read as text; nothing is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ramparts.core.types import Confidence, Finding, Severity
from ramparts.scan.interface import ScanContext, ScanItem, ScanOutput

__all__ = ["is_torchscript_code", "scan_torchscript_code"]

_MAX_SOURCE = 16 << 20
_LOAD_TIME = re.compile(rb"^\s*def\s+(__setstate__|__reduce__|__reduce_ex__)\s*\(", re.MULTILINE)


def is_torchscript_code(item: ScanItem) -> bool:
    """A ``.py`` member under a ``code/`` folder of an archive."""
    return bool(item.member) and item.name.endswith(".py") and "/code/" in "/" + item.member[-1]


def scan_torchscript_code(item: ScanItem, ctx: ScanContext) -> Iterator[ScanOutput]:
    """Report methods that run when the archive is loaded."""
    with item.open() as fh:
        source = fh.read(_MAX_SOURCE)
    for match in _LOAD_TIME.finditer(source):
        line = source.count(b"\n", 0, match.start()) + 1
        yield Finding(
            rule_id="RMP-TORCHSCRIPT-001",
            title="TorchScript method that runs at load time",
            message=(
                f"the archive's code defines {match.group(1).decode()}, which runs while the "
                "model is loaded, before any of your code can check it"
            ),
            severity=Severity.HIGH,
            confidence=Confidence.MEDIUM,
            location=item.location(line=line),
            evidence=match.group(0).decode("utf-8", "replace").strip(),
            references=("CVE-2025-32434", "CWE-502", "AML.T0010.003", "OWASP LLM03:2025"),
            remediation="Load only TorchScript you built; prefer safetensors for weights.",
            scanner="models",
        )
