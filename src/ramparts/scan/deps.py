"""The deps scanner: known vulnerabilities of pinned Python dependencies.

Reads ``requirements*.txt`` (with ``-r`` includes inside the scanned folder),
``pyproject.toml``, ``poetry.lock``, ``uv.lock``, ``Pipfile.lock`` and ``pylock.toml``
(:mod:`ramparts.scan.lockfiles`), and asks a pip-audit vulnerability service about
every pinned dependency (:mod:`ramparts.scan.vulnservice`).

- ``RMP-DEP-VULN``: a pinned version is affected by an advisory; severity is the
  advisory's, else high.
- ``RMP-DEP-UNPINNED``: a range or a bare name, so the version to audit is unknown;
  medium in requirements files, low in ``pyproject.toml``.

Network, by the project rule that nothing goes online unless asked: among every
scanner (``ramparts scan PATH``) only a local OSV export (``scan.deps.osv_export``)
is used; ``ramparts scan deps PATH`` asks an online service (OSV by default) unless an
export is given or ``scan.deps.offline`` is set. Pinned dependencies that no data
source checks are reported as a skip, never passed silently. A ``pyproject.toml``
beside a lock file is audited through the lock file.

Fingerprints hold the file, the package and the vulnerability id, not the line or
the version: a baseline keeps an accepted vulnerability accepted across a version
bump that does not fix it.
"""

from __future__ import annotations

import functools
import hashlib
import posixpath
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.version import Version

from ramparts.core.types import Confidence, Finding, Location, Severity, Skip
from ramparts.errors import ConfigError
from ramparts.scan.interface import ScanContext, ScanItem, Scanner, ScanOutput
from ramparts.scan.lockfiles import (
    LOCK_FILE_NAMES,
    Declared,
    Included,
    IncludeReader,
    Manifest,
    manifest_kind,
    parse_manifest,
)

if TYPE_CHECKING:
    from types import ModuleType

    from pip_audit._service.interface import VulnerabilityService

    from ramparts.scan.vulnservice import Vulnerability

    Audit = Callable[[VulnerabilityService, str, Version], tuple[Vulnerability, ...] | str]

__all__ = ["MAX_MANIFEST_BYTES", "RULE_UNPINNED", "RULE_VULN", "DepsScanner"]

RULE_VULN = "RMP-DEP-VULN"
RULE_UNPINNED = "RMP-DEP-UNPINNED"
MAX_MANIFEST_BYTES = 16 << 20
"""Manifests larger than this are skipped with the reason (and ``-r`` files not read)."""

_REFERENCES = ("CWE-1395", "OWASP LLM03:2025")
_UNPINNED_REFERENCES = ("CWE-1357", "OWASP LLM03:2025")


def _vulnservice(why: str) -> ModuleType:
    """The pip-audit based services, or one line saying how to install them."""
    try:
        from ramparts.scan import vulnservice  # noqa: PLC0415 - pip-audit only when auditing
    except ImportError as exc:
        if (exc.name or "").split(".")[0] != "pip_audit":
            raise
        raise ConfigError(
            f"{why} needs pip-audit, which is not installed: pip install 'ramparts[deps]'"
        ) from exc
    return vulnservice


def _fingerprint(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


class DepsScanner(Scanner):
    """Python manifests and lock files, audited against OSV advisories.

    ``network``: whether an online service may be asked (``ramparts scan deps``);
    ``service``: a pip-audit ``VulnerabilityService`` to use instead of the settings'.
    """

    name = "deps"
    description = "known vulnerabilities of pinned Python dependencies (requirements, lock files)"

    def __init__(
        self, *, network: bool = False, service: VulnerabilityService | None = None
    ) -> None:
        self._network = network
        self._given = service
        self._service = service
        self._online: Callable[[], VulnerabilityService] | None = None
        self._unchecked = "no vulnerability data in this run"
        self._memo: dict[tuple[str, str], tuple[Vulnerability, ...] | str] = {}

    def prepare(self, ctx: ScanContext) -> None:
        """Choose the data source; load a local export now, so a bad one stops the run."""
        cfg = ctx.settings.deps
        self._memo = {}
        self._online = None
        self._service = self._given
        self._unchecked = "no vulnerability data in this run"
        if self._given is not None:
            return
        if cfg.osv_export is not None:
            local = _vulnservice("scan.deps.osv_export").LocalOsvService
            self._service = local.from_path(cfg.osv_export)
        elif self._network and not cfg.offline:
            online = _vulnservice("ramparts scan deps").online_service
            # Built on first use: a run without pinned dependencies opens no session.
            self._online = functools.partial(online, cfg.service, cfg.cache_dir, cfg.timeout)
        elif self._network:
            self._unchecked = "offline (scan.deps.offline) and no scan.deps.osv_export"
        else:
            self._unchecked = (
                "'ramparts scan' uses no network; set scan.deps.osv_export "
                "or run 'ramparts scan deps'"
            )

    def accepts(self, item: ScanItem) -> bool:
        """Manifests and lock files, recognised by name (and holding text)."""
        inner = item.member[-1] if item.member else item.path
        return manifest_kind(inner) is not None and b"\x00" not in item.head

    def scan(self, item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
        """Report unpinned dependencies, then the known vulnerabilities of pinned ones."""
        inner = item.member[-1] if item.member else item.path
        kind = manifest_kind(inner)
        where = "!".join((item.path, *item.member))
        if kind is None:
            return
        if item.size > MAX_MANIFEST_BYTES:
            yield Skip(where, f"manifest larger than {MAX_MANIFEST_BYTES >> 20} MiB")
            return
        if kind == "pyproject" and item.source is not None:
            lock = next((n for n in LOCK_FILE_NAMES if (item.source.parent / n).is_file()), None)
            if lock is not None:
                yield Skip(where, f"dependencies are resolved by {lock} beside it; audited there")
                return
        with item.open() as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
        manifest = parse_manifest(kind, _decode(data), item.path, includes=_includes(item))
        yield from self._manifest(manifest, item)

    def _manifest(self, manifest: Manifest, item: ScanItem) -> Iterator[ScanOutput]:
        for bad in manifest.unreadable:
            reason = f"line {bad.line}: {bad.reason}" if bad.line else bad.reason
            yield Skip(_where(item, bad.path), reason)
        pinned: list[Declared] = []
        for dep in manifest.dependencies:
            if dep.version is None:
                yield _unpinned(dep, manifest.kind, item.member)
            else:
                pinned.append(dep)
        if not pinned:
            return
        service = self._current_service()
        if service is None:
            count = f"{len(pinned)} pinned dependenc{'y' if len(pinned) == 1 else 'ies'}"
            yield Skip(
                "!".join((item.path, *item.member)),
                f"{count} not checked for known vulnerabilities: {self._unchecked}",
            )
            return
        audit = _vulnservice("deps").audit
        for dep in pinned:
            yield from self._audit(dep, service, audit, item)

    def _current_service(self) -> VulnerabilityService | None:
        if self._service is None and self._online is not None:
            self._service = self._online()
        return self._service

    def _audit(
        self, dep: Declared, service: VulnerabilityService, audit: Audit, item: ScanItem
    ) -> Iterator[ScanOutput]:
        version = Version(str(dep.version))  # a Declared pin is valid PEP 440
        key = (dep.canonical_name, str(version))
        if key not in self._memo:
            self._memo[key] = audit(service, dep.canonical_name, version)
        found = self._memo[key]
        if isinstance(found, str):
            yield Skip(_where(item, dep.path), f"{dep.name}=={dep.version}: {found}")
            return
        for vuln in found:
            yield _vulnerable(dep, version, vuln, item.member)


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _where(item: ScanItem, path: str) -> str:
    return "!".join((path, *item.member)) if path == item.path else path


def _includes(item: ScanItem) -> IncludeReader | None:
    """A reader of ``-r`` files inside the scanned folder, for a file on disk."""
    if item.source is None or item.member:
        return None
    depth = len(PurePosixPath(item.path).parts)
    root = item.source.parents[depth - 1] if depth <= len(item.source.parents) else None
    if root is None:
        return None
    return functools.partial(_read_include, root)


def _read_include(root: Path, ref: str, from_path: str) -> Included | str:
    target = posixpath.normpath(posixpath.join(posixpath.dirname(from_path), ref))
    if posixpath.isabs(ref) or target == ".." or target.startswith("../"):
        return "outside the scanned folder; not read"
    try:
        real = (root / target).resolve()
        if not real.is_relative_to(root.resolve()):
            return "a link out of the scanned folder; not read"
        if not real.is_file():
            return "no such file"
        with real.open("rb") as fh:
            data = fh.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if len(data) > MAX_MANIFEST_BYTES:
        return f"larger than {MAX_MANIFEST_BYTES >> 20} MiB; not read"
    return Included(target, _decode(data))


def _unpinned(dep: Declared, kind: str, member: tuple[str, ...]) -> Finding:
    # A library's pyproject.toml declares ranges by design; an application's
    # requirements file is what gets installed, so a range there matters more.
    severity = Severity.MEDIUM if kind == "requirements" else Severity.LOW
    return Finding(
        rule_id=RULE_UNPINNED,
        title=f"unpinned dependency {dep.name}: versions cannot be audited",
        message=(
            f"'{dep.spec}' allows more than one version; which one is installed, "
            "and its vulnerabilities, is decided at install time"
        ),
        severity=severity,
        confidence=Confidence.HIGH,
        location=Location(dep.path, line=dep.line, member=member),
        evidence=dep.spec,
        remediation=(
            f"Pin an exact version ({dep.name}==X.Y.Z), or commit a lock file "
            "(uv.lock, poetry.lock, pylock.toml) and audit that."
        ),
        references=_UNPINNED_REFERENCES,
        scanner="deps",
        fingerprint=_fingerprint(RULE_UNPINNED, dep.path, "!".join(member), dep.canonical_name),
    )


def _remediation(dep: Declared, version: Version, vuln: Vulnerability) -> str:
    fixed = ", ".join(str(v) for v in vuln.fixed)
    later = [v for v in vuln.fixed if v > version]
    if later:
        return f"Upgrade {dep.name} to {later[0]} or later (fixed in {fixed})."
    if vuln.fixed:
        return f"Move {dep.name} to a fixed release (fixed in {fixed})."
    return (
        f"No fixed version of {dep.name} is known for {vuln.id}: remove or replace it, "
        "or apply the mitigation the advisory describes."
    )


def _vulnerable(
    dep: Declared, version: Version, vuln: Vulnerability, member: tuple[str, ...]
) -> Finding:
    also = f" (also {', '.join(vuln.aliases)})" if vuln.aliases else ""
    summary = f": {vuln.summary}" if vuln.summary else ""
    rated = "" if vuln.severity is not None else "; the advisory gives no severity (shown as high)"
    return Finding(
        rule_id=RULE_VULN,
        title=f"{vuln.id}: known vulnerability in {dep.name} {version}",
        message=f"{dep.name} {version} is affected by {vuln.id}{also}{summary}{rated}",
        severity=vuln.severity or Severity.HIGH,
        confidence=Confidence.HIGH,
        location=Location(dep.path, line=dep.line, member=member),
        evidence=f"{dep.name}=={dep.version}",
        remediation=_remediation(dep, version, vuln),
        references=(vuln.id, *vuln.aliases, *_REFERENCES),
        scanner="deps",
        fingerprint=_fingerprint(
            RULE_VULN, dep.path, "!".join(member), dep.canonical_name, vuln.id
        ),
    )
