"""The built-in control catalogue: size, mappings to pinned ids, facts that exist."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ramparts.core.types import Report
from ramparts.posture.assess import PostureInputs, gather_facts
from ramparts.posture.catalogue import DOMAINS, load_catalogue, load_catalogue_from, parse_controls
from ramparts.posture.frameworks import load_frameworks
from ramparts.posture.interface import PostureError
from ramparts.scan.discover import discover

NOW = datetime(2026, 12, 2, tzinfo=UTC)


def test_at_least_sixty_automated_controls_across_every_domain() -> None:
    controls = load_catalogue()
    assert len(controls) >= 60
    assert {c.domain for c in controls} == set(DOMAINS)


def test_every_mapping_references_a_pinned_id() -> None:
    tables = load_frameworks()
    unknown = [
        f"{c.id}: {framework} {item}"
        for c in load_catalogue()
        for framework, items in c.mappings.items()
        for item in items
        if framework not in tables or item not in tables[framework].ids()
    ]
    assert unknown == []


def test_every_control_maps_to_at_least_one_framework() -> None:
    assert [c.id for c in load_catalogue() if not c.mappings] == []


def test_every_fact_a_control_reads_is_produced_on_an_empty_repository(tmp_path: Path) -> None:
    inventory = discover(tmp_path, files=[])
    inputs = PostureInputs(
        root=tmp_path,
        files=[],
        scan=Report(tool_version="t", target=str(tmp_path), started_at=NOW),
        inventory=inventory,
        shadow=(),
        now=NOW,
    )
    facts = gather_facts(inputs)
    missing = sorted(
        {
            f"{c.id}: {name}"
            for c in load_catalogue()
            for name in (c.evidence, c.applies)
            if name is not None and name not in facts
        }
    )
    assert missing == []


_GOOD = """
controls:
  - id: RP-SC-90
    title: t
    domain: supply-chain
    severity: high
    rationale: r
    evidence: ci.scan_step
    expect: {equals: true}
    remediation: fix
"""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("RP-SC-90", "RP-GW-90"), "a supply-chain control id is RP-SC-NN"),
        (("severity: high", "severity: dire"), "severity"),
        (("{equals: true}", "{equals: true, max: 1}"), "expect must be one of"),
        (("{equals: true}", "{max: yes}"), "not a valid rule"),
        (("evidence: ci.scan_step", "evidence: nodot"), "is not a fact name"),
        (("remediation: fix", "remediation: fix\n    colour: red"), "unknown field"),
        (("domain: supply-chain", "domain: vibes"), "unknown domain"),
    ],
)
def test_a_defective_control_is_refused_naming_it(change: tuple[str, str], message: str) -> None:
    with pytest.raises(PostureError, match=message) as caught:
        parse_controls(_GOOD.replace(*change), "extra.yaml")
    assert "extra.yaml" in str(caught.value)


def test_a_duplicate_id_across_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(_GOOD)
    (tmp_path / "b.yaml").write_text(_GOOD)
    with pytest.raises(PostureError, match="RP-SC-90 is defined twice"):
        load_catalogue_from(tmp_path)


def test_invalid_yaml_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("controls: [\n")
    with pytest.raises(PostureError, match=r"a\.yaml: invalid YAML"):
        load_catalogue_from(tmp_path)
