"""The pinned framework tables: counts, id formats, and the loader's error reporting."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from importlib import resources
from pathlib import Path

import pytest

from ramparts.posture.frameworks import (
    FRAMEWORK_IDS,
    load_frameworks,
    load_frameworks_from,
    parse_framework,
)
from ramparts.posture.interface import Framework, PostureError

PACKAGED = Path(str(resources.files("ramparts.posture") / "data" / "frameworks"))

ID_FORMATS = {
    "nist-ai-rmf": r"(GOVERN|MAP|MEASURE|MANAGE) [1-6]\.([1-9]|1[0-3])",
    "nist-ai-600-1": r"2\.([1-9]|1[0-2])",
    "iso-42001": r"A\.(([2-9]|10)\.[2-9]|6\.[12]\.[2-8])",
    "eu-ai-act": r"Art\. [1-9][0-9]*",
    "owasp-llm-2025": r"LLM(0[1-9]|10)",
    "owasp-ml-2023": r"ML(0[1-9]|10)",
    "mitre-atlas": r"AML\.(M\d{4}|T\d{4}(\.\d{3})?)",
    "google-saif": r"[A-Z]{2,3}",
}


def _table(framework_id: str) -> Framework:
    return load_frameworks()[framework_id]


def test_every_builtin_table_loads_in_display_order() -> None:
    tables = load_frameworks()
    assert tuple(tables) == FRAMEWORK_IDS
    for fid, table in tables.items():
        assert table.id == fid
        assert table.name
        assert table.version
        assert table.source.startswith("https://")


def test_package_data_is_found_where_the_wheel_puts_it() -> None:
    names = {p.name for p in PACKAGED.glob("*.yaml")}
    assert names == {f"{fid}.yaml" for fid in FRAMEWORK_IDS}


@pytest.mark.parametrize("framework_id", FRAMEWORK_IDS)
def test_ids_have_the_framework_format_and_are_unique(framework_id: str) -> None:
    table = _table(framework_id)
    pattern = re.compile(ID_FORMATS[framework_id])
    bad = [item.id for item in table.items if not pattern.fullmatch(item.id)]
    assert bad == []
    assert len(table.ids()) == len(table.items)
    assert all(item.title.strip() for item in table.items)


def test_nist_ai_rmf_has_72_subcategories_per_function() -> None:
    table = _table("nist-ai-rmf")
    per_function = Counter(item.id.split()[0] for item in table.items)
    assert per_function == {"GOVERN": 19, "MAP": 18, "MEASURE": 22, "MANAGE": 13}
    assert len({item.group for item in table.items}) == 19
    assert {"GOVERN 1.6", "MAP 4.1", "MEASURE 2.7", "MANAGE 2.4"} <= table.ids()
    assert all(item.id.startswith(item.group + ".") for item in table.items)


def test_nist_ai_600_1_has_12_risks() -> None:
    table = _table("nist-ai-600-1")
    assert [item.id for item in table.items] == [f"2.{n}" for n in range(1, 13)]
    assert {i.id: i.title for i in table.items}["2.9"] == "Information Security"


def test_iso_42001_annex_a_has_38_controls_in_9_objectives() -> None:
    table = _table("iso-42001")
    assert len(table.items) == 38
    per_objective = Counter(item.group for item in table.items)
    assert per_objective == {
        "A.2": 3, "A.3": 2, "A.4": 5, "A.5": 4, "A.6": 9,
        "A.7": 5, "A.8": 4, "A.9": 3, "A.10": 3,
    }  # fmt: skip
    assert all(item.id.startswith(item.group + ".") for item in table.items)
    # Ids that public pages commonly invent or misnumber must not creep in.
    assert {"A.5.1", "A.6.1", "A.6.2", "A.6.2.1", "A.6.2.9", "A.7.1"}.isdisjoint(table.ids())


def test_eu_ai_act_pins_the_ten_articles() -> None:
    table = _table("eu-ai-act")
    expected = ["Art. 9", "Art. 10", "Art. 11", "Art. 12", "Art. 13", "Art. 14", "Art. 15"]
    assert [item.id for item in table.items] == [*expected, "Art. 26", "Art. 72", "Art. 73"]


@pytest.mark.parametrize(
    ("framework_id", "prefix"), [("owasp-llm-2025", "LLM"), ("owasp-ml-2023", "ML")]
)
def test_owasp_lists_have_ten_entries_in_order(framework_id: str, prefix: str) -> None:
    table = _table(framework_id)
    assert [item.id for item in table.items] == [f"{prefix}{n:02d}" for n in range(1, 11)]


def test_saif_has_the_15_risk_codes() -> None:
    codes = {"DP", "UTD", "MST", "EDH", "MXF", "MDT", "DMS", "MRE", "IIC", "PIJ", "MEV", "SDD"}
    assert _table("google-saif").ids() == codes | {"ISD", "IMO", "RA"}


def test_mitre_atlas_pins_every_mitigation_and_technique() -> None:
    table = _table("mitre-atlas")
    groups = Counter(item.group for item in table.items)
    mitigations = sorted(i.id for i in table.items if i.group == "mitigation")
    assert set(groups) == {"technique", "mitigation"}
    assert groups["mitigation"] > 30
    # Mitigations are numbered without gaps from AML.M0000.
    assert mitigations == [f"AML.M{n:04d}" for n in range(groups["mitigation"])]
    assert all(re.fullmatch(r"AML\.M\d{4}", m) for m in mitigations)
    techniques = [i for i in table.items if i.group == "technique"]
    assert all(re.fullmatch(r"AML\.T\d{4}(\.\d{3})?", t.id) for t in techniques)
    # Every sub-technique has its parent pinned too.
    subs = [t.id for t in techniques if t.id.count(".") == 2]
    assert {s.rsplit(".", 1)[0] for s in subs} <= table.ids()
    assert {"AML.T0010.003", "AML.T0051", "AML.T0051.001", "AML.M0024"} <= table.ids()


def test_mitre_atlas_counts_match_the_pinned_version() -> None:
    table = _table("mitre-atlas")
    assert table.version.startswith("2026.09")
    parents = [i for i in table.items if re.fullmatch(r"AML\.T\d{4}", i.id)]
    subs = [i for i in table.items if re.fullmatch(r"AML\.T\d{4}\.\d{3}", i.id)]
    mitigations = [i for i in table.items if i.group == "mitigation"]
    assert (len(parents), len(subs), len(mitigations)) == (120, 88, 40)


def _copy_tables(tmp_path: Path) -> Path:
    folder = tmp_path / "frameworks"
    shutil.copytree(PACKAGED, folder)
    return folder


def test_a_copy_of_the_tables_loads_like_the_package(tmp_path: Path) -> None:
    assert load_frameworks_from(_copy_tables(tmp_path)) == load_frameworks()


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('{id: "LLM02"', '{id: "LLM01"', "item id LLM01 is listed twice"),
        ('title: "Supply Chain"', 'title: "  "', "title must be a non-empty string"),
        ("version:", "edition:", "missing field(s) version"),
        ("id: owasp-llm-2025", "id: owasp-llm", "must match the file name"),
        ('group: ""', 'group: "", owner: "x"', "unknown field(s) owner"),
        ("items:", "items: [unclosed", "invalid YAML"),
    ],
)
def test_a_defective_table_names_its_file(tmp_path: Path, old: str, new: str, message: str) -> None:
    folder = _copy_tables(tmp_path)
    path = folder / "owasp-llm-2025.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(PostureError, match=r"owasp-llm-2025\.yaml") as caught:
        load_frameworks_from(folder)
    assert message in str(caught.value)


def test_empty_items_and_a_non_mapping_are_rejected() -> None:
    base = "id: t\nname: T\nversion: '1'\nsource: https://example.org\n"
    with pytest.raises(PostureError, match=r"t\.yaml: items must be a non-empty list"):
        parse_framework(base + "items: []\n", "t.yaml")
    with pytest.raises(PostureError, match=r"t\.yaml: expected a mapping"):
        parse_framework("- just a list\n", "t.yaml")
    with pytest.raises(PostureError, match=r"t\.yaml: version must be a non-empty string"):
        parse_framework(base.replace("'1'", "1") + "items: [{id: a, title: b}]\n", "t.yaml")


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(PostureError, match=r"no \*\.yaml framework tables"):
        load_frameworks_from(tmp_path)
