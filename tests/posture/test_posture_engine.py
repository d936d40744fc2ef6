"""Judging controls on facts, scores and framework coverage."""

from __future__ import annotations

from datetime import UTC, datetime
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ramparts.core.types import Severity
from ramparts.posture.engine import build_report, coverage, evaluate, score, verdict
from ramparts.posture.interface import (
    Control,
    Expectation,
    Fact,
    Framework,
    FrameworkItem,
    PostureError,
    Status,
)


def _control(cid: str, evidence: str, expect: Expectation, **extra: object) -> Control:
    fields: dict[str, object] = {
        "id": cid,
        "title": cid,
        "domain": "supply-chain",
        "severity": Severity.HIGH,
        "rationale": "r",
        "evidence": evidence,
        "expect": expect,
        "remediation": "fix",
    }
    fields.update(extra)
    return Control(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("expect", "value", "outcome"),
    [
        (Expectation(equals=True), True, True),
        (Expectation(equals=True), False, False),
        (Expectation(equals=True), "true", None),
        (Expectation(empty=True), (), True),
        (Expectation(empty=True), ("a",), False),
        (Expectation(empty=True), 0, None),
        (Expectation(max=3), 3, True),
        (Expectation(max=3), ("a", "b", "c", "d"), False),
        (Expectation(min=183), 182, False),
        (Expectation(min=183), 365.0, True),
        (Expectation(min=1), True, None),
    ],
)
def test_verdicts(expect: Expectation, value: object, outcome: bool | None) -> None:
    assert verdict(expect, value) is outcome


def test_an_expectation_needs_exactly_one_operator() -> None:
    with pytest.raises(PostureError):
        Expectation()
    with pytest.raises(PostureError):
        Expectation(max=1, min=0)


def test_statuses_follow_applies_and_unknown_values() -> None:
    facts = {
        "a.on": Fact("a.on", False, "nothing of that kind here"),
        "a.x": Fact("a.x", (), "none found"),
        "a.unknown": Fact("a.unknown", None, "cannot tell offline"),
    }
    controls = [
        _control("RP-SC-01", "a.x", Expectation(empty=True)),
        _control("RP-SC-02", "a.x", Expectation(empty=True), applies="a.on"),
        _control("RP-SC-03", "a.unknown", Expectation(equals=True)),
        _control("RP-SC-04", "a.x", Expectation(equals=True)),
    ]
    results = evaluate(controls, facts)
    assert [r.status for r in results] == [
        Status.PASS,
        Status.NOT_APPLICABLE,
        Status.MANUAL,
        Status.MANUAL,
    ]
    assert results[1].evidence == "nothing of that kind here"
    assert "cannot read the value" in results[3].evidence


def test_a_control_reading_a_missing_fact_is_an_error() -> None:
    with pytest.raises(PostureError, match=r"RP-SC-01: a\.missing"):
        evaluate([_control("RP-SC-01", "a.missing", Expectation(equals=True))], {})


def test_score_weighs_by_severity_and_ignores_manual() -> None:
    facts = {
        "a.t": Fact("a.t", True, ""),
        "a.f": Fact("a.f", False, ""),
        "a.n": Fact("a.n", None, ""),
    }
    controls = [
        _control("RP-SC-01", "a.t", Expectation(equals=True), severity=Severity.CRITICAL),
        _control("RP-SC-02", "a.f", Expectation(equals=True), severity=Severity.MEDIUM),
        _control("RP-SC-03", "a.n", Expectation(equals=True)),
    ]
    s = score(evaluate(controls, facts))
    assert (s.passed, s.failed, s.manual) == (1, 1, 1)
    assert s.value == pytest.approx(100 * 5 / 7, abs=0.1)
    assert score([]).value is None


@given(st.lists(st.sampled_from([True, False, None]), max_size=30))
def test_score_is_always_between_0_and_100(values: list[bool | None]) -> None:
    facts = {f"a.f{i}": Fact(f"a.f{i}", v, "") for i, v in enumerate(values)}
    controls = [
        _control(f"RP-SC-{i:02d}", f"a.f{i}", Expectation(equals=True)) for i in range(len(values))
    ]
    value = score(evaluate(controls, facts)).value
    assert value is None or 0 <= value <= 100
    assert (value is None) == all(v is None for v in values)


def test_coverage_states() -> None:
    table = Framework(
        "fw",
        "FW",
        "1",
        "src",
        tuple(FrameworkItem(i, i) for i in ("A", "B", "C", "D")),
    )
    facts = {
        "a.t": Fact("a.t", True, ""),
        "a.f": Fact("a.f", False, ""),
        "a.n": Fact("a.n", None, ""),
    }
    controls = [
        _control(
            "RP-SC-01",
            "a.t",
            Expectation(equals=True),
            mappings=MappingProxyType({"fw": ("A", "B")}),
        ),
        _control(
            "RP-SC-02", "a.f", Expectation(equals=True), mappings=MappingProxyType({"fw": ("B",)})
        ),
        _control(
            "RP-SC-03", "a.n", Expectation(equals=True), mappings=MappingProxyType({"fw": ("C",)})
        ),
    ]
    results = evaluate(controls, facts)
    assert dict(coverage(results, table)) == {"A": "pass", "B": "fail", "C": "manual", "D": "none"}
    report = build_report(
        tool_version="t",
        target="x",
        started_at=datetime(2026, 12, 2, tzinfo=UTC),
        controls=controls,
        facts=facts,
        frameworks={"fw": table},
    )
    assert report.frameworks["fw"].value == pytest.approx(50.0)
    assert set(report.domains) == {"supply-chain"}
