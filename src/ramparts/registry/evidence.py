"""Evidence gathered when a version is pushed: a scan summary, the ML-BOM, the signature check.

Nothing here loads a model: the scan is ramparts' static model and secret scanners,
the BOM is built from file contents and hashes, and the signature check rehashes the
files with the parameters the signature recorded.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from ramparts._version import __version__
from ramparts.core.clock import SystemClock
from ramparts.core.settings import ScanSettings
from ramparts.registry.bom import BomOptions, build_bom
from ramparts.registry.interface import RegistryError
from ramparts.scan.interface import ScanContext
from ramparts.scan.registry import load
from ramparts.scan.runner import run_scan
from ramparts.sign.bundle import Bundle
from ramparts.sign.interface import SignError
from ramparts.sign.manifest import hash_model
from ramparts.sign.statement import manifest_from_statement

__all__ = ["SCANNERS", "bom_for", "check_signature", "scan_summary"]

SCANNERS = ("models", "secrets")
"""What a pushed artifact is scanned with."""
_LISTED = 50


def scan_summary(path: Path, settings: ScanSettings) -> dict[str, Any]:
    """Scan ``path`` with :data:`SCANNERS`; the counts by severity and the first findings."""
    report = run_scan(path, load(SCANNERS), ctx=ScanContext(settings=settings), target=path.name)
    counts = Counter(f.severity.value for f in report.findings)
    return {
        "tool": f"ramparts {__version__}",
        "scanners": list(SCANNERS),
        "at": SystemClock().now().isoformat(),
        "files": report.stats.files_scanned,
        "counts": dict(sorted(counts.items())),
        "findings": [
            {
                "rule": f.rule_id,
                "severity": f.severity.value,
                "location": str(f.location),
                "title": f.title,
            }
            for f in report.findings[:_LISTED]
        ],
    }


def bom_for(path: Path, name: str, owner: str | None, settings: ScanSettings) -> str | None:
    """The CycloneDX ML-BOM of a pushed folder as JSON text (``None`` for a single file)."""
    if not path.is_dir():
        return None
    document = build_bom(path, BomOptions(settings=settings, name=name, owner=owner))
    return json.dumps(document, sort_keys=True)


def check_signature(path: Path, bundle_bytes: bytes, signature_file: Path | None) -> dict[str, Any]:
    """Whether ``path`` matches the manifest ``bundle_bytes`` signs (the key is checked later).

    Returns the record the ``signature`` gate reads: the bundle, the signed subject
    digest, whether the files match, and the differences when they do not.
    """
    try:
        bundle = Bundle.from_bytes(bundle_bytes)
        expected = manifest_from_statement(bundle.envelope.payload)
    except SignError as exc:
        raise RegistryError(f"the signature cannot be read: {exc}") from exc
    serialization = expected.serialization
    if signature_file is not None and path.is_dir():
        try:
            inside = signature_file.resolve().relative_to(path.resolve()).as_posix()
        except ValueError:
            inside = None
        if inside is not None:
            serialization = serialization.with_ignores([inside])
    try:
        actual = hash_model(path, serialization)
    except SignError as exc:
        raise RegistryError(f"cannot hash {path}: {exc}") from exc
    differences = expected.compare(actual)
    return {
        "bundle": json.loads(bundle_bytes),
        "subject": expected.root_digest,
        "matches": not differences,
        "detail": "; ".join(str(d) for d in differences[:10]) or "all files match",
    }
