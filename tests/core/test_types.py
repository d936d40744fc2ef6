from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ramparts.core import (
    Digest,
    ErrorRecord,
    ExitCode,
    Finding,
    Location,
    Report,
    Severity,
    Stats,
)
from ramparts.errors import InputError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def finding(sev: Severity = Severity.HIGH, line: int | None = 3, path: str = "a.py") -> Finding:
    return Finding(
        rule_id="R1",
        title="t",
        message="m",
        severity=sev,
        location=Location(path, line=line),
        evidence="AKIA****",
    )


def test_severity_orders_and_parses_case_insensitively() -> None:
    assert Severity.INFO < Severity.LOW < Severity.MEDIUM < Severity.HIGH < Severity.CRITICAL
    assert max([Severity.LOW, Severity.CRITICAL, Severity.MEDIUM]) is Severity.CRITICAL
    assert Severity.parse(" High ") is Severity.HIGH
    with pytest.raises(InputError, match="unknown severity 'severe'"):
        Severity.parse("severe")


def test_digest_validates_and_round_trips() -> None:
    text = "sha256:" + "ab" * 32
    assert str(Digest.parse(text)) == text
    with pytest.raises(InputError, match="malformed"):
        Digest("sha256", "xyz")
    with pytest.raises(InputError, match="algorithm prefix"):
        Digest.parse("ab" * 32)
    with pytest.raises(InputError, match="unsupported"):
        Digest("md5", "ab" * 16)


def test_location_text_names_members_lines_and_offsets() -> None:
    assert str(Location("m.zip", member=("a/data.pkl",), offset=17)) == "m.zip!a/data.pkl@17"
    assert str(Location("n.ipynb", line=2, column=5, member=("cell 3",))) == "n.ipynb!cell 3:2:5"
    with pytest.raises(InputError):
        Location("x", line=0)


def test_fingerprint_survives_line_moves_but_not_other_files() -> None:
    assert finding(line=3).fingerprint == finding(line=90).fingerprint
    assert finding(path="a.py").fingerprint != finding(path="b.py").fingerprint
    assert len(finding().fingerprint) == 32


def test_findings_are_sorted_and_counted() -> None:
    report = Report(
        "0",
        "t",
        T0,
        findings=(finding(path="b"), finding(Severity.LOW, path="a")),
        stats=Stats(files_seen=2, files_scanned=2),
    )
    assert [f.location.path for f in report.findings] == ["a", "b"]
    counts = report.severity_counts()
    assert counts[Severity.HIGH] == 1
    assert counts[Severity.LOW] == 1
    assert counts[Severity.CRITICAL] == 0


@pytest.mark.parametrize(
    ("findings", "errors", "scanned", "fail_on", "expected"),
    [
        ((), (), 1, Severity.HIGH, ExitCode.CLEAN),
        ((finding(Severity.MEDIUM),), (), 1, Severity.HIGH, ExitCode.CLEAN),
        ((finding(Severity.MEDIUM),), (), 1, Severity.MEDIUM, ExitCode.FINDINGS),
        (
            (finding(Severity.CRITICAL),),
            (ErrorRecord("x", "e"),),
            1,
            Severity.HIGH,
            ExitCode.FINDINGS,
        ),
        ((), (ErrorRecord("x", "e"),), 1, Severity.HIGH, ExitCode.ERRORS),
        ((), (), 0, Severity.HIGH, ExitCode.NOTHING_SCANNED),
    ],
)
def test_exit_codes(findings, errors, scanned, fail_on, expected) -> None:
    report = Report(
        "0", "t", T0, findings=findings, errors=errors, stats=Stats(files_scanned=scanned)
    )
    assert report.exit_code(fail_on) is expected


def test_merged_adds_counts_and_drops_duplicate_findings() -> None:
    a = Report("0", "t", T0, findings=(finding(),), stats=Stats(files_seen=1, files_scanned=1))
    b = Report("0", "t", T0, findings=(finding(),), stats=Stats(files_seen=2, files_scanned=1))
    merged = a.merged(b)
    assert len(merged.findings) == 1
    assert merged.stats.files_seen == 3
    assert merged.stats.files_scanned == 2
