"""Promotion gates: typed checks that a version must pass to enter a stage.

Each gate is a function of one :class:`GateInput` that returns a
:class:`~ramparts.registry.interface.GateResult`; :data:`GATES` maps names to them and
:func:`evaluate` runs the ones a stage asks for. A gate that cannot decide (a key that
cannot be read, a bundle that does not parse) fails: nothing passes by default.

- ``signature``: the version's OpenSSF Model Signing bundle verifies with one of the
  trusted keys, names the subject digest recorded when the version was pushed, and the
  pushed files matched it.
- ``provenance``: a signed SLSA provenance statement for the version's digest verifies
  with a trusted key and names the configured builder and repository.
- ``scan``: the latest scan has no finding at or above the threshold.
- ``bom``: a CycloneDX ML-BOM is attached.
- ``approval``: the version is approved, by someone who is not its author.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ramparts.core.records import record
from ramparts.core.types import Severity
from ramparts.registry.interface import GateResult
from ramparts.sign.bundle import Bundle
from ramparts.sign.interface import SignError
from ramparts.sign.keys import KeyVerifier
from ramparts.sign.provenance import ProvenancePolicy, verify_provenance
from ramparts.sign.statement import manifest_from_statement

__all__ = ["GATES", "GateInput", "GatePolicy", "evaluate"]


@record
class GatePolicy:
    """What the gates trust: keys, the provenance policy and the scan threshold."""

    trusted_keys: tuple[Path, ...] = ()
    provenance_builder: str | None = None
    provenance_repository: str | None = None
    scan_threshold: Severity = Severity.HIGH


@record
class GateInput:
    """The facts about one version that the gates read."""

    digest: str
    author: str
    state: str
    approved_by: str | None
    signature: Mapping[str, Any] | None
    provenance: bytes | None
    scan: Mapping[str, Any] | None
    bom: bool
    policy: GatePolicy
    approver_name: str | None = None


def _signature(facts: GateInput) -> GateResult:
    record = facts.signature
    if record is None:
        return GateResult("signature", False, "the version is not signed")
    if not record.get("matches"):
        return GateResult(
            "signature", False, f"the pushed files do not match the signature: {record['detail']}"
        )
    if not facts.policy.trusted_keys:
        return GateResult(
            "signature", False, "no trusted key is configured (registry.trusted_keys)"
        )
    reasons = []
    for key in facts.policy.trusted_keys:
        try:
            bundle = Bundle.from_bytes(json.dumps(record["bundle"]).encode())
            payload = KeyVerifier(key).verify_bundle(bundle)
            subject = manifest_from_statement(payload).root_digest
        except SignError as exc:
            reasons.append(f"{key.name}: {exc}")
            continue
        if subject != record["subject"]:
            reasons.append(f"{key.name}: the signature is for another subject")
            continue
        return GateResult("signature", True, f"verified with trusted key {key.name}")
    return GateResult("signature", False, "no trusted key verifies it (" + "; ".join(reasons) + ")")


def _provenance(facts: GateInput) -> GateResult:
    if facts.provenance is None:
        return GateResult("provenance", False, "no provenance is attached")
    policy = facts.policy
    if not (policy.provenance_builder and policy.provenance_repository):
        return GateResult(
            "provenance",
            False,
            "no provenance policy is configured "
            "(registry.provenance_builder and registry.provenance_repository)",
        )
    if not policy.trusted_keys:
        return GateResult("provenance", False, "no trusted key is configured")
    wanted = ProvenancePolicy(policy.provenance_builder, policy.provenance_repository)
    reasons = []
    for key in policy.trusted_keys:
        try:
            verify_provenance(facts.provenance, KeyVerifier(key), facts.digest, wanted)
        except SignError as exc:
            reasons.append(f"{key.name}: {exc}")
            continue
        return GateResult("provenance", True, f"signed by trusted key {key.name}; policy holds")
    return GateResult("provenance", False, "; ".join(reasons))


def _scan(facts: GateInput) -> GateResult:
    if facts.scan is None:
        return GateResult("scan", False, "the version was never scanned")
    threshold = facts.policy.scan_threshold
    counts: Mapping[str, int] = facts.scan.get("counts", {})
    blocking = {name: n for name, n in counts.items() if n and Severity.parse(name) >= threshold}
    if blocking:
        listed = ", ".join(f"{n} {name}" for name, n in sorted(blocking.items()))
        return GateResult("scan", False, f"the latest scan has {listed} finding(s)")
    return GateResult("scan", True, f"no finding at or above {threshold.value}")


def _bom(facts: GateInput) -> GateResult:
    if not facts.bom:
        return GateResult("bom", False, "no ML-BOM is attached")
    return GateResult("bom", True, "CycloneDX ML-BOM attached")


def _approval(facts: GateInput) -> GateResult:
    if facts.state != "approved" or facts.approved_by is None:
        return GateResult("approval", False, "the version is not approved")
    if facts.approved_by == facts.author:
        return GateResult("approval", False, "approved by its own author (separation of duties)")
    return GateResult("approval", True, f"approved by {facts.approver_name or facts.approved_by}")


GATES: Mapping[str, Callable[[GateInput], GateResult]] = {
    "signature": _signature,
    "provenance": _provenance,
    "scan": _scan,
    "bom": _bom,
    "approval": _approval,
}
"""Every gate by name."""


def evaluate(names: Sequence[str], facts: GateInput) -> tuple[GateResult, ...]:
    """Run the named gates on ``facts``, in order."""
    return tuple(GATES[name](facts) for name in names)
