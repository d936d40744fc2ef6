"""Evidence from CI configuration: which security steps run, and how safely CI runs.

CI files are GitHub Actions workflows (``.github/workflows/*.yml|yaml``) and composite
actions (``.github/actions/**/action.yml``), ``.gitlab-ci.yml`` (and ``*.gitlab-ci.yml``),
Azure Pipelines (``azure-pipelines*.yml``, ``.azure-pipelines/*.yml``), CircleCI
(``.circleci/config.yml``), ``Jenkinsfile`` and ``bitbucket-pipelines.yml``.

Which steps run is read from the text of every CI file (comment lines dropped), so it
works for every CI system: a step counts when a command or action name appears, not
when a program proved that the step runs on every change. How CI runs (pinned actions,
token permissions, ``pull_request_target``) is read from the parsed GitHub workflows
only; other systems have no such facts.

Decisions a reviewer should know:

- ``ci.unpinned_actions`` lists ``uses:`` references not pinned to a 40-hex commit SHA,
  except local (``./``) actions and GitHub's own ``actions/*`` and ``github/*``: those
  run on GitHub's runners already trusted with the job, so pinning them is left to
  Dependabot; every third-party action is mutable by its owner until pinned (GitHub's
  security hardening guide). ``docker://`` references need an ``@sha256:`` digest.
- ``ci.write_all_permissions`` lists workflows whose top-level ``permissions`` is
  ``write-all``, or that have no top-level ``permissions`` while some job has none
  either (the token then gets the repository default, which may be read-write).
- ``ci.dependency_audit_step`` counts ``ramparts scan deps`` (plain ``ramparts scan``
  runs offline and does not query advisories), pip-audit, osv-scanner, safety, and a
  Dependabot or Renovate configuration.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ramparts.core.records import record
from ramparts.core.types import Location
from ramparts.posture.interface import Fact
from ramparts.posture.repo_files import Hit, RepoFile, RepoFiles, hits_fact

__all__ = ["collect_ci", "is_ci_file"]

_SHA = re.compile(r"^[0-9a-f]{40}$")
_FIRST_PARTY = ("actions/", "github/")
_DEPENDENCY_BOTS = frozenset(
    {
        "dependabot.yml",
        "dependabot.yaml",
        "renovate.json",
        "renovate.json5",
        ".renovaterc",
        ".renovaterc.json",
        ".renovaterc.json5",
    }
)

_SCAN = re.compile(
    r"ramparts\s+scan(?!\s+(?:deps|pii)\b)|\bpicklescan\b|\bmodelscan\b|\bgitleaks\b"
    r"|\btrufflehog\b|\bdetect-secrets\b|\bggshield\b",
    re.IGNORECASE,
)
_SECRET_SCAN = re.compile(
    r"ramparts\s+scan(?!\s+(?:deps|pii|models)\b)|\bgitleaks\b|\btrufflehog\b"
    r"|\bdetect-secrets\b|\bggshield\b|\bsecretlint\b|\bgit-secrets\b",
    re.IGNORECASE,
)
_DEPS = re.compile(
    r"ramparts\s+scan\s+deps\b|\bpip-audit\b|\bosv-scanner\b|\bsafety\s+(?:check|scan)\b"
    r"|dependency-review-action|\bnpm\s+audit\b|\bsnyk\s+test\b",
    re.IGNORECASE,
)
_SIGN = re.compile(
    r"ramparts\s+sign\b|\bcosign\s+sign(?:-blob)?\b|\bmodel[_-]signing\b|\bsigstore\s+sign\b"
    r"|sigstore/gh-action-sigstore-python",
    re.IGNORECASE,
)
_PROVENANCE = re.compile(
    r"ramparts\s+attest\b|slsa-framework/slsa-github-generator|actions/attest-build-provenance"
    r"|actions/attest@|\bcosign\s+attest\b|\bin-toto-run\b",
    re.IGNORECASE,
)
_SARIF = re.compile(r"github/codeql-action/upload-sarif", re.IGNORECASE)
_POSTURE = re.compile(r"ramparts\s+posture\b[^\n]*", re.IGNORECASE)
_BOM = re.compile(
    r"ramparts\s+bom\b|\bcyclonedx-py\b|\bcyclonedx-bom\b|\bsyft\b|anchore/sbom-action",
    re.IGNORECASE,
)
_HEAD_REF = re.compile(
    r"github\.event\.pull_request\.head\.(?:sha|ref)|github\.head_ref|refs/pull/", re.IGNORECASE
)


@record
class _Step:
    """A CI step rule: its fact name, its pattern, and the words of its details."""

    fact: str
    pattern: re.Pattern[str]
    what: str


_STEPS = (
    _Step("ci.scan_step", _SCAN, "runs `ramparts scan` or a model/secret scanner"),
    _Step("ci.secret_scan_step", _SECRET_SCAN, "runs a secret scanner"),
    _Step("ci.dependency_audit_step", _DEPS, "audits dependencies for known vulnerabilities"),
    _Step("ci.signing_step", _SIGN, "signs artifacts (`ramparts sign`, cosign, model signing)"),
    _Step("ci.provenance_step", _PROVENANCE, "records build provenance (`ramparts attest`, SLSA)"),
    _Step("ci.sarif_upload", _SARIF, "uploads SARIF results to code scanning"),
    _Step("ci.bom_step", _BOM, "generates a bill of materials (`ramparts bom`, CycloneDX)"),
)


def is_ci_file(file: RepoFile) -> bool:
    """Whether ``file`` configures a CI system this module reads."""
    name, folders = file.name, file.folders
    yaml_ext = name.endswith((".yml", ".yaml"))
    if yaml_ext and folders == (".github", "workflows"):
        return True
    if name in ("action.yml", "action.yaml") and folders[:2] == (".github", "actions"):
        return True
    if name == ".gitlab-ci.yml" or (name.endswith(".gitlab-ci.yml") and yaml_ext):
        return True
    if yaml_ext and (name.startswith("azure-pipelines") or ".azure-pipelines" in folders):
        return True
    if name == "config.yml" and folders[-1:] == (".circleci",):
        return True
    return name in ("jenkinsfile", "bitbucket-pipelines.yml")


def _workflow_file(file: RepoFile) -> bool:
    return file.folders == (".github", "workflows") and file.name.endswith((".yml", ".yaml"))


def _strip_comments(text: str) -> str:
    # Whole-line comments only: '#' inside a run command may be shell, not YAML.
    return "\n".join(
        "" if line.lstrip().startswith(("#", "//")) else line for line in text.splitlines()
    )


def collect_ci(repo: RepoFiles) -> tuple[Fact, ...]:
    """Every ``ci.*`` fact of the repository."""
    ci_files = [f for f in repo.files if is_ci_file(f)]
    bots = [f for f in repo.files if f.name in _DEPENDENCY_BOTS and f.depth <= 1]
    texts = {f.rel: _strip_comments(repo.text(f) or "") for f in ci_files}
    facts: list[Fact] = []
    if ci_files:
        shown = ", ".join(f.rel for f in ci_files[:3])
        more = f" and {len(ci_files) - 3} more" if len(ci_files) > 3 else ""
        facts.append(
            Fact(
                "ci.present",
                True,
                f"{len(ci_files)} CI file(s): {shown}{more}",
                tuple(Location(f.rel) for f in ci_files[:50]),
            )
        )
    else:
        facts.append(Fact("ci.present", False, "no CI configuration file was found"))
    for step in _STEPS:
        facts.append(
            _step_fact(step, texts, bots if step.fact == "ci.dependency_audit_step" else [])
        )
    facts.append(_posture_fact(texts))
    workflows = [f for f in ci_files if _workflow_file(f) or f.name.startswith("action.y")]
    parsed = {f.rel: (f, repo.yaml_documents(f)) for f in workflows}
    note = repo.unparsed_note(parsed)
    facts.extend(_github_facts(repo, parsed, note))
    return tuple(facts)


def _step_fact(step: _Step, texts: Mapping[str, str], bots: list[RepoFile]) -> Fact:
    for rel, text in texts.items():
        match = step.pattern.search(text)
        if match:
            line = text.count("\n", 0, match.start()) + 1
            return Fact(
                step.fact,
                True,
                f"`{rel}` {step.what}: `{match.group(0).strip()}` at line {line}",
                (Location(rel, line),),
            )
    if bots:
        return Fact(
            step.fact,
            True,
            f"`{bots[0].rel}` configures automated dependency updates and alerts",
            (Location(bots[0].rel),),
        )
    where = f"none of {len(texts)} CI file(s)" if texts else "no CI file"
    return Fact(step.fact, False, f"{where} {step.what.replace('runs', 'run', 1)}")


def _posture_fact(texts: Mapping[str, str]) -> Fact:
    seen: tuple[str, int] | None = None
    for rel, text in texts.items():
        for match in _POSTURE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            if "--fail-under" in match.group(0):
                return Fact(
                    "ci.posture_step",
                    True,
                    f"`{rel}` gates on the posture score at line {line}",
                    (Location(rel, line),),
                )
            seen = seen or (rel, line)
    if seen:
        return Fact(
            "ci.posture_step",
            False,
            f"`{seen[0]}` runs `ramparts posture` at line {seen[1]} without `--fail-under`, "
            "so a falling score never fails the build",
            (Location(seen[0], seen[1]),),
        )
    return Fact("ci.posture_step", False, "no CI file runs `ramparts posture --fail-under`")


def _github_facts(
    repo: RepoFiles, parsed: Mapping[str, tuple[RepoFile, list[Any]]], note: str
) -> list[Fact]:
    unpinned: list[Hit] = []
    broad: list[Hit] = []
    pwn: list[Hit] = []
    workflows = 0
    for rel, (file, docs) in parsed.items():
        text = repo.text(file) or ""
        doc = docs[0] if docs else None
        if not isinstance(doc, dict):
            continue
        for ref in _uses_refs(doc):
            if not _pinned(ref):
                unpinned.append(Hit(ref, Location(rel, _line_with(text, ref))))
        if not _workflow_file(file):
            continue
        workflows += 1
        reason = _broad_permissions(doc)
        if reason:
            broad.append(Hit(rel, Location(rel, _line_with(text, "permissions") or None)))
        if _pwn_request(doc):
            pwn.append(Hit(rel, Location(rel, _line_with(text, "pull_request_target") or None)))
    if not parsed:
        nothing = "no GitHub Actions workflow was found"
        return [
            Fact("ci.unpinned_actions", (), nothing),
            Fact("ci.write_all_permissions", (), nothing),
            Fact("ci.pull_request_target_checkout", (), nothing),
        ]
    scope = f"{workflows} GitHub workflow(s)"
    return [
        hits_fact(
            "ci.unpinned_actions",
            unpinned,
            none=f"every third-party action in {scope} is pinned to a commit SHA",
            some="third-party actions not pinned to a full commit SHA",
            note=note,
        ),
        hits_fact(
            "ci.write_all_permissions",
            broad,
            none=f"{scope} scope the GITHUB_TOKEN with `permissions`",
            some="workflows with `permissions: write-all` or no `permissions` block",
            note=note,
        ),
        hits_fact(
            "ci.pull_request_target_checkout",
            pwn,
            none=f"no workflow of {scope} checks out pull-request code under `pull_request_target`",
            some="`pull_request_target` workflows that check out the pull request's code "
            "with a write token and secrets",
            note=note,
        ),
    ]


def _line_with(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return None if index < 0 else text.count("\n", 0, index) + 1


def _jobs(doc: Mapping[Any, Any]) -> list[Mapping[Any, Any]]:
    jobs = doc.get("jobs")
    if not isinstance(jobs, dict):
        return []
    return [job for job in jobs.values() if isinstance(job, dict)]


def _steps(container: Mapping[Any, Any]) -> list[Mapping[Any, Any]]:
    steps = container.get("steps")
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _uses_refs(doc: Mapping[Any, Any]) -> list[str]:
    refs: list[str] = []
    runs = doc.get("runs")
    containers: list[Mapping[Any, Any]] = [runs] if isinstance(runs, dict) else []
    for job in _jobs(doc):
        containers.append(job)
        if isinstance(job.get("uses"), str):
            refs.append(job["uses"].strip())
    for container in containers:
        refs.extend(
            step["uses"].strip() for step in _steps(container) if isinstance(step.get("uses"), str)
        )
    return refs


def _pinned(ref: str) -> bool:
    if ref.startswith("./"):
        return True
    if ref.startswith("docker://"):
        return "@sha256:" in ref
    if ref.lower().startswith(_FIRST_PARTY):
        return True
    _, _, version = ref.partition("@")
    return bool(_SHA.match(version))


def _broad_permissions(doc: Mapping[Any, Any]) -> str | None:
    top = doc.get("permissions")
    if top == "write-all":
        return "top-level write-all"
    jobs = _jobs(doc)
    if any(job.get("permissions") == "write-all" for job in jobs):
        return "a job has write-all"
    if top is None and (not jobs or any("permissions" not in job for job in jobs)):
        return "no permissions block"
    return None


def _triggers(doc: Mapping[Any, Any]) -> set[str]:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return {str(item) for item in on}
    if isinstance(on, dict):
        return {str(key) for key in on}
    return set()


def _pwn_request(doc: Mapping[Any, Any]) -> bool:
    if "pull_request_target" not in _triggers(doc):
        return False
    for job in _jobs(doc):
        for step in _steps(job):
            uses = step.get("uses")
            with_ = step.get("with")
            if (
                isinstance(uses, str)
                and uses.lower().startswith("actions/checkout")
                and isinstance(with_, dict)
                and _HEAD_REF.search(str(with_.get("ref", "")))
            ):
                return True
            run = step.get("run")
            if (
                isinstance(run, str)
                and re.search(r"\b(?:git\s+(?:checkout|fetch)|gh\s+pr\s+checkout)\b", run)
                and (_HEAD_REF.search(run) or "gh pr checkout" in run)
            ):
                return True
    return False
