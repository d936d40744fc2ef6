"""OSV records: version matching, severities, local exports, and garbage."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version

from ramparts.core.types import Severity
from ramparts.errors import ConfigError
from ramparts.scan.osv import (
    Advisory,
    OsvDatabase,
    Rejected,
    cvss3_base_score,
    parse_advisory,
    preferred_id,
)


def record(vid: str, name: str = "pkg", **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id": vid,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [{"package": {"ecosystem": "PyPI", "name": name}, **fields}],
    }
    return data


def events(*pairs: tuple[str, str]) -> dict[str, object]:
    return {"ranges": [{"type": "ECOSYSTEM", "events": [{k: v} for k, v in pairs]}]}


def affected(data: dict[str, object], version: str, name: str = "pkg") -> bool:
    advisory = parse_advisory(data)
    assert isinstance(advisory, Advisory)
    return advisory.affects(name, Version(version))


@pytest.mark.parametrize(
    ("version", "expected"),
    [("0.1", True), ("1.4.9", True), ("1.5", False), ("1.9", False), ("2.0rc1", False),
     ("2.0", True), ("2.2.1", True), ("2.3", False), ("3.0", False)],
)  # fmt: skip
def test_introduced_and_fixed_events_open_and_close_ranges(version: str, expected: bool) -> None:
    # Events out of order, as records may write them: they are sorted by version.
    data = record(
        "PYSEC-1",
        **events(("fixed", "2.3"), ("introduced", "2.0"), ("introduced", "0"), ("fixed", "1.5")),
    )
    assert affected(data, version) is expected


@pytest.mark.parametrize(
    ("version", "expected"), [("0.9", False), ("1.0", True), ("1.4", True), ("1.4.1", False)]
)
def test_last_affected_includes_its_own_version(version: str, expected: bool) -> None:
    data = record("GHSA-x", **events(("introduced", "1.0"), ("last_affected", "1.4")))
    assert affected(data, version) is expected


def test_versions_list_alone_and_names_are_canonical() -> None:
    data = record("PYSEC-2", name="Py_YAML", versions=["5.3.1", "5.1b1"])
    assert affected(data, "5.3.1", "py-yaml")
    assert affected(data, "5.1b1", "PY.YAML")
    assert not affected(data, "5.4", "py-yaml")
    assert not affected(data, "5.3.1", "other")


def test_other_ecosystems_and_git_ranges_are_ignored() -> None:
    data = {
        "id": "OSV-1",
        "affected": [
            {"package": {"ecosystem": "npm", "name": "pkg"}, **events(("introduced", "0"))},
            {
                "package": {"ecosystem": "PyPI", "name": "pkg"},
                "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}],
            },
        ],
    }
    assert not affected(data, "1.0")


def test_fixed_versions_aliases_summary_and_withdrawn() -> None:
    data = record(
        "PYSEC-3",
        ranges=[
            {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.5"}]},
            {"type": "ECOSYSTEM", "events": [{"introduced": "2.0"}, {"fixed": "2.0.3"}]},
        ],
    )
    data["aliases"] = ["CVE-2024-1", "GHSA-aaaa-bbbb-cccc", "PYSEC-3"]
    data["details"] = "  A long\n  description\n" + "word " * 100
    data["withdrawn"] = "2024-02-01T00:00:00Z"
    advisory = parse_advisory(data)
    assert isinstance(advisory, Advisory)
    assert advisory.fixed_versions("pkg") == (Version("1.2.5"), Version("2.0.3"))
    assert advisory.aliases == ("CVE-2024-1", "GHSA-aaaa-bbbb-cccc")  # its own id dropped
    assert advisory.summary.startswith("A long description word")
    assert len(advisory.summary) <= 300
    assert advisory.withdrawn
    db = OsvDatabase.from_records([data])
    assert db.withdrawn == 1
    assert db.matching("pkg", Version("1.0")) == []


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N", 1.6),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O", 9.8),  # temporal ignored
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:X/C:H/I:H/A:H", None),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", None),
        ("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", None),
        ("garbage", None),
    ],
)
def test_cvss3_base_scores(vector: str, score: float | None) -> None:
    assert cvss3_base_score(vector) == score


def test_severity_prefers_the_database_rating_then_cvss_then_none() -> None:
    cvss = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H"}]
    both = record("GHSA-1", **events(("introduced", "0")))
    both.update(severity=cvss, database_specific={"severity": "MODERATE"})
    only_cvss = record("PYSEC-4", **events(("introduced", "0")))
    only_cvss["severity"] = cvss
    none = record("PYSEC-5", **events(("introduced", "0")))
    v4_only = record("GHSA-2", **events(("introduced", "0")))
    v4_only["severity"] = [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N"}]
    got = [parse_advisory(r) for r in (both, only_cvss, none, v4_only)]
    assert [a.severity for a in got if isinstance(a, Advisory)] == [
        Severity.MEDIUM,
        Severity.MEDIUM,  # 5.9
        None,
        None,
    ]


def test_preferred_id() -> None:
    assert preferred_id(["GHSA-x", "CVE-2020-1", "PYSEC-2021-142"]) == "PYSEC-2021-142"
    assert preferred_id(["CVE-2020-1", "GHSA-x"]) == "GHSA-x"
    assert preferred_id(["OSV-2", "CVE-2020-1"]) == "CVE-2020-1"
    assert preferred_id(["BIT-b", "BIT-a"]) == "BIT-a"


def test_unusable_records_are_rejected_with_a_reason() -> None:
    assert parse_advisory([1]) == Rejected("record", "not a JSON object")
    assert parse_advisory({"affected": []}) == Rejected("record", "no id")
    future = parse_advisory({"id": "X-1", "schema_version": "2.0.0"}, "x.json")
    assert future == Rejected("x.json", "X-1: OSV schema 2.0.0 is not supported")


def write_records(folder: Path) -> list[dict[str, object]]:
    records = [
        record("PYSEC-10", **events(("introduced", "0"), ("fixed", "2.0"))),
        record("GHSA-10", name="other", versions=["1.0"]),
    ]
    (folder / "nested" / "deeper").mkdir(parents=True)
    (folder / "PYSEC-10.json").write_text(json.dumps(records[0]), encoding="utf-8")
    (folder / "nested" / "deeper" / "GHSA-10.json").write_text(
        json.dumps(records[1]), encoding="utf-8"
    )
    (folder / "nested" / "broken.json").write_text("{not json", encoding="utf-8")
    (folder / "README.md").write_text("not a record", encoding="utf-8")
    return records


def test_export_as_folder_zip_and_single_file(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    records = write_records(folder)
    db = OsvDatabase.load(folder)
    assert db.records == 3
    assert [r.where for r in db.rejected] == ["nested/broken.json"]
    assert [a.id for a in db.matching("pkg", Version("1.0"))] == ["PYSEC-10"]
    assert [a.id for a in db.matching("OTHER", Version("1.0"))] == ["GHSA-10"]

    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for i, r in enumerate(records):
            zf.writestr(f"{i}.json", json.dumps(r))
        zf.writestr("skip.txt", "x")
    db = OsvDatabase.load(archive)
    assert (db.records, db.rejected) == (2, [])
    assert [a.id for a in db.matching("pkg", Version("1.9"))] == ["PYSEC-10"]

    single = tmp_path / "list.json"
    single.write_text(json.dumps(records), encoding="utf-8")
    assert OsvDatabase.load(single).records == 2


def test_an_export_that_cannot_be_opened_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file or folder"):
        OsvDatabase.load(tmp_path / "missing.zip")


def test_a_damaged_zip_member_costs_only_that_record(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.json", json.dumps(record("PYSEC-1", versions=["1"])) * 1)
        zf.writestr("b.json", json.dumps(record("PYSEC-2", versions=["1"])) + " " * 5000)
    data = bytearray(archive.read_bytes())
    member_b = data.index(b"b.json") + len(b"b.json")  # inside b.json's local header + data
    data[member_b + 20 : member_b + 40] = b"\xff" * 20  # corrupt its compressed bytes
    archive.write_bytes(bytes(data))
    db = OsvDatabase.load(archive)
    assert [a.id for a in db.matching("pkg", Version("1"))] == ["PYSEC-1"]
    assert [r.where for r in db.rejected] == ["b.json"]


# -- properties: garbage never raises -------------------------------------------------

keys = st.sampled_from(
    ["id", "aliases", "affected", "package", "ecosystem", "name", "ranges", "type", "events",
     "introduced", "fixed", "last_affected", "versions", "severity", "score", "withdrawn",
     "database_specific", "summary", "details", "schema_version", "published"]
)  # fmt: skip
leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(["PyPI", "ECOSYSTEM", "0", "1.0", "2.0rc1", "pkg", "HIGH", "CVSS_V3"])
    | st.sampled_from(["CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:L/A:N", "1!2.post3", "x.y"])
    | st.text(max_size=10)
)
osv_like = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=50,
)
versions = st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){0,3}((a|b|rc|\.post|\.dev)[0-9])?\Z")


@settings(max_examples=200, deadline=None)
@given(data=osv_like, version=versions)
def test_any_record_shape_parses_and_matches_without_raising(data: object, version: str) -> None:
    parsed = parse_advisory(data)
    assert isinstance(parsed, Advisory | Rejected)
    if isinstance(parsed, Advisory):
        parsed.affects("pkg", Version(version))
        parsed.fixed_versions("pkg")
    db = OsvDatabase.from_records([data, data])
    db.matching("pkg", Version(version))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80) | st.from_regex(r"\ACVSS:3\.[01](/[A-Z]{1,2}:[A-Z]){0,9}\Z"))
def test_any_vector_scores_in_range_or_none(vector: str) -> None:
    score = cvss3_base_score(vector)
    assert score is None or 0.0 <= score <= 10.0


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_an_export_file_load_or_fail_with_our_error(data: bytes) -> None:
    # A temporary directory of its own: hypothesis forbids the function-scoped tmp_path.
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.json"
        path.write_bytes(data)
        try:
            db = OsvDatabase.load(path)
        except ConfigError:
            return
        assert db.records >= 1  # a file that is not a record is a rejected record
