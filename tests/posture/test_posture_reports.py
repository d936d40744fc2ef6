"""Posture report formats: HTML, Markdown, JSON, SARIF 2.1.0 and OCSF Compliance Findings.

One hand-built report serves every test: six controls in three domains, each status,
two small framework tables, an inventory with shadow AI and a previous run. Evidence
carries a planted ``<script>`` as a repository could.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jsonschema
import pytest

from ramparts.core.types import Location, Severity
from ramparts.posture.interface import (
    Control,
    ControlResult,
    Expectation,
    Framework,
    FrameworkItem,
    PostureError,
    PostureReport,
    Score,
    Status,
)
from ramparts.posture.report_html import render_html
from ramparts.posture.report_json import SCHEMA, render_json, report_to_dict, statuses
from ramparts.posture.report_markdown import render_markdown
from ramparts.posture.report_ocsf import render_ocsf
from ramparts.posture.report_sarif import FINGERPRINT_KEY, ROOT_URI, render_sarif

DATA = Path(__file__).resolve().parents[1] / "data"
PLANTED = "<script>alert('x')</script>"

NIST = Framework(
    id="nist-ai-rmf",
    name="NIST AI RMF",
    version="1.0",
    source="NIST AI 100-1 (January 2023)",
    items=(
        FrameworkItem("GOVERN 1.6", "Inventory of AI systems", "GOVERN"),
        FrameworkItem("MAP 4.1", "Third-party risks are mapped", "MAP"),
        FrameworkItem("MANAGE 2.4", "Mechanisms to disengage AI systems", "MANAGE"),
        FrameworkItem("MEASURE 2.7", "Security and resilience are evaluated", "MEASURE"),
    ),
)
OWASP = Framework(
    id="owasp-llm",
    name="OWASP Top 10 for LLM Applications",
    version="2025",
    source="OWASP GenAI Security Project",
    items=(
        FrameworkItem("LLM01", "Prompt Injection"),
        FrameworkItem("LLM02", "Sensitive Information Disclosure"),
        FrameworkItem("LLM03", "Supply Chain"),
        FrameworkItem("LLM10", "Unbounded Consumption"),
    ),
)


def control(
    cid: str, domain: str, severity: Severity, mappings: dict[str, tuple[str, ...]]
) -> Control:
    return Control(
        id=cid,
        title=f"Title of {cid}",
        domain=domain,
        severity=severity,
        rationale=f"Rationale of {cid}.",
        evidence=f"fact.{cid.lower().replace('-', '_')}",
        expect=Expectation(equals=True),
        remediation=f"Remediation of {cid}.",
        mappings=MappingProxyType(mappings),
    )


RESULTS = (
    ControlResult(
        control(
            "RP-SC-01",
            "supply-chain",
            Severity.HIGH,
            {"nist-ai-rmf": ("MAP 4.1",), "owasp-llm": ("LLM03",)},
        ),
        Status.FAIL,
        f"no workflow runs ramparts scan {PLANTED}",
        (Location(".github/workflows/ci.yml", line=12),),
    ),
    ControlResult(
        control("RP-SC-02", "supply-chain", Severity.MEDIUM, {"nist-ai-rmf": ("GOVERN 1.6",)}),
        Status.PASS,
        "all 3 model files are signed",
    ),
    ControlResult(
        control(
            "RP-SEC-01",
            "secrets",
            Severity.CRITICAL,
            {"nist-ai-rmf": ("MEASURE 2.7",), "owasp-llm": ("LLM02",)},
        ),
        Status.FAIL,
        "2 live credentials found",
        (Location("src/app.py", line=3), Location("notebooks/eda.ipynb", member=("cell 2",))),
    ),
    ControlResult(
        control("RP-SEC-02", "secrets", Severity.LOW, {}),
        Status.PASS,
        "no credentials in notebook outputs",
    ),
    ControlResult(
        control("RP-GW-01", "gateway", Severity.HIGH, {"owasp-llm": ("LLM01", "LLM10")}),
        Status.NOT_APPLICABLE,
        "no gateway.toml in the repository",
    ),
    ControlResult(
        control("RP-GW-02", "gateway", Severity.LOW, {"owasp-llm": ("LLM10",)}),
        Status.MANUAL,
        "rate limits could not be read",
        (Location("deploy/limits.yaml"),),
    ),
)


def score_of(results: Iterable[ControlResult]) -> Score:
    results = list(results)

    def count(status: Status) -> int:
        return sum(r.status is status for r in results)

    def weight(status: Status) -> int:
        return sum(r.control.weight for r in results if r.status is status)

    return Score(
        passed=count(Status.PASS),
        failed=count(Status.FAIL),
        manual=count(Status.MANUAL),
        not_applicable=count(Status.NOT_APPLICABLE),
        weight_passed=weight(Status.PASS),
        weight_failed=weight(Status.FAIL),
    )


def build(results: tuple[ControlResult, ...] = RESULTS, previous: Any = "default") -> PostureReport:
    domains = sorted({r.control.domain for r in results})
    tables = {NIST.id: NIST, OWASP.id: OWASP}
    return PostureReport(
        tool_version="0.1.0",
        target="examples/demo-project",
        started_at=datetime(2026, 9, 1, 12, 0, tzinfo=UTC),
        results=results,
        score=score_of(results),
        domains={d: score_of(r for r in results if r.control.domain == d) for d in domains},
        frameworks={f: score_of(r for r in results if f in r.control.mappings) for f in tables},
        coverage={
            NIST.id: {
                "GOVERN 1.6": "pass",
                "MAP 4.1": "fail",
                "MANAGE 2.4": "none",
                "MEASURE 2.7": "fail",
            },
            OWASP.id: {"LLM01": "manual", "LLM02": "fail", "LLM03": "fail", "LLM10": "manual"},
        },
        framework_tables=tables,
        inventory={
            "counts": {"model": 3, "dataset": 1, "endpoint": 2},
            "shadow": [
                {
                    "kind": "sdk-call",
                    "name": "openai.chat.completions.create",
                    "provider": "openai",
                    "location": "src/app.py:20",
                    "reason": f"provider not approved {PLANTED}",
                }
            ],
        },
        previous=(
            {
                "score": 40.0,
                "started_at": "2026-08-25T12:00:00+00:00",
                "statuses": {
                    "RP-SC-01": "PASS",
                    "RP-SC-02": "FAIL",
                    "RP-SEC-01": "FAIL",
                    "RP-GW-01": "NOT_APPLICABLE",
                    "RP-GW-02": "MANUAL",
                    "RP-OLD-01": "PASS",
                },
            }
            if previous == "default"
            else previous
        ),
    )


@pytest.fixture
def report() -> PostureReport:
    return build()


RENDERERS: dict[str, Callable[[PostureReport], str]] = {
    "html": render_html,
    "markdown": render_markdown,
    "json": render_json,
    "sarif": render_sarif,
    "ocsf": render_ocsf,
}


def test_the_hand_built_report_scores_as_documented(report: PostureReport) -> None:
    # 3 pass weight (medium 2 + low 1) over 3 + 8 fail weight (high 3 + critical 5).
    assert report.score.value == 27.3
    assert report.domains["gateway"].value is None


@pytest.mark.parametrize("fmt", sorted(RENDERERS))
def test_every_format_renders_and_never_says_compliant(report: PostureReport, fmt: str) -> None:
    text = RENDERERS[fmt](report)
    assert text.endswith("\n")
    assert "compliant" not in text.lower()
    for cid in ("RP-SC-01", "RP-SEC-01"):
        assert cid in text
    assert RENDERERS[fmt](report) == text, "a report renders the same twice"


@pytest.mark.parametrize("fmt", ["html", "markdown"])
def test_people_formats_name_the_score_of_automated_controls(
    report: PostureReport, fmt: str
) -> None:
    text = RENDERERS[fmt](report)
    assert "27.3" in text
    assert "automated controls" in text.lower()


# ---------------------------------------------------------------------------- HTML


def test_html_has_the_sections_a_reader_and_the_browser_test_look_for(
    report: PostureReport,
) -> None:
    page = render_html(report)
    for hook in (
        'id="score"',
        'id="domains"',
        'id="frameworks"',
        'id="failing"',
        'id="coverage"',
        'id="diff"',
        'id="manual"',
        'id="inventory"',
    ):
        assert hook in page
    assert page.count('class="control fail"') == 2
    assert page.count('class="control manual"') == 1
    assert page.count('class="control pass"') == 2
    assert page.count('class="control not-applicable"') == 1
    assert page.count('<svg class="chart"') == 2
    # Headings in order: one h1, then h2 sections, never a jump from h1 to h3.
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", page)]
    assert levels[0] == 1
    assert levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))


def test_html_lists_failing_controls_first_most_severe_first(report: PostureReport) -> None:
    page = render_html(report)
    order = [
        page.index(f'<span class="cid">{cid}</span> Title')
        for cid in ("RP-SEC-01", "RP-SC-01", "RP-GW-02", "RP-SC-02", "RP-SEC-02", "RP-GW-01")
    ]
    assert order == sorted(order)
    assert page.index('id="failing"') < page.index('id="manual"') < page.index('id="passing"')
    # Passing and not-applicable controls are folded away.
    passing = page[page.index('id="passing"') : page.index('id="coverage"')]
    assert passing.count("<details>") == 2
    assert 'class="control pass"' in passing


def test_html_shows_evidence_locations_rationale_and_fix(report: PostureReport) -> None:
    page = render_html(report)
    failing = page[page.index('id="failing"') : page.index('id="manual"')]
    for text in (
        "2 live credentials found",
        "src/app.py:3",
        "notebooks/eda.ipynb!cell 2",
        "Rationale of RP-SEC-01.",
        "Remediation of RP-SEC-01.",
        "fact.rp_sec_01",
        "NIST AI RMF 1.0: MEASURE 2.7",
    ):
        assert text in failing


def test_html_escapes_untrusted_text_and_runs_no_script(report: PostureReport) -> None:
    page = render_html(report)
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    # Self-contained: nothing is fetched from a network.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    assert "<link" not in page


def test_html_escapes_every_field_a_catalogue_or_repository_controls() -> None:
    evil = '"><img src=x onerror=alert(1)>'
    nasty = dataclasses.replace(
        RESULTS[0],
        control=dataclasses.replace(RESULTS[0].control, title=evil, remediation=evil, domain=evil),
        locations=(Location(evil, line=1),),
    )
    page = render_html(
        build((nasty, *RESULTS[1:]), previous={"score": None, "statuses": {evil: "PASS"}})
    )
    assert "<img" not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


def test_html_coverage_table_lists_every_pinned_item(report: PostureReport) -> None:
    page = render_html(report)
    coverage = page[page.index('id="coverage"') :]
    for framework in (NIST, OWASP):
        for item in framework.items:
            assert f'<th scope="row" class="mono">{item.id}</th>' in coverage
            assert item.title in coverage
    row = re.search(
        r'<tr class="state-fail"><th scope="row" class="mono">MAP 4\.1</th>.*?</tr>', coverage
    )
    assert row is not None
    assert "RP-SC-01" in row.group(0)
    assert "FAIL" in row.group(0)
    assert "NOT COVERED" in coverage
    assert "1 not covered by any control" in coverage


def test_html_diff_shows_the_trend_and_the_changed_controls(report: PostureReport) -> None:
    page = render_html(report)
    diff = page[page.index('id="diff"') : page.index('id="domains"')]
    assert "40 / 100" in diff
    assert "27.3 / 100" in diff
    assert "down 12.7" in diff
    assert "RP-SC-02</span> FAIL → PASS: all 3 model files are signed" in diff
    assert "RP-SC-01</span> PASS → FAIL" in diff
    assert "RP-SEC-02</span> new → PASS" in diff
    assert "RP-OLD-01</span> PASS → no longer evaluated" in diff
    assert "RP-GW-02" not in diff, "an unchanged control is not a change"


def test_html_without_previous_run_has_no_diff() -> None:
    page = render_html(build(previous=None))
    assert 'id="diff"' not in page


def test_html_inventory_counts_and_shadow_ai(report: PostureReport) -> None:
    page = render_html(report)
    inventory = page[page.index('id="inventory"') :]
    assert '<th scope="row">model</th><td class="num">3</td>' in inventory
    assert "openai.chat.completions.create" in inventory
    assert "Unapproved AI use" in inventory


def test_a_report_with_nothing_scored_renders() -> None:
    only_manual = (RESULTS[5],)
    for render in RENDERERS.values():
        text = render(build(only_manual, previous=None))
        assert "RP-GW-02" in text
    assert "no automated control passed or failed" in render_markdown(
        build(only_manual, previous=None)
    )


def test_a_malformed_previous_run_is_a_posture_error() -> None:
    with pytest.raises(PostureError, match="statuses"):
        render_html(build(previous={"score": 1.0, "statuses": ["RP-SC-01"]}))
    with pytest.raises(PostureError, match="score"):
        render_markdown(build(previous={"score": "high", "statuses": {}}))


# ------------------------------------------------------------------------ Markdown


def test_markdown_tables_failing_first_and_coverage_summary(report: PostureReport) -> None:
    md = render_markdown(report)
    assert "| domain | score | pass | fail | manual | not applicable |" in md
    assert "| supply-chain | 40 / 100 | 1 | 1 | 0 | 0 |" in md
    assert "| gateway | no automated control passed or failed | 0 | 0 | 1 | 1 |" in md
    assert "| NIST AI RMF 1.0 | 20 / 100 | 1 | 2 | 0 | 0 |" in md
    assert (
        md.index("### RP-SEC-01")
        < md.index("### RP-SC-01")
        < md.index("## Controls to judge by hand")
    )
    assert "- Fix: Remediation of RP-SEC-01." in md
    assert "| NIST AI RMF 1.0 | 1 | 2 | 0 | 1 |" in md
    assert "Not covered by any control in NIST AI RMF 1.0: MANAGE 2.4" in md
    assert "RP-SC-02 FAIL → PASS: all 3 model files are signed" in md
    assert "Score 40 / 100 → 27.3 / 100 (down 12.7, previous run" in md
    # Every table row has as many cells as its header.
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.MULTILINE):
        widths = {len(re.split(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(widths) == 1, block


def test_markdown_escapes_html_and_markdown_syntax(report: PostureReport) -> None:
    md = render_markdown(report)
    assert "<script>" not in md
    assert "&lt;script&gt;" in md
    evil = "x | [click](https://evil.example) `code`"
    result = dataclasses.replace(RESULTS[0], evidence=evil)
    md = render_markdown(build((result, *RESULTS[1:])))
    assert "[click](" not in md
    assert "\\[click\\]" in md
    assert "\\`code\\`" in md


# ---------------------------------------------------------------------------- JSON


def test_json_round_trips_with_a_stable_versioned_shape(report: PostureReport) -> None:
    doc = json.loads(render_json(report))
    assert doc == report_to_dict(report)
    assert list(doc) == [
        "schema",
        "tool",
        "target",
        "started_at",
        "score",
        "domains",
        "frameworks",
        "results",
        "coverage",
        "inventory",
        "previous",
    ]
    assert doc["schema"] == SCHEMA == "ramparts.posture/1"
    assert doc["score"]["value"] == 27.3
    assert doc["score"]["of"] == "score of automated controls"
    first = doc["results"][0]
    assert list(first) == [
        "id",
        "title",
        "domain",
        "severity",
        "weight",
        "status",
        "evidence",
        "locations",
        "rationale",
        "remediation",
        "fact",
        "rule",
        "applies",
        "mappings",
    ]
    assert first["locations"][0]["path"] == ".github/workflows/ci.yml"
    assert first["mappings"] == {"nist-ai-rmf": ["MAP 4.1"], "owasp-llm": ["LLM03"]}
    assert [r["id"] for r in doc["results"]] == [r.control.id for r in RESULTS]
    nist = doc["coverage"]["nist-ai-rmf"]
    assert nist["counts"] == {"fail": 2, "manual": 0, "pass": 1, "none": 1}
    assert nist["items"][1] == {
        "id": "MAP 4.1",
        "title": "Third-party risks are mapped",
        "group": "MAP",
        "state": "fail",
        "controls": ["RP-SC-01"],
    }
    assert doc["frameworks"]["owasp-llm"]["score"]["value"] == 0.0
    assert doc["inventory"]["shadow"][0]["provider"] == "openai"
    changed = {c["id"]: (c["before"], c["after"]) for c in doc["previous"]["changes"]}
    assert changed == {
        "RP-SC-01": ("PASS", "FAIL"),
        "RP-SC-02": ("FAIL", "PASS"),
        "RP-SEC-02": (None, "PASS"),
        "RP-OLD-01": ("PASS", None),
    }


def test_json_statuses_are_what_the_trend_store_keeps(report: PostureReport) -> None:
    assert statuses(report) == {
        "RP-SC-01": "FAIL",
        "RP-SC-02": "PASS",
        "RP-SEC-01": "FAIL",
        "RP-SEC-02": "PASS",
        "RP-GW-01": "NOT_APPLICABLE",
        "RP-GW-02": "MANUAL",
    }
    # A later run compared with this one sees no change.
    again = build(previous={"score": 27.3, "statuses": statuses(report), "started_at": ""})
    assert report_to_dict(again)["previous"]["changes"] == []
    assert report_to_dict(build(previous=None))["previous"] is None


# --------------------------------------------------------------------------- SARIF


@pytest.fixture(scope="module")
def sarif_validator() -> jsonschema.Draft4Validator:
    schema = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
    return jsonschema.Draft4Validator(schema)


def test_sarif_validates_and_has_a_rule_per_control_and_a_result_per_failure(
    report: PostureReport, sarif_validator: jsonschema.Draft4Validator
) -> None:
    doc = json.loads(render_sarif(report))
    assert sorted(sarif_validator.iter_errors(doc), key=str) == []
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.control.id for r in RESULTS]
    sec = rules[2]
    assert sec["shortDescription"]["text"] == "Title of RP-SEC-01"
    assert sec["fullDescription"]["text"] == "Rationale of RP-SEC-01."
    assert sec["help"]["text"] == "Remediation of RP-SEC-01."
    assert sec["properties"]["security-severity"] == "9.5"
    assert {"secrets", "MEASURE 2.7", "LLM02"} <= set(sec["properties"]["tags"])
    results = run["results"]
    assert [r["ruleId"] for r in results] == ["RP-SC-01", "RP-SEC-01"]
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == "error"
    located = results[1]["locations"]
    assert located[0]["physicalLocation"]["artifactLocation"] == {
        "uri": "src/app.py",
        "uriBaseId": "%SRCROOT%",
    }
    assert located[0]["physicalLocation"]["region"]["startLine"] == 3
    assert located[1]["logicalLocations"][0]["fullyQualifiedName"] == "cell 2"
    assert run["automationDetails"]["id"] == "ramparts/posture/"


def test_sarif_levels_follow_severity_and_unlocated_controls_point_at_the_root(
    sarif_validator: jsonschema.Draft4Validator,
) -> None:
    all_failing = tuple(dataclasses.replace(r, status=Status.FAIL, locations=()) for r in RESULTS)
    doc = json.loads(render_sarif(build(all_failing)))
    assert list(sarif_validator.iter_errors(doc)) == []
    levels = {r["ruleId"]: r["level"] for r in doc["runs"][0]["results"]}
    assert levels == {
        "RP-SC-01": "error",
        "RP-SC-02": "warning",
        "RP-SEC-01": "error",
        "RP-SEC-02": "note",
        "RP-GW-01": "error",
        "RP-GW-02": "note",
    }
    for r in doc["runs"][0]["results"]:
        (loc,) = r["locations"]
        assert loc["physicalLocation"]["artifactLocation"]["uri"] == ROOT_URI
        assert loc["physicalLocation"]["region"]["startLine"] == 1


def test_sarif_fingerprints_are_stable_per_control_and_location(report: PostureReport) -> None:
    def prints(rep: PostureReport) -> dict[str, str]:
        run = json.loads(render_sarif(rep))["runs"][0]
        return {r["ruleId"]: r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]}

    first = prints(report)
    assert len(set(first.values())) == 2
    moved_line = dataclasses.replace(
        RESULTS[0],
        locations=(Location(".github/workflows/ci.yml", line=40),),
        evidence="other words",
    )
    assert prints(build((moved_line, *RESULTS[1:]))) == first
    other_file = dataclasses.replace(RESULTS[0], locations=(Location("ci/other.yml", line=12),))
    assert prints(build((other_file, *RESULTS[1:])))["RP-SC-01"] != first["RP-SC-01"]


# ---------------------------------------------------------------------------- OCSF


def test_ocsf_one_compliance_finding_per_control(report: PostureReport) -> None:
    lines = render_ocsf(report).splitlines()
    assert len(lines) == len(RESULTS)
    records = [json.loads(line) for line in lines]
    for rec in records:
        assert rec["class_uid"] == 2003
        assert rec["category_uid"] == 2
        assert rec["type_uid"] == 200301
        assert rec["activity_id"] == 1
        assert rec["time"] == int(datetime(2026, 9, 1, 12, 0, tzinfo=UTC).timestamp() * 1000)
        assert rec["metadata"]["product"]["name"] == "ramparts"
        assert rec["metadata"]["product"]["version"] == "0.1.0"
        assert rec["metadata"]["version"].startswith("1.")
        assert rec["finding_info"]["uid"]
        assert rec["finding_info"]["title"]
        assert rec["compliance"]["standards"]
        assert rec["remediation"]["desc"]
    by_id = {rec["compliance"]["control"]: rec for rec in records}
    assert {
        cid: (
            r["compliance"]["status_id"],
            r["compliance"]["status"],
            r["compliance"]["status_code"],
        )
        for cid, r in by_id.items()
    } == {
        "RP-SC-01": (3, "Fail", "FAIL"),
        "RP-SC-02": (1, "Pass", "PASS"),
        "RP-SEC-01": (3, "Fail", "FAIL"),
        "RP-SEC-02": (1, "Pass", "PASS"),
        "RP-GW-01": (99, "Not Applicable", "NOT_APPLICABLE"),
        "RP-GW-02": (2, "Warning", "MANUAL"),
    }
    sec = by_id["RP-SEC-01"]
    assert sec["severity_id"] == 5
    assert sec["severity"] == "Critical"
    assert sec["compliance"]["standards"] == [
        "NIST AI RMF 1.0",
        "OWASP Top 10 for LLM Applications 2025",
    ]
    assert "NIST AI RMF 1.0 MEASURE 2.7" in sec["compliance"]["requirements"]
    assert sec["compliance"]["status_detail"] == "2 live credentials found"
    assert [r["name"] for r in sec["resources"]] == ["src/app.py", "notebooks/eda.ipynb"]
    assert by_id["RP-SC-02"]["resources"] == [
        {"name": "examples/demo-project", "type": "Repository", "uid": "examples/demo-project"}
    ]
    assert by_id["RP-SEC-02"]["compliance"]["standards"] == ["ramparts controls"]
    uids = {r["finding_info"]["uid"] for r in records}
    assert len(uids) == len(records)
    assert uids == {
        json.loads(x)["finding_info"]["uid"] for x in render_ocsf(build(previous=None)).splitlines()
    }
