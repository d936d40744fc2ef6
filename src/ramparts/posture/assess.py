"""One posture assessment: gather every collector's facts, judge the catalogue, score.

The command line reads ramparts' state and the settings, then calls :func:`assess`
with plain values; everything here is a library call a user can make as well::

    report = assess(PostureInputs(root=Path("."), files=files, scan=scan_report, ...))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from ramparts._version import __version__
from ramparts.core.records import field, record
from ramparts.core.types import Report
from ramparts.gateway.config import GatewayConfig
from ramparts.policy.identity_types import ApiKeyInfo, Identity
from ramparts.posture.catalogue import load_catalogue
from ramparts.posture.collect_repo import collect_repository
from ramparts.posture.collect_scan import collect_discovery, collect_findings, collect_signatures
from ramparts.posture.collect_state import (
    AuditState,
    RegistryState,
    collect_audit,
    collect_gateway,
    collect_identities,
    collect_registry,
)
from ramparts.posture.engine import build_report
from ramparts.posture.frameworks import load_frameworks
from ramparts.posture.interface import Control, Fact, PostureError, PostureReport
from ramparts.scan.discover import Inventory, ShadowFinding

__all__ = ["GatewayInput", "IdentityInput", "PostureInputs", "assess", "gather_facts"]


@record
class IdentityInput:
    """The identity store as posture reads it (``identities`` ``None``: not in use)."""

    identities: Sequence[Identity] | None = None
    keys: Mapping[str, Sequence[ApiKeyInfo]] = field(default_factory=dict)
    with_factor: frozenset[str] = frozenset()
    token_lifetime_minutes: int = 15


@record
class GatewayInput:
    """The gateway configuration as posture reads it."""

    config: GatewayConfig | None = None
    source: str | None = None
    redis: bool = False
    error: str | None = None


@record
class PostureInputs:
    """Everything one assessment reads."""

    root: Path
    files: Sequence[Path]
    scan: Report
    inventory: Inventory
    shadow: Sequence[ShadowFinding]
    now: datetime
    vulnerability_data: bool = False
    registered_digests: frozenset[str] | None = None
    registry: RegistryState | None = None
    identity: IdentityInput = field(default_factory=IdentityInput)
    audit: AuditState | None = None
    retention_days: int = 183
    gateway: GatewayInput = field(default_factory=GatewayInput)


def _derived(facts: Mapping[str, Fact]) -> Iterable[Fact]:
    """Facts that combine others: an inventory is recorded in the registry or a BOM."""
    bom, registry = facts["bom.ml_bom"], facts["registry.in_use"]
    recorded = bom.value is True or registry.value is True
    if registry.value is True:
        detail = f"the registry records the models ({registry.detail})"
    else:
        detail = bom.detail if bom.value is True else f"{bom.detail}; {registry.detail}"
    yield Fact("inventory.recorded", recorded, detail, bom.locations)


def gather_facts(inputs: PostureInputs) -> dict[str, Fact]:
    """Every fact of every collector, by name (a name produced twice is a bug)."""
    groups: list[Iterable[Fact]] = [
        collect_repository(inputs.root, inputs.files),
        collect_findings(inputs.scan, vulnerability_data=inputs.vulnerability_data),
        collect_discovery(
            inputs.inventory,
            inputs.shadow,
            registered_digests=inputs.registered_digests,
            files=inputs.files,
            root=inputs.root,
        ),
        collect_signatures(inputs.inventory, inputs.root),
        collect_registry(inputs.registry),
        collect_identities(
            inputs.identity.identities,
            inputs.identity.keys,
            inputs.identity.with_factor,
            token_lifetime_minutes=inputs.identity.token_lifetime_minutes,
            now=inputs.now,
        ),
        collect_audit(inputs.audit, inputs.retention_days),
        collect_gateway(
            inputs.gateway.config,
            inputs.gateway.source,
            redis=inputs.gateway.redis,
            error=inputs.gateway.error,
        ),
    ]
    facts: dict[str, Fact] = {}
    for group in groups:
        for fact in group:
            if fact.name in facts:
                raise PostureError(f"the fact {fact.name} is produced twice")
            facts[fact.name] = fact
    for fact in _derived(facts):
        facts[fact.name] = fact
    return facts


def _shadow_rows(shadow: Sequence[ShadowFinding]) -> list[dict[str, Any]]:
    return [
        {
            "kind": s.asset.kind,
            "name": s.asset.name,
            "provider": s.asset.provider,
            "location": str(s.asset.location),
            "reason": s.reason,
        }
        for s in shadow
    ]


def assess(
    inputs: PostureInputs,
    *,
    target: str,
    previous: Mapping[str, Any] | None = None,
    controls: Sequence[Control] | None = None,
) -> PostureReport:
    """Judge the built-in catalogue (or ``controls``) on ``inputs``' facts."""
    inventory = dict(inputs.inventory.to_dict())
    inventory["shadow"] = _shadow_rows(inputs.shadow)
    return build_report(
        tool_version=__version__,
        target=target,
        started_at=inputs.now,
        controls=load_catalogue() if controls is None else controls,
        facts=gather_facts(inputs),
        frameworks=load_frameworks(),
        inventory=inventory,
        previous=previous,
    )
