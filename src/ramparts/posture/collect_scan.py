"""Evidence from the scanners and from discovery: model files, secrets, personal data,
dependencies, signatures, provenance, the ML-BOM and shadow AI.

The scanners run once per posture run (``ramparts scan``'s every scanner, offline);
these collectors only read their report and the discovery inventory, plus the few
files that say whether models are signed and a bill of materials exists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from ramparts.core.types import Finding, Location, Report, Severity
from ramparts.posture.interface import Fact
from ramparts.registry.evidence import check_signature
from ramparts.registry.interface import RegistryError
from ramparts.scan.discover import Inventory, ShadowFinding, unregistered_models

__all__ = ["collect_discovery", "collect_findings", "collect_signatures"]

_MAX_READ = 1 << 20
_MAX_SIGNATURE = 16 << 20
_MONITORING = (
    "evidently",
    "alibi_detect",
    "whylogs",
    "nannyml",
    "deepchecks",
    "ramparts monitor",
    "ramparts.monitor",
)
_PICKLE_FORMATS = ("pickle", "joblib", "pytorch", "torch", "dill", "numpy-object")
_RULE_VULN = "RMP-DEP-VULN"


def _paths(findings: Iterable[Finding]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(f.location) for f in findings))


def _listed(items: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _findings_fact(name: str, found: Sequence[Finding], what: str, none: str) -> Fact:
    paths = _paths(found)
    detail = f"{len(found)} {what}: {_listed(paths)}" if found else none
    return Fact(name, paths, detail, tuple(f.location for f in found[:20]))


def collect_findings(report: Report, *, vulnerability_data: bool) -> tuple[Fact, ...]:
    """Facts from one ``ramparts scan`` report of the posture root.

    ``vulnerability_data`` says whether the dependency scanner had OSV data (a local
    export or the network); without it, known vulnerabilities cannot be judged.
    """
    by: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by.setdefault(finding.scanner, []).append(finding)
    models = by.get("models", [])
    secrets = by.get("secrets", [])
    pii = by.get("pii", [])
    vulns = [f for f in by.get("deps", []) if f.rule_id == _RULE_VULN]
    notebooks = [f for f in secrets + pii if f.location.path.endswith(".ipynb")]
    facts = [
        Fact("scan.files", report.stats.files_scanned, f"{report.stats.files_seen} files seen"),
        Fact(
            "scan.errors",
            tuple(e.path for e in report.errors),
            f"{len(report.errors)} file(s) could not be read: "
            f"{_listed([e.path for e in report.errors])}"
            if report.errors
            else "every file was read",
            tuple(Location(e.path) for e in report.errors[:20]),
        ),
        _findings_fact(
            "models.malicious",
            [f for f in models if f.severity is Severity.CRITICAL],
            "model file finding(s) that run code when loaded",
            "no model file runs code when loaded (the static model scanner found nothing critical)",
        ),
        _findings_fact(
            "models.unsafe",
            [f for f in models if f.severity >= Severity.MEDIUM],
            "model file finding(s) at medium or above",
            "no model file finding at medium or above",
        ),
        _findings_fact(
            "secrets.in_files",
            [f for f in secrets if f.severity >= Severity.MEDIUM],
            "credential(s) in the tree",
            "no credential found in code, configs, notebooks or logs",
        ),
        _findings_fact(
            "pii.in_data",
            [f for f in pii if f.severity >= Severity.MEDIUM],
            "personal-data finding(s) in datasets, logs or notebooks",
            "no personal data found in datasets, logs or notebooks",
        ),
        _findings_fact(
            "data.notebook_outputs",
            notebooks,
            "secret or personal-data finding(s) in notebook outputs",
            "no secret or personal data in notebook outputs",
        ),
    ]
    if vulnerability_data:
        facts.append(
            _findings_fact(
                "deps.vulnerable",
                vulns,
                "known-vulnerable dependency finding(s)",
                "no dependency with a known vulnerability (OSV data)",
            )
        )
    else:
        facts.append(
            Fact(
                "deps.vulnerable",
                None,
                "no vulnerability data offline: run `ramparts posture --online`, or set "
                "scan.deps.osv_export to a local OSV export",
            )
        )
    return tuple(facts)


def _model_files(inventory: Inventory) -> list[str]:
    return [a.location.path for a in inventory.of_kind("model")]


def _is_pickle(properties: Mapping[str, str]) -> bool:
    fmt = properties.get("format", "").lower()
    return any(word in fmt for word in _PICKLE_FORMATS)


def collect_discovery(
    inventory: Inventory,
    shadow: Sequence[ShadowFinding],
    *,
    registered_digests: frozenset[str] | None,
    files: Sequence[Path],
    root: Path,
) -> tuple[Fact, ...]:
    """Facts from the discovery inventory and its shadow-AI findings."""
    models = _model_files(inventory)
    ai_kinds = {"model", "sdk", "endpoint", "mcp-server", "agent-config", "iac"}
    ai_assets = [a for a in inventory.assets if a.kind in ai_kinds]
    pickles = [a.location.path for a in inventory.of_kind("model") if _is_pickle(a.properties)]
    facts = [
        Fact(
            "inventory.ai_present",
            bool(ai_assets),
            f"{len(ai_assets)} AI asset(s) discovered ({len(models)} model file(s), "
            f"{len(inventory.of_kind('sdk'))} SDK use(s), "
            f"{len(inventory.of_kind('iac'))} IaC resource(s))"
            if ai_assets
            else "no AI asset discovered",
        ),
        Fact(
            "inventory.models_present",
            bool(models),
            f"{len(models)} model file(s): {_listed(models)}" if models else "no model file",
        ),
        Fact(
            "inventory.shadow_ai",
            tuple(f"{s.asset.location}: {s.reason}" for s in shadow),
            f"{len(shadow)} shadow-AI use(s): "
            + _listed([f"{s.asset.name} at {s.asset.location}" for s in shadow])
            if shadow
            else "every AI provider in use is approved",
            tuple(s.asset.location for s in shadow[:20]),
        ),
        Fact(
            "models.pickle_formats",
            tuple(pickles),
            f"{len(pickles)} model file(s) in a format that can run code when loaded: "
            f"{_listed(pickles)}"
            if pickles
            else "no model file uses a pickle-based format",
            tuple(Location(p) for p in pickles[:20]),
        ),
    ]
    if registered_digests is None:
        facts.append(
            Fact(
                "inventory.unregistered_models",
                None,
                "no ramparts registry in use here: cannot tell which model files are registered",
            )
        )
    else:
        unregistered = [a.location.path for a in unregistered_models(inventory, registered_digests)]
        facts.append(
            Fact(
                "inventory.unregistered_models",
                tuple(unregistered),
                f"{len(unregistered)} model file(s) not in the registry: {_listed(unregistered)}"
                if unregistered
                else "every model file found is a registered version",
                tuple(Location(p) for p in unregistered[:20]),
            )
        )
    facts.extend(_bom_and_monitoring(files, root))
    return tuple(facts)


def _read(path: Path) -> str:
    try:
        with path.open("rb") as fh:
            return fh.read(_MAX_READ).decode("utf-8", "replace")
    except OSError:
        return ""


def _bom_and_monitoring(files: Sequence[Path], root: Path) -> list[Fact]:
    boms: list[str] = []
    ml_boms: list[str] = []
    provenance: list[str] = []
    monitoring: list[str] = []
    for path in files:
        name = path.name.lower()
        rel = path.relative_to(root).as_posix()
        if name.endswith(".json") and ("bom" in name or "cdx" in name):
            text = _read(path)
            if '"bomFormat"' in text and "CycloneDX" in text:
                boms.append(rel)
                if '"machine-learning-model"' in text:
                    ml_boms.append(rel)
        elif name.endswith((".intoto.json", ".intoto.jsonl", ".provenance.json")) or (
            "provenance" in name and name.endswith((".json", ".jsonl"))
        ):
            if "slsa.dev/provenance" in _read(path):
                provenance.append(rel)
        elif name.endswith((".py", ".toml", ".yaml", ".yml", ".cfg")) and not monitoring:
            text = _read(path)
            if any(word in text for word in _MONITORING):
                monitoring.append(rel)
    return [
        Fact(
            "bom.ml_bom",
            bool(ml_boms),
            f"CycloneDX ML-BOM: {_listed(ml_boms)}"
            if ml_boms
            else (
                f"CycloneDX BOM(s) without any model component: {_listed(boms)}"
                if boms
                else "no CycloneDX bill of materials in the repository"
            ),
            tuple(Location(p) for p in (ml_boms or boms)[:5]),
        ),
        Fact(
            "sign.provenance",
            bool(provenance),
            f"SLSA provenance: {_listed(provenance)}"
            if provenance
            else "no SLSA provenance statement in the repository",
            tuple(Location(p) for p in provenance[:5]),
        ),
        Fact(
            "monitor.configured",
            bool(monitoring),
            f"drift or quality monitoring is set up in {monitoring[0]}"
            if monitoring
            else "no drift or quality monitoring found (ramparts monitor, Evidently, "
            "alibi-detect, whylogs, NannyML, Deepchecks)",
            tuple(Location(p) for p in monitoring),
        ),
    ]


def _is_signature(path: Path) -> bool:
    # A link could point anywhere (/dev/zero, another repository): never followed.
    return not path.is_symlink() and path.is_file()


def _read_signature(path: Path) -> bytes:
    """The bundle's bytes, bounded: a signature bundle is a few kilobytes."""
    with path.open("rb") as fh:
        data = fh.read(_MAX_SIGNATURE + 1)
    if len(data) > _MAX_SIGNATURE:
        raise OSError(f"{path.name} is larger than a signature bundle can be")
    return data


def _signature_for(model: Path, root: Path) -> tuple[Path, Path] | None:
    """The signature that covers ``model`` and the path it signs, nearest first."""
    beside = model.with_name(model.name + ".sig")
    if _is_signature(beside):
        return beside, model
    folder = model.parent
    while True:
        candidate = folder / "model.sig"
        if _is_signature(candidate):
            return candidate, folder
        if folder == root or root not in folder.parents:
            return None
        folder = folder.parent


def collect_signatures(inventory: Inventory, root: Path) -> tuple[Fact, ...]:
    """Whether every model file is covered by a signature whose manifest still matches.

    The files are rehashed with the bundle's own parameters; who signed is judged by
    ``ramparts verify`` and the registry's signature gate, not here.
    """
    unsigned: list[str] = []
    mismatched: list[str] = []
    checked: dict[Path, bool] = {}
    for asset in inventory.of_kind("model"):
        model = root / asset.location.path
        found = _signature_for(model, root)
        if found is None:
            unsigned.append(asset.location.path)
            continue
        signature, subject = found
        if subject not in checked:
            try:
                record = check_signature(subject, _read_signature(signature), signature)
                checked[subject] = bool(record["matches"])
            except (OSError, RegistryError):
                checked[subject] = False
        if not checked[subject]:
            mismatched.append(asset.location.path)
    present = bool(inventory.of_kind("model"))
    return (
        Fact(
            "sign.unsigned_models",
            tuple(unsigned),
            f"{len(unsigned)} model file(s) without a signature: {_listed(unsigned)}"
            if unsigned
            else ("every model file is covered by a signature" if present else "no model file"),
            tuple(Location(p) for p in unsigned[:20]),
        ),
        Fact(
            "sign.mismatched",
            tuple(mismatched),
            f"{len(mismatched)} model file(s) no longer match their signature: "
            f"{_listed(mismatched)}"
            if mismatched
            else "every signature found matches the files it signs",
            tuple(Location(p) for p in mismatched[:20]),
        ),
    )
