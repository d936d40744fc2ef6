"""Vulnerability services for the deps scanner, on pip-audit's service interface.

pip-audit (the ``deps`` extra) defines what a vulnerability service is:
``VulnerabilityService.query(ResolvedDependency) -> (dependency, [VulnerabilityResult])``.
ramparts adds two services and keeps pip-audit's PyPI one:

- :class:`LocalOsvService` answers from a local OSV export (:mod:`ramparts.scan.osv`),
  with no network at all;
- :class:`OsvOnlineService` is pip-audit's ``OsvService`` (its HTTP session and cache
  directory) whose answers are read by :mod:`ramparts.scan.osv`, so that each result
  keeps the advisory's severity, which pip-audit's own reading drops;
- ``PyPIService`` (pip-audit's, unchanged): PyPI's JSON API, which has no severities.

Results are :class:`AdvisoryResult`, a ``VulnerabilityResult`` with a severity;
:func:`audit` merges those that alias each other into one :class:`Vulnerability`. Any
failure of a service (network, HTTP status, unreadable answer) becomes
:class:`~ramparts.scan.interface.ScanAbortError` there: without its data the run cannot
say anything true about any file.

This module imports pip-audit at once; the scanner imports it only when it audits.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.version import Version
from pip_audit._service.interface import (
    Dependency,
    ResolvedDependency,
    ServiceError,
    SkippedDependency,
    VulnerabilityID,
    VulnerabilityResult,
    VulnerabilityService,
)
from pip_audit._service.osv import OsvService
from pip_audit._service.pypi import PyPIService

from ramparts.core.files import write_atomic
from ramparts.core.records import record
from ramparts.core.types import Severity
from ramparts.scan.interface import ScanAbortError
from ramparts.scan.osv import Advisory, OsvDatabase, parse_advisory, preferred_id

__all__ = [
    "AdvisoryResult",
    "LocalOsvService",
    "OsvOnlineService",
    "Vulnerability",
    "audit",
    "merge_results",
    "online_service",
    "service_label",
]

MAX_PAGES = 20
"""Pages of one OSV answer read at most (a page holds hundreds of advisories)."""

ANSWER_TTL = 24 * 3600
"""Seconds an OSV answer is reused from the cache before it is asked again."""

_SAFE_PART = re.compile(r"[A-Za-z0-9._+!-]+")


@dataclass(frozen=True)  # pip-audit's base is a frozen dataclass, which a record cannot extend
class AdvisoryResult(VulnerabilityResult):
    """A pip-audit result that also carries the advisory's severity, when it has one."""

    severity: Severity | None = None


def result_of(advisory: Advisory, name: str) -> AdvisoryResult:
    """The pip-audit result of ``advisory`` for package ``name``."""
    return AdvisoryResult(
        id=VulnerabilityID(advisory.id),
        description=advisory.summary or "N/A",
        fix_versions=list(advisory.fixed_versions(name)),
        aliases={VulnerabilityID(a) for a in advisory.aliases},
        published=advisory.published,
        severity=advisory.severity,
    )


class LocalOsvService(VulnerabilityService):
    """Answers from a local OSV export; never touches the network."""

    def __init__(self, database: OsvDatabase, label: str = "the local OSV export") -> None:
        self.database = database
        self.label = label

    @classmethod
    def from_path(cls, path: Path) -> LocalOsvService:
        """Load the export at ``path`` (raises ``ConfigError`` if it cannot be read)."""
        return cls(OsvDatabase.load(path), f"the OSV export {path.name}")

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        """Every advisory of the export that affects ``spec``."""
        if not isinstance(spec, ResolvedDependency):
            return spec, []
        name = spec.canonical_name
        found: list[VulnerabilityResult] = [
            result_of(a, name) for a in self.database.matching(name, spec.version)
        ]
        return spec, found


class OsvOnlineService(OsvService):
    """pip-audit's OSV service, reading answers with their severities.

    OSV answers are POST responses, which pip-audit's HTTP cache does not keep; each
    answer is kept here instead, as ``CACHE/osv-answers/NAME/VERSION.json``, and reused
    for :data:`ANSWER_TTL` seconds.
    """

    label = "OSV (api.osv.dev)"

    def __init__(self, cache_dir: Path | None, timeout: int | None = None) -> None:
        super().__init__(cache_dir, timeout)
        self._answers = cache_dir / "osv-answers" if cache_dir is not None else None

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        """Ask OSV's query API about ``spec`` (or the cache), following pages of a long answer."""
        if not isinstance(spec, ResolvedDependency):
            return spec, []
        name = spec.canonical_name
        records = self._cached(name, str(spec.version))
        if records is None:
            records = self._ask(name, str(spec.version))
            self._keep(name, str(spec.version), records)
        results: list[VulnerabilityResult] = []
        for raw in records:
            advisory = parse_advisory(raw)
            # OSV has matched the version already (GIT ranges included): trust it.
            if isinstance(advisory, Advisory) and not advisory.withdrawn:
                results.append(result_of(advisory, name))
        return spec, results

    def _ask(self, name: str, version: str) -> list[object]:
        payload: dict[str, object] = {
            "package": {"name": name, "ecosystem": "PyPI"},
            "version": version,
        }
        records: list[object] = []
        for _ in range(MAX_PAGES):
            response = self.session.post(
                url=self.osv_url, data=json.dumps(payload), timeout=self.timeout
            )
            response.raise_for_status()
            body = response.json()
            if not isinstance(body, dict):
                raise ServiceError("OSV answered with something other than a JSON object")
            vulns = body.get("vulns") or []
            records += vulns if isinstance(vulns, list) else []
            token = body.get("next_page_token")
            if not token:
                break
            payload["page_token"] = token
        return records

    def _path(self, name: str, version: str) -> Path | None:
        if self._answers is None or not _SAFE_PART.fullmatch(name + version):
            return None
        return self._answers / name / f"{version}.json"

    def _cached(self, name: str, version: str) -> list[object] | None:
        path = self._path(name, version)
        try:
            if path is None or time.time() - path.stat().st_mtime > ANSWER_TTL:
                return None
            records = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return records if isinstance(records, list) else None

    def _keep(self, name: str, version: str, records: list[object]) -> None:
        path = self._path(name, version)
        if path is None:
            return
        # A cache that cannot be written only costs the next run a query.
        with contextlib.suppress(OSError):
            write_atomic(path, json.dumps(records).encode("utf-8"))


def online_service(
    kind: Literal["osv", "pypi"], cache_dir: Path | None, timeout: int
) -> VulnerabilityService:
    """The online service ``kind``, caching HTTP answers in ``cache_dir``."""
    if kind == "pypi":
        return PyPIService(cache_dir=cache_dir, timeout=timeout)
    return OsvOnlineService(cache_dir=cache_dir, timeout=timeout)


def service_label(service: VulnerabilityService) -> str:
    """How messages name ``service``."""
    label = getattr(service, "label", None)
    if isinstance(label, str):
        return label
    if isinstance(service, PyPIService):
        return "PyPI (pypi.org)"
    return type(service).__name__


@record
class Vulnerability:
    """One vulnerability of one package version, its advisories merged by alias.

    A vulnerability is often published twice (PYSEC-... and GHSA-..., both aliasing
    the same CVE); it is reported once, under :func:`~ramparts.scan.osv.preferred_id`,
    with the other ids as aliases, the worst severity any of them gives, and every
    fixed version any of them names.
    """

    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity | None
    fixed: tuple[Version, ...]


def merge_results(results: Iterable[VulnerabilityResult]) -> tuple[Vulnerability, ...]:
    """``results`` grouped by shared ids (aliases), one :class:`Vulnerability` each."""
    groups: list[tuple[set[str], list[VulnerabilityResult]]] = []
    for result in results:
        ids = {str(result.id), *(str(a) for a in result.aliases)}
        joined = [g for g in groups if g[0] & ids]
        groups = [g for g in groups if not g[0] & ids]
        groups.append(
            (ids.union(*(g[0] for g in joined)), [r for g in joined for r in g[1]] + [result])
        )
    merged: list[Vulnerability] = []
    for ids, members in groups:
        primary = preferred_id(ids)
        severities = [
            r.severity for r in members if isinstance(r, AdvisoryResult) and r.severity is not None
        ]
        # The shortest description is a summary line where any advisory has one.
        summaries = sorted(
            (r.description for r in members if r.description and r.description != "N/A"),
            key=len,
        )
        merged.append(
            Vulnerability(
                id=primary,
                aliases=tuple(sorted(ids - {primary})),
                summary=summaries[0] if summaries else "",
                severity=max(severities) if severities else None,
                fixed=tuple(sorted({v for r in members for v in r.fix_versions})),
            )
        )
    return tuple(sorted(merged, key=lambda v: v.id))


def audit(
    service: VulnerabilityService, name: str, version: Version
) -> tuple[Vulnerability, ...] | str:
    """The vulnerabilities ``service`` knows for ``name==version``, or why it skipped it.

    Raises :class:`ScanAbortError` with one line when the service fails.
    """
    try:
        dep, results = service.query(ResolvedDependency(name=name, version=version))
    # requests' errors are OSErrors; pip-audit wraps the rest in ServiceError.
    except (ServiceError, OSError, ValueError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        if len(reason) > 240:
            reason = reason[:237] + "..."
        raise ScanAbortError(
            f"deps: cannot query {service_label(service)}: {reason} "
            "(offline? use --offline, or a local export with --osv-export)"
        ) from exc
    if isinstance(dep, SkippedDependency):
        return dep.skip_reason
    return merge_results(results)
