"""A failed verification as a :class:`~ramparts.core.types.Report` (table, JSON, SARIF).

Every problem is a critical finding: a verification has no warning level.
"""

from __future__ import annotations

from datetime import datetime

from ramparts._version import __version__
from ramparts.core.types import Finding, Location, Report, Severity, Stats
from ramparts.sign.interface import DifferenceKind, VerificationError
from ramparts.sign.model import Signed

__all__ = ["verification_report", "verified_report"]

_RULES = {
    DifferenceKind.CHANGED: ("RMP-SIGN-CHANGED", "File changed since it was signed"),
    DifferenceKind.MISSING: ("RMP-SIGN-MISSING", "Signed file is missing"),
    DifferenceKind.EXTRA: ("RMP-SIGN-EXTRA", "File is not covered by the signature"),
}
_REMEDIATION = (
    "Do not load this model. Restore it from a trusted copy, or have its owner sign it "
    "again after review."
)


def verification_report(
    error: VerificationError, target: str, started_at: datetime, files: int
) -> Report:
    """The report of a verification that failed with ``error``."""
    findings: list[Finding] = []
    for diff in error.differences:
        rule, title = _RULES[diff.kind]
        findings.append(
            Finding(
                rule_id=rule,
                title=title,
                message=str(diff),
                severity=Severity.CRITICAL,
                location=Location(f"{target}/{diff.name}" if diff.name != "." else target),
                evidence=diff.actual or diff.expected,
                remediation=_REMEDIATION,
                scanner="verify",
            )
        )
    if not findings:
        findings.append(
            Finding(
                rule_id=f"RMP-SIGN-{error.rule.upper()}",
                title="Signature does not verify",
                message=error.reason,
                severity=Severity.CRITICAL,
                location=Location(target),
                remediation=_REMEDIATION,
                scanner="verify",
            )
        )
    return Report(
        tool_version=__version__,
        target=target,
        started_at=started_at,
        findings=tuple(findings),
        stats=Stats(files_seen=files, files_scanned=files),
    )


def verified_report(signed: Signed, target: str, started_at: datetime, nbytes: int) -> Report:
    """The report of a verification that passed: no finding, and what was checked."""
    manifest = signed.manifest
    count = len(manifest.resources)
    return Report(
        tool_version=__version__,
        target=target,
        started_at=started_at,
        stats=Stats(files_seen=count, files_scanned=count, bytes_scanned=nbytes),
        properties={
            "verified": True,
            "subject": {"name": manifest.model_name, "digest": {"sha256": manifest.root_digest}},
            "serialization": manifest.serialization.method,
            "hash_type": manifest.serialization.hash_type,
        },
    )
