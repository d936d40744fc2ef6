"""Roles: built-in ones for the duties the guidance names, and custom ones from YAML.

A role is a list of rules. A rule allows or denies ``actions`` on ``resources``
(resource types, ``*`` for all), optionally only ``when`` every condition holds::

    roles:
      night-shift-approver:
        description: approves models outside business hours, from the office, with MFA
        allow:
          - actions: [approve, read]
            resources: [model]
            when:
              hours: "18:00-08:00"        # UTC; a window may cross midnight
              networks: ["10.20.0.0/16"]
              mfa: true
              environment: [staging]
              classification_at_most: confidential
        deny:
          - actions: [delete]
            resources: ["*"]

Conditions: ``environment`` (resource environment in the list), ``classification_at_most``,
``hours`` (``HH:MM-HH:MM`` UTC), ``weekdays`` (``mon``..``sun``), ``networks`` (CIDRs the
source address must be in), ``mfa`` (must be true), ``owner`` (``self``: the resource's
owner is the principal). An unknown condition, an empty ``when`` and an empty action or
resource list are errors: a rule that says nothing is never read as "anything".
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from datetime import time
from pathlib import Path
from typing import Any

import yaml

from ramparts.core.records import record
from ramparts.policy.interface import CLASSIFICATIONS, RESOURCE_TYPES, Effect, PolicyError, Request

__all__ = ["BUILTIN_ROLES", "Condition", "Role", "Rule", "load_roles"]

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CONDITIONS = (
    "environment",
    "classification_at_most",
    "hours",
    "weekdays",
    "networks",
    "mfa",
    "owner",
)


def _in_hours(window: tuple[time, time], request: Request) -> bool:
    start, end = window
    now = request.context.time.time().replace(tzinfo=None)
    return start <= now < end if start <= end else (now >= start or now < end)


def _at_most(ceiling: str, request: Request) -> bool:
    level = request.resource.classification or "restricted"  # unknown: the most sensitive
    return CLASSIFICATIONS.index(level) <= CLASSIFICATIONS.index(ceiling)


def _from_networks(nets: tuple[Any, ...], request: Request) -> bool:
    ip = request.context.source_ip
    return ip is not None and any(ip in net for net in nets)


def _owned(_: object, request: Request) -> bool:
    owner = request.resource.owner
    return owner is not None and owner == request.principal.id


_TESTS: dict[str, Callable[[Any, Request], bool]] = {
    "environment": lambda value, r: r.resource.environment in value,
    "classification_at_most": _at_most,
    "hours": _in_hours,
    "weekdays": lambda value, r: _WEEKDAYS[r.context.time.weekday()] in value,
    "networks": _from_networks,
    "mfa": lambda _, r: r.context.mfa,
    "owner": _owned,
}
"""How each condition is tested: a typed callable per name, no chain of ifs."""


@record
class Condition:
    """One attribute test of a rule, with the text that explains it."""

    name: str
    value: Any

    def holds(self, request: Request) -> bool:
        """Whether the request meets this condition."""
        return _TESTS[self.name](self.value, request)

    def __str__(self) -> str:
        value = self.value
        if self.name == "hours":
            value = "-".join(t.strftime("%H:%M") for t in value)
        elif isinstance(value, tuple):
            value = ",".join(str(v) for v in value)
        return f"{self.name}={value}"


@record
class Rule:
    """Allow or deny some actions on some resource types, under conditions."""

    effect: Effect
    actions: frozenset[str]
    resources: frozenset[str]
    conditions: tuple[Condition, ...] = ()

    def covers(self, request: Request) -> bool:
        """Whether the rule is about this action and resource type (conditions aside)."""
        action_ok = "*" in self.actions or request.action in self.actions
        resource_ok = "*" in self.resources or request.resource.type in self.resources
        return action_ok and resource_ok

    def failed(self, request: Request) -> list[Condition]:
        """The conditions the request does not meet."""
        return [c for c in self.conditions if not c.holds(request)]

    def __str__(self) -> str:
        actions, resources = ",".join(sorted(self.actions)), ",".join(sorted(self.resources))
        text = f"{self.effect.value} {actions} on {resources}"
        if self.conditions:
            text += " when " + " and ".join(str(c) for c in self.conditions)
        return text


@record
class Role:
    """A named set of rules."""

    name: str
    description: str
    rules: tuple[Rule, ...]


def _names(value: object, what: str, where: str) -> frozenset[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items or not all(isinstance(i, str) and i for i in items):
        raise PolicyError(f"{where}: {what} must be a non-empty list of names")
    return frozenset(items)


def _condition(name: str, value: object, where: str) -> Condition:
    if name not in _CONDITIONS:
        raise PolicyError(f"{where}: unknown condition {name!r} (one of {', '.join(_CONDITIONS)})")
    try:
        if name in ("environment", "weekdays"):
            values = tuple(_names(value, name, where))
            if name == "weekdays" and not set(values) <= set(_WEEKDAYS):
                raise PolicyError(f"{where}: weekdays are {', '.join(_WEEKDAYS)}")
            return Condition(name, values)
        if name == "classification_at_most":
            if value not in CLASSIFICATIONS:
                raise PolicyError(
                    f"{where}: classification must be one of {', '.join(CLASSIFICATIONS)}"
                )
            return Condition(name, value)
        if name == "hours":
            start, _, end = str(value).partition("-")
            return Condition(
                name, (time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))
            )
        if name == "networks":
            nets = tuple(ipaddress.ip_network(n, strict=False) for n in _names(value, name, where))
            return Condition(name, nets)
        if name == "mfa":
            if value is not True:
                raise PolicyError(f"{where}: mfa can only be required (true)")
            return Condition(name, True)
        if value != "self":
            raise PolicyError(f"{where}: owner can only be 'self'")
        return Condition(name, "self")
    except ValueError as exc:
        raise PolicyError(f"{where}: condition {name}: {exc}") from exc


def _rule(effect: Effect, data: object, where: str) -> Rule:
    if not isinstance(data, Mapping):
        raise PolicyError(f"{where}: a rule is a mapping with actions and resources")
    unknown = set(data) - {"actions", "resources", "when"}
    if unknown:
        raise PolicyError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    resources = _names(data.get("resources"), "resources", where)
    bad = resources - {*RESOURCE_TYPES, "*"}
    if bad:
        raise PolicyError(f"{where}: unknown resource type(s) {', '.join(sorted(bad))}")
    conditions: tuple[Condition, ...] = ()
    if "when" in data:
        when = data["when"]
        if not isinstance(when, Mapping) or not when:
            raise PolicyError(
                f"{where}: an empty 'when' is refused; leave it out for no conditions"
            )
        conditions = tuple(_condition(str(k), v, where) for k, v in when.items())
    return Rule(effect, _names(data.get("actions"), "actions", where), resources, conditions)


def _role(name: str, data: object) -> Role:
    if not isinstance(data, Mapping):
        raise PolicyError(f"role {name!r}: expected a mapping with allow and/or deny")
    unknown = set(data) - {"description", "allow", "deny"}
    if unknown:
        raise PolicyError(f"role {name!r}: unknown key(s) {', '.join(sorted(unknown))}")
    rules: list[Rule] = []
    for key, effect in (("allow", Effect.ALLOW), ("deny", Effect.DENY)):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise PolicyError(f"role {name!r}: {key} must be a list of rules")
        rules += [_rule(effect, item, f"role {name!r} {key}[{i}]") for i, item in enumerate(items)]
    if not rules:
        raise PolicyError(f"role {name!r} has no rule")
    return Role(name, str(data.get("description", "")), tuple(rules))


_BUILTIN = """
roles:
  data-scientist:
    description: explores and prepares data, trains in development
    allow:
      - {actions: [read, create, update], resources: [dataset]}
      - {actions: [read, create], resources: [model]}
      - actions: [invoke]
        resources: [endpoint]
        when: {environment: [dev, staging]}
  model-author:
    description: registers and updates model versions; cannot approve or publish them
    allow:
      - {actions: [read, create, update], resources: [model]}
      - {actions: [read], resources: [dataset, stage]}
    deny:
      - {actions: [approve, publish, promote], resources: [model]}
  model-approver:
    description: reviews and approves model versions for promotion (with MFA)
    allow:
      - {actions: [read], resources: [model, dataset, stage, audit]}
      - actions: [approve, reject]
        resources: [model]
        when: {mfa: true}
  model-publisher:
    description: promotes approved versions to staging and production, rolls back
    allow:
      - {actions: [read], resources: [model, stage, endpoint]}
      - actions: [promote, rollback, publish]
        resources: [model, stage, endpoint]
        when: {mfa: true}
  model-auditor:
    description: read-only on the audit log and the registry
    allow:
      - {actions: [read, verify, export], resources: [audit]}
      - {actions: [read], resources: [model, dataset, stage, endpoint, policy]}
  evaluator:
    description: inference in the sandbox only
    allow:
      - {actions: [invoke], resources: [sandbox]}
      - {actions: [read], resources: [model]}
  model-consumer:
    description: applications and people who call model endpoints through the gateway
    allow:
      - {actions: [invoke], resources: [endpoint]}
  fine-tuner:
    description: reads base models and approved datasets, writes fine-tuned versions
    allow:
      - {actions: [read], resources: [model]}
      - actions: [read]
        resources: [dataset]
        when: {classification_at_most: confidential}
      - {actions: [create], resources: [model]}
  admin:
    description: administers policies, identities and keys (with MFA); cannot erase the audit log
    allow:
      - actions: ["*"]
        resources: ["*"]
        when: {mfa: true}
    deny:
      - {actions: [delete, update], resources: [audit]}
"""


def _parse(text: str, source: str) -> dict[str, Role]:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{source} is not valid YAML: {exc}") from exc
    if not isinstance(doc, Mapping) or not isinstance(doc.get("roles"), Mapping):
        raise PolicyError(f"{source} must hold a 'roles' mapping")
    return {str(name): _role(str(name), data) for name, data in doc["roles"].items()}


BUILTIN_ROLES: Mapping[str, Role] = _parse(_BUILTIN, "the built-in roles")
"""The roles ramparts ships, by name."""


def load_roles(paths: Iterable[Path] = ()) -> dict[str, Role]:
    """The built-in roles, with custom roles from YAML files added (or replacing them)."""
    roles = dict(BUILTIN_ROLES)
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise PolicyError(f"cannot read policy file {path}: {exc.strerror or exc}") from exc
        roles.update(_parse(text, str(path)))
    return roles
