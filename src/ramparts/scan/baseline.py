"""Baselines: accept the findings a project already knows, fail only on new ones.

A baseline is a previous ramparts JSON report (``ramparts scan . -f json -o
ramparts-baseline.json``), as with gitleaks' ``--baseline-path``: every finding's
``fingerprint`` in it is known. Fingerprints ignore line numbers and, for secrets,
hash the secret itself, so an edit above a finding keeps it known while a new secret
on the same line is new. A bare JSON list of fingerprints is accepted too.
"""

from __future__ import annotations

import json
from pathlib import Path

from ramparts.core.records import replace
from ramparts.core.types import Report
from ramparts.errors import InputError

__all__ = ["apply_baseline", "load_baseline"]

_MAX_BASELINE_BYTES = 256 << 20


def load_baseline(path: Path) -> frozenset[str]:
    """The fingerprints a baseline file holds; a file that is not one raises InputError."""
    try:
        if path.stat().st_size > _MAX_BASELINE_BYTES:
            raise InputError(f"baseline {path} is larger than {_MAX_BASELINE_BYTES >> 20} MiB")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read baseline {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"baseline {path} is not JSON: {exc}") from exc
    entries = data.get("findings") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise InputError(f"baseline {path} has no 'findings' list (use a ramparts JSON report)")
    prints: set[str] = set()
    for entry in entries:
        value = entry.get("fingerprint") if isinstance(entry, dict) else entry
        if not isinstance(value, str) or not value:
            raise InputError(f"baseline {path} has a finding without a fingerprint")
        prints.add(value)
    return frozenset(prints)


def apply_baseline(report: Report, known: frozenset[str]) -> Report:
    """``report`` without the findings in ``known``; how many were dropped is recorded
    in ``properties["baseline_suppressed"]``."""
    kept = tuple(f for f in report.findings if f.fingerprint not in known)
    properties = {**report.properties, "baseline_suppressed": len(report.findings) - len(kept)}
    return replace(report, findings=kept, properties=properties)
