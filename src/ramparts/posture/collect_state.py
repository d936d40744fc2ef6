"""Evidence from ramparts' own state: the registry, identities, the audit log and the
gateway configuration.

The command line reads the state (it owns the wiring) and hands plain values here;
each function turns them into facts. ``None`` for a source means it is not in use, and
its controls then say so (not applicable, or failing where the guidance asks for it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ramparts.core.records import record
from ramparts.core.types import Location, PrincipalKind
from ramparts.gateway.config import GatewayConfig
from ramparts.gateway.guards import guard_chains
from ramparts.gateway.interface import GatewayError
from ramparts.policy.identity_types import ApiKeyInfo, Identity
from ramparts.posture.interface import Fact
from ramparts.registry.interface import Version

__all__ = [
    "ALL_GATES",
    "AuditState",
    "RegistryState",
    "collect_audit",
    "collect_gateway",
    "collect_identities",
    "collect_registry",
]

ALL_GATES = ("signature", "provenance", "scan", "bom", "approval")
_STALE_KEY_DAYS = 90
_PRIVILEGED = frozenset({"admin", "model-approver", "model-publisher"})


def _listed(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _items(name: str, items: Sequence[str], bad: str, good: str) -> Fact:
    detail = f"{len(items)} {bad}: {_listed(items)}" if items else good
    return Fact(name, tuple(items), detail)


@record
class RegistryState:
    """What posture reads of the registry: every version, the gates and orphans."""

    versions: tuple[Version, ...]
    gates: Mapping[str, tuple[str, ...]]
    orphans: Mapping[str, Sequence[Mapping[str, object]]]
    kms: bool


def collect_registry(state: RegistryState | None) -> tuple[Fact, ...]:
    """Facts of the model registry; ``None`` when no state database is in use."""
    if state is None:
        none = "no ramparts registry in use (no state database)"
        return (
            Fact("registry.in_use", False, none),
            *(
                Fact(name, None, none)
                for name in (
                    "registry.prod_gates_missing",
                    "registry.staging_scan_gate",
                    "registry.prod_unsigned",
                    "registry.prod_unapproved",
                    "registry.prod_unclean",
                    "registry.prod_without_provenance",
                    "registry.orphaned",
                    "registry.kms",
                )
            ),
        )
    prod = [v for v in state.versions if "prod" in v.stages]
    in_use = bool(state.versions)
    missing = [g for g in ALL_GATES if g not in state.gates.get("prod", ())]
    unclean = [
        v.ref for v in prod if v.scan is None or int(dict(v.scan).get("blocking", 0) or 0) > 0
    ]
    orphans = [
        f"{kind}: {item.get('ref') or item.get('name') or item.get('id')}"
        for kind, entries in state.orphans.items()
        for item in entries
    ]
    return (
        Fact(
            "registry.in_use",
            in_use,
            f"{len(state.versions)} registered version(s), {len(prod)} in prod"
            if in_use
            else "the registry holds no version",
        ),
        _items(
            "registry.prod_gates_missing",
            missing,
            "promotion gate(s) not required for prod",
            "prod requires every gate: " + ", ".join(ALL_GATES),
        ),
        Fact(
            "registry.staging_scan_gate",
            "scan" in state.gates.get("staging", ()),
            "staging requires a clean scan"
            if "scan" in state.gates.get("staging", ())
            else "staging promotion does not require a clean scan",
        ),
        _items(
            "registry.prod_unsigned",
            [v.ref for v in prod if not v.signed],
            "prod version(s) without a matching signature",
            "every prod version is signed" if prod else "no version is in prod",
        ),
        _items(
            "registry.prod_unapproved",
            [v.ref for v in prod if not v.approved_by or v.approved_by == v.author],
            "prod version(s) not approved by someone other than the author",
            "every prod version was approved by someone other than its author"
            if prod
            else "no version is in prod",
        ),
        _items(
            "registry.prod_unclean",
            unclean,
            "prod version(s) without a clean scan",
            "every prod version has a clean scan" if prod else "no version is in prod",
        ),
        _items(
            "registry.prod_without_provenance",
            [v.ref for v in prod if not v.provenance],
            "prod version(s) without provenance",
            "every prod version has provenance" if prod else "no version is in prod",
        ),
        _items(
            "registry.orphaned",
            orphans,
            "orphaned deployment(s), unowned asset(s) or idle version(s)",
            "no orphaned deployment, unowned asset or idle version",
        ),
        Fact(
            "registry.kms",
            state.kms,
            "data keys are wrapped by a customer master key (registry.kms)"
            if state.kms
            else "data keys are wrapped by local key files, not a KMS or Vault key",
        ),
    )


def collect_identities(
    identities: Sequence[Identity] | None,
    keys: Mapping[str, Sequence[ApiKeyInfo]],
    with_factor: Iterable[str],
    *,
    token_lifetime_minutes: int,
    now: datetime,
) -> tuple[Fact, ...]:
    """Facts of identities: admins, service identities, stale keys, second factors."""
    lifetime = Fact(
        "identity.token_lifetime_minutes",
        token_lifetime_minutes,
        f"access tokens live {token_lifetime_minutes} minute(s) (identity.token_lifetime_minutes)",
    )
    if identities is None:
        none = "no identity store in use (no state database)"
        return (
            Fact("identity.in_use", False, none),
            lifetime,
            *(
                Fact(name, None, none)
                for name in (
                    "identity.admins",
                    "identity.service_admins",
                    "identity.stale_keys",
                    "identity.privileged_without_mfa",
                    "identity.author_and_approver",
                )
            ),
        )
    active = [i for i in identities if i.disabled_at is None]
    factors = frozenset(with_factor)
    stale_before = now - timedelta(days=_STALE_KEY_DAYS)
    stale = [
        f"{i.name} (key {k.key_id[:8]}, {k.created_at.date().isoformat()})"
        for i in active
        for k in keys.get(i.name, ())
        if k.revoked_at is None and k.created_at < stale_before
    ]
    humans = [i for i in active if i.kind is PrincipalKind.HUMAN]
    return (
        Fact("identity.in_use", bool(active), f"{len(active)} active identit(y/ies)"),
        lifetime,
        _items(
            "identity.admins",
            [i.name for i in active if "admin" in i.roles],
            "identit(y/ies) hold the admin role",
            "no identity holds the admin role",
        ),
        _items(
            "identity.service_admins",
            [i.name for i in active if i.kind is PrincipalKind.SERVICE and "admin" in i.roles],
            "service identit(y/ies) hold the admin role",
            "no service identity holds the admin role",
        ),
        _items(
            "identity.stale_keys",
            stale,
            f"API key(s) older than {_STALE_KEY_DAYS} days and never rotated",
            f"no active API key is older than {_STALE_KEY_DAYS} days",
        ),
        _items(
            "identity.privileged_without_mfa",
            [i.name for i in humans if _PRIVILEGED & set(i.roles) and i.id not in factors],
            "person(s) with admin, approver or publisher roles and no second factor",
            "every person with admin, approver or publisher roles has a second factor",
        ),
        _items(
            "identity.author_and_approver",
            [i.name for i in active if {"model-author", "model-approver"} <= set(i.roles)],
            "identit(y/ies) hold both model-author and model-approver",
            "no identity holds both model-author and model-approver",
        ),
    )


@record
class AuditState:
    """What posture reads of the audit log."""

    entries: int
    verified: bool
    detail: str
    checkpoints: int
    worm: bool
    retention_days: int


def collect_audit(state: AuditState | None, retention_days: int) -> tuple[Fact, ...]:
    """Facts of the audit log; ``None`` when no state database is in use."""
    retention = Fact(
        "audit.retention_days",
        retention_days,
        f"audit entries are kept at least {retention_days} days (audit.retention_days)",
    )
    if state is None:
        none = "no ramparts audit log in use (no state database)"
        return (
            Fact("audit.in_use", False, none),
            retention,
            Fact("audit.verifies", None, none),
            Fact("audit.checkpoints", None, none),
            Fact("audit.worm", None, none),
        )
    return (
        Fact(
            "audit.in_use",
            state.entries > 0,
            f"the audit log holds {state.entries} entr(y/ies)",
        ),
        retention,
        Fact("audit.verifies", state.verified, state.detail),
        Fact(
            "audit.checkpoints",
            state.checkpoints,
            f"{state.checkpoints} signed checkpoint(s)",
        ),
        Fact(
            "audit.worm",
            state.worm,
            "checkpoints are also written to a write-once target (audit.worm_*)"
            if state.worm
            else "checkpoints are not copied to a write-once target (audit.worm_dir or s3 bucket)",
        ),
    )


def _plain_http(upstream: str) -> bool:
    parts = urlsplit(upstream)
    if parts.scheme != "http":
        return False
    host = parts.hostname or ""
    if host == "localhost":
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True


_GATEWAY_FACTS = (
    "gateway.injection_blocked",
    "gateway.input_redaction",
    "gateway.output_redaction",
    "gateway.exfiltration_guard",
    "gateway.html_sanitised",
    "gateway.tool_arguments",
    "gateway.canary",
    "gateway.limiter_fail_closed",
    "gateway.plain_http_upstreams",
    "gateway.max_body_bytes",
    "gateway.shared_state",
)


def collect_gateway(
    config: GatewayConfig | None, source: str | None, *, redis: bool, error: str | None = None
) -> tuple[Fact, ...]:
    """Facts of the gateway configuration (``gateway.toml``); ``None`` when there is none."""
    where = (Location(source),) if source else ()
    if config is None:
        detail = error or "no gateway configuration (gateway.toml) found"
        return (
            Fact("gateway.configured", False if error is None else None, detail, where),
            *(Fact(name, None, detail, where) for name in _GATEWAY_FACTS),
        )
    try:
        inputs, outputs = guard_chains(config.guards)
    except GatewayError as exc:
        detail = f"{source}: {exc}"
        return (
            Fact("gateway.configured", True, detail, where),
            *(Fact(name, None, detail, where) for name in _GATEWAY_FACTS),
        )
    acts_in = {g.name: g.action.value for g in inputs}
    acts_out = {g.name: g.action.value for g in outputs}

    def guard(name: str, chain: Mapping[str, str], what: str, block_only: bool = False) -> Fact:
        action = chain.get(name)
        ok = action is not None and (not block_only or action == "block")
        shown = action or "off"
        return Fact(f"gateway.{what}", ok, f"{source}: guard {name!r} is {shown}", where)

    plain = [f"{r.name} -> {r.upstream}" for r in config.routes if _plain_http(r.upstream)]
    return (
        Fact("gateway.configured", True, f"{source}: {len(config.routes)} route(s)", where),
        guard("injection", acts_in, "injection_blocked", block_only=True),
        Fact(
            "gateway.input_redaction",
            "secrets" in acts_in and "pii" in acts_in,
            f"{source}: secrets and personal data in prompts: "
            f"{'redacted' if 'secrets' in acts_in and 'pii' in acts_in else 'not both guarded'}",
            where,
        ),
        Fact(
            "gateway.output_redaction",
            "secrets" in acts_out and "pii" in acts_out,
            f"{source}: secrets and personal data in answers: "
            f"{'redacted' if 'secrets' in acts_out and 'pii' in acts_out else 'not both guarded'}",
            where,
        ),
        guard("exfiltration", acts_out, "exfiltration_guard"),
        guard("html", acts_out, "html_sanitised"),
        guard("tool_arguments", acts_in, "tool_arguments"),
        guard("canary", acts_out, "canary"),
        Fact(
            "gateway.limiter_fail_closed",
            config.limiter_unavailable == "closed",
            f"{source}: when the rate limiter is unreachable, requests are "
            + ("refused" if config.limiter_unavailable == "closed" else "served"),
            where,
        ),
        Fact(
            "gateway.plain_http_upstreams",
            tuple(plain),
            f"{source}: {len(plain)} route(s) reach a remote upstream over plain HTTP: "
            f"{_listed(plain)}"
            if plain
            else f"{source}: every remote upstream is reached over HTTPS",
            where,
        ),
        Fact(
            "gateway.max_body_bytes",
            config.max_body_bytes,
            f"{source}: requests over {config.max_body_bytes} bytes are refused",
            where,
        ),
        Fact(
            "gateway.shared_state",
            True if redis else None,
            "rate limits and the kill switch are shared through Redis (redis_url)"
            if redis
            else "no redis_url: limits and the kill switch are per process, which is right "
            "for one replica only; with several replicas, set redis_url",
            where,
        ),
    )
