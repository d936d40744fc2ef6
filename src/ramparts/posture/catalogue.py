"""The control catalogue: YAML files of controls shipped inside the package.

Each file under ``posture/data/controls/`` holds ``controls:`` and a list of entries
(see ``docs/posture.md`` for the fields). The loader validates every entry and names
the file and control of the first defect; a catalogue that loads is usable as is.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from ramparts.core.types import Severity
from ramparts.errors import InputError
from ramparts.posture.interface import Control, Expectation, PostureError

# libyaml's safe loader when present: the catalogue is read on every run.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

__all__ = ["DOMAINS", "load_catalogue", "load_catalogue_from", "parse_controls"]

DOMAINS: Mapping[str, str] = MappingProxyType(
    {
        "inventory": "INV",
        "supply-chain": "SC",
        "model-security": "MOD",
        "data-protection": "DATA",
        "secrets": "SEC",
        "identity-access": "IAM",
        "gateway": "GW",
        "audit-logging": "LOG",
        "monitoring": "MON",
        "incident-response": "IR",
        "governance": "GOV",
        "infrastructure": "INF",
    }
)
"""Every domain of the catalogue and the prefix of its control ids."""

_ID = re.compile(r"^RP-([A-Z]+)-(\d{2})$")
_FACT = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_.]+$")
_REQUIRED = ("id", "title", "domain", "severity", "rationale", "evidence", "expect", "remediation")
_OPTIONAL = ("applies", "mappings")


def _text(entry: Mapping[str, Any], key: str, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise PostureError(f"{where}: {key} must be a non-empty string")
    return " ".join(value.split())


def _expectation(value: Any, where: str) -> Expectation:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise PostureError(f"{where}: expect must be one of {{equals|max|min|empty: value}}")
    ((op, operand),) = value.items()
    if op == "equals" and isinstance(operand, bool | str):
        return Expectation(equals=operand)
    if op in ("max", "min") and isinstance(operand, int | float) and not isinstance(operand, bool):
        bound = float(operand)
        return Expectation(max=bound) if op == "max" else Expectation(min=bound)
    if op == "empty" and isinstance(operand, bool):
        return Expectation(empty=operand)
    raise PostureError(f"{where}: expect {op}: {operand!r} is not a valid rule")


def _mappings(value: Any, where: str) -> Mapping[str, tuple[str, ...]]:
    if value is None:
        return MappingProxyType({})
    if not isinstance(value, Mapping):
        raise PostureError(f"{where}: mappings must map a framework id to a list of item ids")
    result: dict[str, tuple[str, ...]] = {}
    for framework, ids in value.items():
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise PostureError(f"{where}: mappings.{framework} must be a non-empty list of ids")
        if len(set(ids)) != len(ids):
            raise PostureError(f"{where}: mappings.{framework} repeats an id")
        result[str(framework)] = tuple(ids)
    return MappingProxyType(result)


def _control(entry: Any, where: str) -> Control:
    if not isinstance(entry, Mapping):
        raise PostureError(f"{where}: each control must be a mapping")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise PostureError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    cid = _text(entry, "id", where)
    where = f"{where} ({cid})"
    match = _ID.fullmatch(cid)
    domain = _text(entry, "domain", where)
    if domain not in DOMAINS:
        raise PostureError(f"{where}: unknown domain {domain!r} (one of {', '.join(DOMAINS)})")
    if match is None or match.group(1) != DOMAINS[domain]:
        raise PostureError(f"{where}: a {domain} control id is RP-{DOMAINS[domain]}-NN")
    try:
        severity = Severity.parse(_text(entry, "severity", where))
    except InputError as exc:
        raise PostureError(f"{where}: {exc}") from None
    facts = {"evidence": _text(entry, "evidence", where)}
    if entry.get("applies") is not None:
        facts["applies"] = _text(entry, "applies", where)
    for key, name in facts.items():
        if not _FACT.fullmatch(name):
            raise PostureError(f"{where}: {key} {name!r} is not a fact name (area.name)")
    return Control(
        id=cid,
        title=_text(entry, "title", where),
        domain=domain,
        severity=severity,
        rationale=_text(entry, "rationale", where),
        evidence=facts["evidence"],
        expect=_expectation(entry.get("expect"), where),
        remediation=_text(entry, "remediation", where),
        applies=facts.get("applies"),
        mappings=_mappings(entry.get("mappings"), where),
    )


def parse_controls(text: str, source: str) -> tuple[Control, ...]:
    """The controls of one catalogue file's ``text`` (``source`` names it in errors)."""
    try:
        data = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise PostureError(f"{source}: invalid YAML: {exc}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("controls"), list):
        raise PostureError(f"{source}: expected 'controls:' and a list of controls")
    return tuple(
        _control(entry, f"{source}: control {n}") for n, entry in enumerate(data["controls"], 1)
    )


def _check_unique(controls: tuple[Control, ...]) -> tuple[Control, ...]:
    seen: set[str] = set()
    for control in controls:
        if control.id in seen:
            raise PostureError(f"control id {control.id} is defined twice")
        seen.add(control.id)
    return tuple(sorted(controls, key=lambda c: c.id))


def load_catalogue_from(folder: Path) -> tuple[Control, ...]:
    """Every control of the ``*.yaml`` files in ``folder``, sorted by id."""
    try:
        files = sorted(folder.glob("*.yaml"))
        texts = [(path.name, path.read_text(encoding="utf-8")) for path in files]
    except OSError as exc:
        raise PostureError(f"{folder}: cannot read the catalogue: {exc.strerror or exc}") from exc
    if not texts:
        raise PostureError(f"{folder}: no *.yaml control files")
    return _check_unique(tuple(c for name, text in texts for c in parse_controls(text, name)))


@functools.cache
def load_catalogue() -> tuple[Control, ...]:
    """The built-in catalogue shipped with ramparts, sorted by id."""
    folder = resources.files("ramparts.posture") / "data" / "controls"
    texts = sorted(
        (entry.name, entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    )
    return _check_unique(tuple(c for name, text in texts for c in parse_controls(text, name)))
