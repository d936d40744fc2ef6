"""The deps scanner as a user meets it: a local OSV export, lock files, the network rule.

The OSV export is written here by code: fictional advisories (ids in 2099) shaped like
OSV's PyPI records. Every test runs with sockets refused; tests that choose the online
service replace it with a fake or watch it fail on the refused socket.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version
from pip_audit._service.interface import (
    ConnectionError as AuditConnectionError,
)
from pip_audit._service.interface import (
    Dependency,
    ResolvedDependency,
    SkippedDependency,
    VulnerabilityID,
    VulnerabilityResult,
    VulnerabilityService,
)

import ramparts.scan
from ramparts.cli import main
from ramparts.core.settings import DepsScanSettings, ScanSettings, load_settings
from ramparts.core.types import Finding, Report, Severity
from ramparts.errors import ConfigError
from ramparts.scan import vulnservice
from ramparts.scan.deps import DepsScanner
from ramparts.scan.interface import ScanAbortError, ScanContext
from ramparts.scan.registry import load
from ramparts.scan.runner import run_scan
from ramparts.scan.vulnservice import AdvisoryResult, OsvOnlineService

# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def network_attempts(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every socket connection or name lookup is refused here, and recorded."""
    attempts: list[object] = []

    def refuse(*args: object, **kwargs: object) -> Any:
        attempts.append(args)
        raise OSError("network refused in tests")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def pypi(name: str, **fields: object) -> dict[str, object]:
    return {"package": {"ecosystem": "PyPI", "name": name}, **fields}


def ecosystem(*events: dict[str, str]) -> list[dict[str, object]]:
    return [{"type": "ECOSYSTEM", "events": list(events)}]


ADVISORIES: list[dict[str, object]] = [
    {  # PYSEC shape: no summary, no severity, a versions list
        "id": "PYSEC-2099-1",
        "aliases": ["CVE-2099-1001", "GHSA-aaaa-bbbb-0001"],
        "details": "PyYAML before 5.4 runs code\nfrom untrusted YAML through full_load.",
        "affected": [
            pypi(
                "pyyaml",
                ranges=ecosystem({"introduced": "0"}, {"fixed": "5.4"}),
                versions=["5.3", "5.3.1"],
            )
        ],
    },
    {  # the same vulnerability from GitHub: merged, its CRITICAL rating wins
        "id": "GHSA-aaaa-bbbb-0001",
        "aliases": ["CVE-2099-1001"],
        "summary": "Arbitrary code execution in PyYAML",
        "database_specific": {"severity": "CRITICAL"},
        "affected": [pypi("PyYAML", ranges=ecosystem({"introduced": "0"}, {"fixed": "5.4"}))],
    },
    {  # rated by a CVSS v3 vector only (6.1: medium), two fixed branches
        "id": "GHSA-cccc-dddd-0002",
        "summary": "Deserialization in transformers checkpoints",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"}],
        "affected": [
            pypi(
                "transformers",
                ranges=[
                    *ecosystem({"introduced": "0"}, {"fixed": "4.36.0"}),
                    *ecosystem({"introduced": "4.37.0"}, {"fixed": "4.38.0"}),
                ],
            )
        ],
    },
    {  # listed versions only, no fix, no severity: high, and says so
        "id": "PYSEC-2099-3",
        "details": "transformers 4.30.0 loads remote code without asking.",
        "affected": [pypi("transformers", versions=["4.30.0"])],
    },
    {  # withdrawn: never reported
        "id": "PYSEC-2099-4",
        "withdrawn": "2099-02-01T00:00:00Z",
        "affected": [pypi("requests", ranges=ecosystem({"introduced": "0"}))],
    },
    {  # last_affected includes its version
        "id": "GHSA-eeee-ffff-0005",
        "summary": "numpy overflow",
        "database_specific": {"severity": "LOW"},
        "affected": [
            pypi("numpy", ranges=ecosystem({"introduced": "1.20"}, {"last_affected": "1.26.4"}))
        ],
    },
    {  # another ecosystem's package of the same name
        "id": "OSV-2099-6",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "pyyaml"},
                "ranges": ecosystem({"introduced": "0"}),
            }
        ],
    },
]


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """The advisories above as an OSV export zip, the way OSV publishes all.zip."""
    path = tmp_path / "osv" / "all.zip"
    path.parent.mkdir()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for advisory in ADVISORIES:
            zf.writestr(f"{advisory['id']}.json", json.dumps(advisory, indent=1))
    return path


REQUIREMENTS = """\
# pins of the app
pyyaml==5.3.1
transformers==4.30.0 --hash=sha256:0000
requests==2.31.0
flask>=2
-r requirements-ml.txt
-r ../outside.txt
"""

UV_LOCK = """\
version = 1

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }

[[package]]
name = "pyyaml"
version = "5.3.1"
source = { registry = "https://pypi.org/simple" }
"""

POETRY_LOCK = """\
[[package]]
name = "numpy"
version = "1.26.4"
description = ""

[[package]]
name = "PyYAML"
version = "5.3.1"
description = ""
"""

PIPFILE_LOCK = {
    "_meta": {"pipfile-spec": 6},
    "default": {"transformers": {"version": "==4.37.1", "hashes": []}},
    "develop": {"pyyaml": {"version": "==6.0.1", "hashes": []}},
}

PYLOCK = """\
lock-version = "1.0"
created-by = "test"

[[packages]]
name = "pyyaml"
version = "5.4"

[[packages]]
name = "transformers"
version = "4.35.2"
"""

LIB_PYPROJECT = """\
[project]
name = "lib"
dependencies = [
  "requests>=2",
  "pyyaml==5.3.1",
]
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    files = {
        "requirements.txt": REQUIREMENTS,
        "requirements-ml.txt": "numpy==1.26.4\n",
        "uvapp/pyproject.toml": '[project]\nname = "app"\ndependencies = ["pyyaml"]\n',
        "uvapp/uv.lock": UV_LOCK,
        "poetryapp/poetry.lock": POETRY_LOCK,
        "pipenvapp/Pipfile.lock": json.dumps(PIPFILE_LOCK, indent=4),
        "pylockapp/pylock.toml": PYLOCK,
        "lib/pyproject.toml": LIB_PYPROJECT,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (tmp_path / "outside.txt").write_text("secret-package==1.0\n", encoding="utf-8")
    return root


def scan(root: Path, export: Path | None, scanner: DepsScanner | None = None) -> Report:
    settings = ScanSettings(deps=DepsScanSettings(osv_export=export))
    return run_scan(root, [scanner or DepsScanner()], ctx=ScanContext(settings=settings))


def rows(report: Report) -> list[tuple[str, int | None, str, str, str]]:
    return [
        (f.location.path, f.location.line, f.rule_id, f.title.split(":")[0], f.severity.value)
        for f in report.findings
    ]


def by_title(report: Report, start: str) -> Finding:
    return next(f for f in report.findings if f.title.startswith(start))


# -- findings ---------------------------------------------------------------------------


def test_every_manifest_kind_against_a_local_export(
    project: Path, export: Path, network_attempts: list[object]
) -> None:
    report = scan(project, export)
    assert rows(report) == [
        ("lib/pyproject.toml", 4, "RMP-DEP-UNPINNED", "unpinned dependency requests", "low"),
        ("lib/pyproject.toml", 5, "RMP-DEP-VULN", "PYSEC-2099-1", "critical"),
        ("pipenvapp/Pipfile.lock", 6, "RMP-DEP-VULN", "GHSA-cccc-dddd-0002", "medium"),
        ("poetryapp/poetry.lock", 2, "RMP-DEP-VULN", "GHSA-eeee-ffff-0005", "low"),
        ("poetryapp/poetry.lock", 7, "RMP-DEP-VULN", "PYSEC-2099-1", "critical"),
        ("pylockapp/pylock.toml", 9, "RMP-DEP-VULN", "GHSA-cccc-dddd-0002", "medium"),
        ("requirements-ml.txt", 1, "RMP-DEP-VULN", "GHSA-eeee-ffff-0005", "low"),
        ("requirements.txt", 2, "RMP-DEP-VULN", "PYSEC-2099-1", "critical"),
        ("requirements.txt", 3, "RMP-DEP-VULN", "GHSA-cccc-dddd-0002", "medium"),
        ("requirements.txt", 3, "RMP-DEP-VULN", "PYSEC-2099-3", "high"),
        ("requirements.txt", 5, "RMP-DEP-UNPINNED", "unpinned dependency flask", "medium"),
        ("uvapp/uv.lock", 9, "RMP-DEP-VULN", "PYSEC-2099-1", "critical"),
    ]
    assert network_attempts == []
    skips = {(s.path, s.reason) for s in report.skips}
    assert (
        "uvapp/pyproject.toml",
        "dependencies are resolved by uv.lock beside it; audited there",
    ) in skips
    assert (
        "requirements.txt",
        "line 7: -r ../outside.txt: outside the scanned folder; not read",
    ) in skips
    assert not report.errors


def test_a_finding_names_ids_severity_fix_and_evidence(project: Path, export: Path) -> None:
    report = scan(project, export)
    pyyaml = next(
        f for f in report.findings if f.location.path == "requirements.txt" and f.location.line == 2
    )
    assert pyyaml.title == "PYSEC-2099-1: known vulnerability in pyyaml 5.3.1"
    assert pyyaml.message == (
        "pyyaml 5.3.1 is affected by PYSEC-2099-1 (also CVE-2099-1001, GHSA-aaaa-bbbb-0001): "
        "Arbitrary code execution in PyYAML"
    )
    assert pyyaml.severity is Severity.CRITICAL
    assert pyyaml.evidence == "pyyaml==5.3.1"
    assert pyyaml.remediation == "Upgrade pyyaml to 5.4 or later (fixed in 5.4)."
    assert pyyaml.references[:3] == ("PYSEC-2099-1", "CVE-2099-1001", "GHSA-aaaa-bbbb-0001")
    assert pyyaml.scanner == "deps"

    branches = by_title(report, "GHSA-cccc-dddd-0002: known vulnerability in transformers 4.37.1")
    assert (
        branches.remediation == "Upgrade transformers to 4.38.0 or later (fixed in 4.36.0, 4.38.0)."
    )
    unfixed = by_title(report, "PYSEC-2099-3")
    assert unfixed.severity is Severity.HIGH
    assert unfixed.message.endswith("; the advisory gives no severity (shown as high)")
    assert unfixed.remediation is not None
    assert unfixed.remediation.startswith("No fixed version of transformers is known")
    unpinned = by_title(report, "unpinned dependency flask")
    assert unpinned.evidence == "flask>=2"
    assert "flask==X.Y.Z" in (unpinned.remediation or "")


def test_an_included_file_scanned_on_its_own_is_reported_once(project: Path, export: Path) -> None:
    numpy = [f for f in scan(project, export).findings if f.evidence == "numpy==1.26.4"]
    assert sorted((f.location.path, f.location.line or 0) for f in numpy) == [
        ("poetryapp/poetry.lock", 2),
        ("requirements-ml.txt", 1),  # read through -r and on its own: one finding
    ]
    # Scanned alone, requirements.txt still reports what its -r file pins.
    alone = scan(project / "requirements.txt", export)
    assert ("requirements-ml.txt", 1) in [
        (f.location.path, f.location.line) for f in alone.findings
    ]


def test_fingerprints_ignore_lines_and_versions(project: Path, export: Path) -> None:
    before = {f.fingerprint: f for f in scan(project, export).findings}
    path = project / "requirements.txt"
    text = path.read_text(encoding="utf-8").replace("pyyaml==5.3.1", "pyyaml==5.3")
    path.write_text("# moved down\n\n" + text, encoding="utf-8")
    after = {f.fingerprint: f for f in scan(project, export).findings}
    assert set(before) == set(after)
    moved = [fp for fp, f in after.items() if f.location.path == "requirements.txt"]
    assert moved
    for fp in moved:
        assert after[fp].location.line == (before[fp].location.line or 0) + 2
    pyyaml = next(fp for fp in moved if before[fp].evidence == "pyyaml==5.3.1")
    assert after[pyyaml].evidence == "pyyaml==5.3"  # same vulnerability, same fingerprint


def test_withdrawn_and_unaffected_versions_give_nothing(tmp_path: Path, export: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "requests==2.31.0\npyyaml==5.4\nnumpy==1.19.0\nnumpy-extra==1.26.4\n", encoding="utf-8"
    )
    report = scan(tmp_path, export)
    assert report.findings == ()
    assert report.stats.files_scanned == 1


# -- services ---------------------------------------------------------------------------


class FakeService(VulnerabilityService):
    """A pip-audit service that answers from a table, skips some names, or fails."""

    def __init__(
        self,
        answers: dict[str, list[VulnerabilityResult]] | None = None,
        skip: frozenset[str] = frozenset(),
        fail: Exception | None = None,
    ) -> None:
        self.answers = answers or {}
        self.skip = skip
        self.fail = fail
        self.asked: list[tuple[str, str]] = []

    def query(self, spec: Dependency) -> tuple[Dependency, list[VulnerabilityResult]]:
        assert isinstance(spec, ResolvedDependency)
        self.asked.append((spec.canonical_name, str(spec.version)))
        if self.fail is not None:
            raise self.fail
        if spec.canonical_name in self.skip:
            return SkippedDependency(name=spec.name, skip_reason="not found on PyPI"), []
        return spec, self.answers.get(spec.canonical_name, [])


def pyyaml_result(severity: Severity | None = Severity.HIGH) -> AdvisoryResult:
    return AdvisoryResult(
        id=VulnerabilityID("GHSA-zzzz-zzzz-0009"),
        description="Online answer",
        fix_versions=[Version("5.4")],
        aliases={VulnerabilityID("CVE-2099-9")},
        severity=severity,
    )


def test_a_given_service_is_asked_once_per_package_version(tmp_path: Path) -> None:
    for name in ("requirements.txt", "requirements-dev.txt"):
        (tmp_path / name).write_text("pyyaml==5.3.1\nprivate-pkg==1.0\n", encoding="utf-8")
    service = FakeService({"pyyaml": [pyyaml_result()]}, skip=frozenset({"private-pkg"}))
    report = scan(tmp_path, None, DepsScanner(service=service))
    assert sorted(service.asked) == [("private-pkg", "1.0"), ("pyyaml", "5.3.1")]
    assert [(f.location.path, f.title) for f in report.findings] == [
        ("requirements-dev.txt", "GHSA-zzzz-zzzz-0009: known vulnerability in pyyaml 5.3.1"),
        ("requirements.txt", "GHSA-zzzz-zzzz-0009: known vulnerability in pyyaml 5.3.1"),
    ]
    assert ("requirements.txt", "private-pkg==1.0: not found on PyPI") in {
        (s.path, s.reason) for s in report.skips
    }


def test_plain_pip_audit_results_without_severity_are_high(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pyyaml==5.3.1\n", encoding="utf-8")
    plain = VulnerabilityResult(
        id=VulnerabilityID("PYSEC-2099-7"), description="N/A", fix_versions=[], aliases=set()
    )
    report = scan(tmp_path, None, DepsScanner(service=FakeService({"pyyaml": [plain]})))
    (finding,) = report.findings
    assert finding.severity is Severity.HIGH
    assert finding.message == (
        "pyyaml 5.3.1 is affected by PYSEC-2099-7; the advisory gives no severity (shown as high)"
    )


def test_a_failing_service_stops_the_run(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pyyaml==5.3.1\n", encoding="utf-8")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "requirements.txt").write_text("rich==13.0.0\n", encoding="utf-8")
    service = FakeService(
        fail=AuditConnectionError("Could not connect to OSV's vulnerability feed")
    )
    with pytest.raises(ScanAbortError, match="cannot query FakeService: Could not connect"):
        scan(tmp_path, None, DepsScanner(service=service))
    assert len(service.asked) == 1


class FakeResponse:
    def __init__(self, body: object) -> None:
        self.body = body

    def raise_for_status(self) -> None:
        return None

    def json(self) -> object:
        return self.body


class FakeSession:
    """Stands in for pip-audit's caching HTTP session: OSV answers by page."""

    def __init__(self, pages: list[object]) -> None:
        self.pages = pages
        self.sent: list[dict[str, Any]] = []

    def post(self, url: str, data: str, timeout: int | None) -> FakeResponse:
        self.sent.append(json.loads(data))
        return FakeResponse(self.pages[len(self.sent) - 1])


def test_online_osv_answers_keep_severity_and_follow_pages(tmp_path: Path) -> None:
    service = OsvOnlineService(cache_dir=tmp_path / "cache", timeout=5)
    first, second = ADVISORIES[0], ADVISORIES[1]
    session = FakeSession(
        [{"vulns": [first, ADVISORIES[4]], "next_page_token": "p2"}, {"vulns": [second]}]
    )
    service.session = session
    found = vulnservice.audit(service, "PyYAML", Version("5.3.1"))
    assert not isinstance(found, str)
    (vuln,) = found
    assert (vuln.id, vuln.severity, vuln.fixed) == (
        "PYSEC-2099-1",
        Severity.CRITICAL,
        (Version("5.4"),),
    )
    assert vuln.aliases == ("CVE-2099-1001", "GHSA-aaaa-bbbb-0001")
    assert session.sent == [
        {"package": {"name": "pyyaml", "ecosystem": "PyPI"}, "version": "5.3.1"},
        {
            "package": {"name": "pyyaml", "ecosystem": "PyPI"},
            "version": "5.3.1",
            "page_token": "p2",
        },
    ]


def test_online_osv_answers_are_cached_for_a_day(
    tmp_path: Path, network_attempts: list[object]
) -> None:
    cache = tmp_path / "cache"
    first = OsvOnlineService(cache_dir=cache, timeout=5)
    first.session = FakeSession([{"vulns": [ADVISORIES[0]]}])
    asked = vulnservice.audit(first, "pyyaml", Version("5.3.1"))
    again = OsvOnlineService(cache_dir=cache, timeout=5)  # its session would be refused
    assert vulnservice.audit(again, "pyyaml", Version("5.3.1")) == asked
    assert not network_attempts
    answer = cache / "osv-answers" / "pyyaml" / "5.3.1.json"
    stale = answer.stat().st_mtime - vulnservice.ANSWER_TTL - 1
    os.utime(answer, (stale, stale))
    with pytest.raises(ScanAbortError):
        vulnservice.audit(again, "pyyaml", Version("5.3.1"))
    assert network_attempts


def test_online_osv_without_network_fails_with_one_line(
    tmp_path: Path, network_attempts: list[object]
) -> None:
    service = OsvOnlineService(cache_dir=tmp_path / "cache", timeout=5)
    with pytest.raises(ScanAbortError) as info:
        vulnservice.audit(service, "pyyaml", Version("5.3.1"))
    message = str(info.value)
    assert message.startswith("deps: cannot query OSV (api.osv.dev): ")
    assert "\n" not in message
    assert network_attempts  # it tried, and the refused socket stopped it


def test_a_missing_pip_audit_is_one_line_on_how_to_install(
    tmp_path: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in [m for m in sys.modules if m.split(".")[0] == "pip_audit"]:
        monkeypatch.setitem(sys.modules, name, None)  # import pip_audit... now fails
    monkeypatch.delitem(sys.modules, "ramparts.scan.vulnservice")
    monkeypatch.delattr(ramparts.scan, "vulnservice")
    (tmp_path / "requirements.txt").write_text("flask\npyyaml==5.3.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"pip install 'ramparts\[deps\]'"):
        scan(tmp_path, export)
    # Without an export, unpinned dependencies need no pip-audit.
    report = scan(tmp_path, None)
    assert [f.rule_id for f in report.findings] == ["RMP-DEP-UNPINNED"]


# -- the network rule, through the CLI -------------------------------------------------


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    code = info.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.fixture
def no_online(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: object) -> VulnerabilityService:
        pytest.fail(f"the online service was created: {args}")

    monkeypatch.setattr(vulnservice, "online_service", forbidden)


@pytest.fixture
def fake_online(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    made: list[tuple[object, ...]] = []

    def online(*args: object) -> VulnerabilityService:
        made.append(args)
        return FakeService({"pyyaml": [pyyaml_result(Severity.CRITICAL)]})

    monkeypatch.setattr(vulnservice, "online_service", online)
    return made


def test_scan_all_never_goes_online(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    network_attempts: list[object],
    no_online: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project.parent)
    code, out, _ = run(["-f", "json", "scan", str(project)], capsys)
    report = json.loads(out)
    rules = {f["rule_id"] for f in report["findings"]}
    assert rules == {"RMP-DEP-UNPINNED"}
    assert code == 0
    reasons = [s["reason"] for s in report["skips"] if s["path"] == "requirements.txt"]
    # four: requirements.txt pins three and its -r file one more
    assert "4 pinned dependencies not checked for known vulnerabilities" in " ".join(reasons)
    assert "'ramparts scan' uses no network" in " ".join(reasons)
    assert network_attempts == []
    assert [s.name for s in load()].count("deps") == 1


def test_scan_all_uses_a_configured_export(
    project: Path,
    export: Path,
    capsys: pytest.CaptureFixture[str],
    no_online: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project.parent)
    monkeypatch.setenv("RAMPARTS_SCAN__DEPS__OSV_EXPORT", str(export))
    code, out, _ = run(["-f", "json", "scan", str(project)], capsys)
    findings = json.loads(out)["findings"]
    assert code == 1
    assert ("requirements.txt", 2, "critical") in {
        (f["location"]["path"], f["location"]["line"], f["severity"])
        for f in findings
        if f["rule_id"] == "RMP-DEP-VULN"
    }


def test_scan_deps_asks_the_online_service_with_its_cache_in_the_state_dir(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    fake_online: list[tuple[object, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project.parent)
    code, out, _ = run(["-f", "json", "scan", "deps", str(project)], capsys)
    assert code == 1
    assert fake_online == [("osv", Path(".ramparts/cache/pip-audit"), 15)]
    titles = {f["title"] for f in json.loads(out)["findings"]}
    assert "GHSA-zzzz-zzzz-0009: known vulnerability in pyyaml 5.3.1" in titles
    run(["-q", "scan", "deps", str(project), "--service", "pypi"], capsys)
    assert fake_online[-1][0] == "pypi"


def test_scan_deps_offline_and_with_an_export_stays_offline(
    project: Path,
    export: Path,
    capsys: pytest.CaptureFixture[str],
    no_online: None,
    network_attempts: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project.parent)
    code, out, _ = run(["-f", "json", "scan", "deps", str(project), "--offline"], capsys)
    report = json.loads(out)
    assert code == 0
    assert {f["rule_id"] for f in report["findings"]} == {"RMP-DEP-UNPINNED"}
    assert any("offline" in s["reason"] for s in report["skips"])

    monkeypatch.setenv("RAMPARTS_SCAN__DEPS__OFFLINE", "true")
    code, out, _ = run(["-f", "json", "scan", "deps", str(project)], capsys)
    assert {f["rule_id"] for f in json.loads(out)["findings"]} == {"RMP-DEP-UNPINNED"}

    code, out, _ = run(
        ["-f", "json", "scan", "deps", str(project), "--osv-export", str(export)], capsys
    )
    assert code == 1
    assert "RMP-DEP-VULN" in {f["rule_id"] for f in json.loads(out)["findings"]}
    assert network_attempts == []


def test_network_failure_is_one_line_and_exit_2(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    network_attempts: list[object],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(project.parent)
    code, out, err = run(["scan", "deps", str(project)], capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ramparts: error: deps: cannot query OSV (api.osv.dev): ")
    assert "--offline" in lines[0]
    assert "Traceback" not in err
    assert network_attempts


def test_deps_findings_render_as_table_json_and_sarif(
    project: Path, export: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project.parent)
    base = ["scan", "deps", str(project / "requirements.txt"), "--osv-export", str(export)]
    code, out, _ = run(["-f", "sarif", *base], capsys)
    sarif = json.loads(out)
    results = sarif["runs"][0]["results"]
    vuln = next(r for r in results if "pyyaml" in r["message"]["text"])
    assert code == 1
    assert vuln["ruleId"] == "RMP-DEP-VULN"
    assert vuln["level"] == "error"
    region = vuln["locations"][0]["physicalLocation"]
    assert region["artifactLocation"]["uri"] == "requirements.txt"
    assert region["region"]["startLine"] == 2
    assert vuln["properties"]["evidence"] == "pyyaml==5.3.1"

    monkeypatch.setenv("COLUMNS", "200")  # one table row per line
    code, out, _ = run(["scan", "deps", "--verbose", *base[2:]], capsys)
    assert "PYSEC-2099-1" in out
    assert "requirements.txt:2" in out
    assert "Upgrade pyyaml to 5.4 or later" in out


def test_the_export_setting_comes_from_the_environment() -> None:
    settings = load_settings(
        environ={
            "RAMPARTS_SCAN__DEPS__OSV_EXPORT": "osv/all.zip",
            "RAMPARTS_SCAN__DEPS__TIMEOUT": "30",
        }
    )
    assert settings.scan.deps == DepsScanSettings(osv_export=Path("osv/all.zip"), timeout=30)
    with pytest.raises(ConfigError, match=r"scan\.deps\.service"):
        load_settings(environ={"RAMPARTS_SCAN__DEPS__SERVICE": "safety"})


def test_docs_library_example_runs(
    project: Path, export: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "deps.md").read_text(encoding="utf-8")
    code = re.search(r"## Library use\n\n```python\n(.*?)```", doc, re.S)
    assert code is not None
    (project / "all.zip").write_bytes(export.read_bytes())
    monkeypatch.chdir(project)
    namespace: dict[str, Any] = {}
    exec(compile(code.group(1), "docs/deps.md", "exec"), namespace)  # noqa: S102 - our own documentation
    assert "PYSEC-2099-1" in {f.title.split(":")[0] for f in namespace["report"].findings}
