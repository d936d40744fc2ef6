"""The JSON report validates against its published schema, SARIF against the OASIS 2.1.0 schema."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from ramparts.core import (
    Confidence,
    ErrorRecord,
    Finding,
    Location,
    Report,
    Severity,
    Skip,
    Stats,
)
from ramparts.core.records import replace
from ramparts.core.report import RENDERERS, render_json, render_sarif, render_table
from ramparts.core.report.sarif import FINGERPRINT_KEY
from ramparts.core.report.text import FOLD_AFTER, render_text

DATA = Path(__file__).parent.parent / "data"


def sample_report() -> Report:
    return Report(
        tool_version="0.1.0",
        target="proj",
        started_at=datetime(2026, 5, 1, 12, 0, tzinfo=UTC),
        findings=(
            Finding(
                rule_id="RMP-PICKLE-001",
                title="dangerous global in pickle",
                message="os.system is called when this file is loaded",
                severity=Severity.CRITICAL,
                location=Location("models/m.pt", member=("archive/data.pkl",), offset=42),
                evidence="os.system('touch x')",
                remediation="Convert the model to safetensors.",
                references=("CWE-502", "AML.T0010.003"),
            ),
            Finding(
                rule_id="RMP-SECRET-001",
                title="AWS access key",
                message="an AWS access key id",
                severity=Severity.HIGH,
                confidence=Confidence.MEDIUM,
                location=Location("nb.ipynb", line=3, column=7, member=("cell 2",)),
                evidence="AKIA************MPLE",
            ),
            Finding(
                rule_id="RMP-X",
                title="odd path",
                message="a path with spaces and ü",
                severity=Severity.LOW,
                location=Location("dir with space/ü.txt", line=1),
            ),
        ),
        skips=(Skip("big.bin", "larger than max_file_bytes"),),
        errors=(ErrorRecord("locked.pkl", "cannot read: Permission denied"),),
        stats=Stats(files_seen=5, files_scanned=4, bytes_scanned=1234, seconds=0.5),
    )


def test_json_report_validates_against_its_schema() -> None:
    schema_text = resources.files("ramparts.core").joinpath("schemas/report-v1.schema.json")
    schema = json.loads(schema_text.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    doc = json.loads(render_json(sample_report()))
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert doc["summary"] == {
        "total": 3,
        "critical": 1,
        "high": 1,
        "medium": 0,
        "low": 1,
        "info": 0,
    }
    assert doc["findings"][1]["location"]["member"] == ["archive/data.pkl"]
    empty = json.loads(render_json(Report("0.1.0", "x", datetime(2026, 1, 1, tzinfo=UTC))))
    jsonschema.Draft202012Validator(schema).validate(empty)


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_against_the_oasis_schema(
    sarif_validator: jsonschema.Draft4Validator,
) -> None:
    doc = json.loads(render_sarif(sample_report()))
    errors = sorted(sarif_validator.iter_errors(doc), key=str)
    assert errors == []
    bad = json.loads(render_sarif(sample_report()))
    bad["runs"][0]["results"][0]["level"] = "fatal"
    assert list(sarif_validator.iter_errors(bad)), "the schema must reject what it should"


def test_sarif_meets_github_code_scanning_rules() -> None:
    run = json.loads(render_sarif(sample_report()))["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    # findings (and so rules) are ordered by path: "dir with space" < "models" < "nb"
    assert [r["id"] for r in rules] == ["RMP-X", "RMP-PICKLE-001", "RMP-SECRET-001"]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        physical = result["locations"][0]["physicalLocation"]
        assert physical["region"]["startLine"] >= 1
        assert not physical["artifactLocation"]["uri"].startswith("/")
        assert FINGERPRINT_KEY in result["partialFingerprints"]
    pickle_result = run["results"][1]
    assert pickle_result["properties"]["byteOffset"] == 42
    assert pickle_result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == (
        "archive/data.pkl"
    )
    assert rules[1]["properties"]["security-severity"] == "9.5"
    assert run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "dir%20with%20space/%C3%BC.txt"
    )
    assert run["invocations"][0]["executionSuccessful"] is False


def test_table_names_every_finding_and_the_summary() -> None:
    text = render_table(sample_report())
    for needle in ("CRITICAL", "RMP-PICKLE-001", "models/m.pt!archive/data.pkl@42", "3 finding(s)"):
        assert needle in text
    assert "error: locked.pkl" in text
    assert set(RENDERERS) == {"table", "json", "sarif"}


def test_the_plain_report_holds_what_the_rich_table_shows() -> None:
    from rich.console import Console  # noqa: PLC0415

    from ramparts.core.report.table import report_renderable  # noqa: PLC0415

    report = sample_report()
    for verbose in (False, True):
        text = render_text(report, verbose=verbose)
        console = Console(width=400, color_system=None, force_terminal=False)
        with console.capture() as captured:
            console.print(report_renderable(report, verbose=verbose))
        shown = captured.get()
        for f in report.findings:
            for needle in (f.rule_id, str(f.location), f.title, f.message, f.evidence or ""):
                assert needle in text
                assert needle in shown
            if f.remediation:
                assert (f.remediation in text) is verbose
        assert text.splitlines()[-1] == shown.splitlines()[-1]  # the same summary line
        assert ("skipped: big.bin" in text) is verbose
    assert render_table(report) == render_text(report)
    clean = replace(report, findings=(), errors=(), skips=())
    assert render_table(clean) == "0 finding(s) in 4 of 5 file(s), 0.0 MB, 0.50 s\n"


def test_the_plain_report_folds_many_findings_of_one_rule_in_one_file() -> None:
    (one,) = (f for f in sample_report().findings if f.rule_id == "RMP-PICKLE-001")
    findings = tuple(replace(one, location=replace(one.location, offset=i)) for i in range(800))
    many = replace(sample_report(), findings=findings, errors=())
    text = render_text(many)
    assert text.count("RMP-PICKLE-001") == FOLD_AFTER + 1
    assert f"{800 - FOLD_AFTER} more like the above" in text
    assert render_text(many, verbose=True).count("RMP-PICKLE-001") == 800
