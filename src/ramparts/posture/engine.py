"""Judge controls against facts, and score the results per domain and framework.

Pure functions over values: the same facts always give the same report, which is what
makes a posture run reproducible and its diff against the previous run meaningful.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import MappingProxyType
from typing import Any

from ramparts.posture.interface import (
    Control,
    ControlResult,
    Expectation,
    Fact,
    Framework,
    PostureError,
    PostureReport,
    Score,
    Status,
)

__all__ = ["build_report", "check_facts", "coverage", "evaluate", "score", "verdict"]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, tuple):
        return f"{len(value)} item(s)"
    return str(value)


def _measure(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, tuple | str):
        return float(len(value))
    return None


def verdict(expect: Expectation, value: object) -> bool | None:
    """Whether ``value`` satisfies ``expect``; ``None`` when the rule cannot read it."""
    if expect.equals is not None:
        if type(value) is not type(expect.equals):
            return None
        return bool(value == expect.equals)
    if expect.empty is not None:
        if not isinstance(value, tuple | str):
            return None
        return (len(value) == 0) == expect.empty
    number = _measure(value)
    if number is None:
        return None
    return number <= expect.max if expect.max is not None else number >= (expect.min or 0.0)


def _judge(control: Control, facts: Mapping[str, Fact]) -> ControlResult:
    if control.applies is not None:
        gate = facts[control.applies]
        if gate.value is False:
            return ControlResult(control, Status.NOT_APPLICABLE, gate.detail, gate.locations)
    fact = facts[control.evidence]
    if fact.value is None:
        return ControlResult(control, Status.MANUAL, fact.detail, fact.locations)
    outcome = verdict(control.expect, fact.value)
    if outcome is None:
        detail = (
            f"{fact.detail} (the rule '{control.expect.describe()}' cannot read the value "
            f"{_shown(fact.value)}; judge it by hand)"
        )
        return ControlResult(control, Status.MANUAL, detail, fact.locations)
    status = Status.PASS if outcome else Status.FAIL
    return ControlResult(control, status, fact.detail, fact.locations)


def check_facts(controls: Iterable[Control], facts: Mapping[str, Fact]) -> None:
    """Raise :class:`PostureError` naming every fact a control reads but nobody produced."""
    missing = sorted(
        {
            f"{c.id}: {name}"
            for c in controls
            for name in (c.evidence, c.applies)
            if name is not None and name not in facts
        }
    )
    if missing:
        raise PostureError(f"no collector produces the fact(s) {'; '.join(missing)}")


def evaluate(controls: Sequence[Control], facts: Mapping[str, Fact]) -> tuple[ControlResult, ...]:
    """The result of every control, in catalogue order."""
    check_facts(controls, facts)
    return tuple(_judge(control, facts) for control in controls)


def score(results: Iterable[ControlResult]) -> Score:
    """Weighted passes over weighted passes and fails; manual and not-applicable excluded."""
    counts = dict.fromkeys(Status, 0)
    weights = {Status.PASS: 0, Status.FAIL: 0}
    for result in results:
        counts[result.status] += 1
        if result.status in weights:
            weights[result.status] += result.control.weight
    return Score(
        passed=counts[Status.PASS],
        failed=counts[Status.FAIL],
        manual=counts[Status.MANUAL],
        not_applicable=counts[Status.NOT_APPLICABLE],
        weight_passed=weights[Status.PASS],
        weight_failed=weights[Status.FAIL],
    )


def coverage(results: Sequence[ControlResult], framework: Framework) -> Mapping[str, str]:
    """Each item of ``framework``: ``pass``, ``fail``, ``manual`` or ``none`` (see
    :class:`PostureReport`)."""
    states: dict[str, set[Status]] = {item.id: set() for item in framework.items}
    for result in results:
        for item_id in result.control.mappings.get(framework.id, ()):
            if item_id in states:
                states[item_id].add(result.status)
    table: dict[str, str] = {}
    for item_id, seen in states.items():
        if not seen:
            table[item_id] = "none"
        elif Status.FAIL in seen:
            table[item_id] = "fail"
        elif Status.PASS in seen:
            table[item_id] = "pass"
        else:
            table[item_id] = "manual"
    return MappingProxyType(table)


def _grouped(results: Sequence[ControlResult], key: str) -> dict[str, list[ControlResult]]:
    groups: dict[str, list[ControlResult]] = {}
    for result in results:
        if key == "domain":
            groups.setdefault(result.control.domain, []).append(result)
        else:
            for framework in result.control.mappings:
                groups.setdefault(framework, []).append(result)
    return groups


def build_report(
    *,
    tool_version: str,
    target: str,
    started_at: datetime,
    controls: Sequence[Control],
    facts: Mapping[str, Fact],
    frameworks: Mapping[str, Framework],
    inventory: Mapping[str, Any] | None = None,
    previous: Mapping[str, Any] | None = None,
) -> PostureReport:
    """Evaluate ``controls`` on ``facts`` and assemble the whole report."""
    results = evaluate(controls, facts)
    by_domain = _grouped(results, "domain")
    by_framework = _grouped(results, "framework")
    return PostureReport(
        tool_version=tool_version,
        target=target,
        started_at=started_at,
        results=results,
        score=score(results),
        domains=MappingProxyType({d: score(r) for d, r in sorted(by_domain.items())}),
        frameworks=MappingProxyType({f: score(by_framework.get(f, ())) for f in frameworks}),
        coverage=MappingProxyType({f: coverage(results, t) for f, t in frameworks.items()}),
        framework_tables=MappingProxyType(dict(frameworks)),
        inventory=MappingProxyType(dict(inventory or {})),
        previous=previous,
    )
