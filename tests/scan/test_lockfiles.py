"""Reading manifests and lock files: names, pins, lines, includes, and garbage."""

from __future__ import annotations

import importlib.util
import json
import string
import sys
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.scan.lockfiles import (
    Declared,
    Included,
    Manifest,
    Unreadable,
    manifest_kind,
    parse_data,
    parse_manifest,
)


def pins(manifest: Manifest) -> dict[str, tuple[str | None, int | None]]:
    return {d.name: (d.version, d.line) for d in manifest.dependencies}


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("requirements.txt", "requirements"),
        ("sub/requirements-dev.txt", "requirements"),
        ("dev-requirements.txt", "requirements"),
        ("requirements/base.txt", "requirements"),
        ("pyproject.toml", "pyproject"),
        ("a/poetry.lock", "poetry.lock"),
        ("uv.lock", "uv.lock"),
        ("Pipfile.lock", "Pipfile.lock"),
        ("pylock.toml", "pylock"),
        ("pylock.dev.toml", "pylock"),
        ("notes.txt", None),
        ("Pipfile", None),
        ("requirements.in", None),
    ],
)
def test_kind_by_name(path: str, kind: str | None) -> None:
    assert manifest_kind(path) == kind


REQUIREMENTS = """\
# the app's pins
pandas==2.2.2
transformers[torch]==4.30.0 ; python_version < "3.12"   # extras and a marker
pyyaml==5.3.1 \\
    --hash=sha256:aaaa \\
    --hash=sha256:bbbb
requests>=2.31
flask
numpy==1.26.*
legacy===1.0
--index-url https://pypi.example/simple
-c constraints.txt
-e ./local-package
mylib @ https://example.com/mylib-1.0.whl
./wheels/other.whl
"""


def test_requirements_pins_ranges_lines_and_unreadable_entries() -> None:
    m = parse_manifest("requirements", REQUIREMENTS, "requirements.txt")
    assert pins(m) == {
        "pandas": ("2.2.2", 2),
        "transformers": ("4.30.0", 3),
        "pyyaml": ("5.3.1", 4),
        "requests": (None, 7),
        "flask": (None, 8),
        "numpy": (None, 9),  # a wildcard is a range
        "legacy": ("1.0", 10),
    }
    spec = {d.name: d.spec for d in m.dependencies}
    assert spec["requests"] == "requests>=2.31"
    assert spec["pyyaml"] == "pyyaml==5.3.1"  # the hashes are not part of it
    reasons = {u.line: u.reason for u in m.unreadable}
    assert set(reasons) == {13, 14, 15}
    assert "editable" in reasons[13]
    assert "installed from https://example.com/mylib-1.0.whl" in reasons[14]
    assert "a path or URL" in reasons[15]
    assert not m.locked


def test_requirements_includes_are_read_through_the_reader() -> None:
    files = {
        "base.txt": "numpy==1.26.4\n-r requirements.txt\n",  # a cycle back
        "sub/more.txt": "\n\nscipy==1.11.0\n",
    }
    asked: list[tuple[str, str]] = []

    def reader(ref: str, from_path: str) -> Included | str:
        asked.append((ref, from_path))
        target = {"base.txt": "base.txt", "sub/more.txt": "sub/more.txt"}.get(ref)
        if target is None:
            return "no such file" if ref != "requirements.txt" else Included(ref, top)
        return Included(target, files[target])

    top = "-r base.txt\n--requirement=sub/more.txt\n-r missing.txt\n-r https://x/r.txt\nrich==13.7.0\n"
    m = parse_manifest("requirements", top, "requirements.txt", includes=reader)
    by_name = {d.name: d for d in m.dependencies}
    assert by_name["numpy"] == Declared("numpy", "1.26.4", "numpy==1.26.4", "base.txt", 1)
    assert by_name["scipy"].path == "sub/more.txt"
    assert by_name["scipy"].line == 3
    assert by_name["rich"].path == "requirements.txt"
    assert len(m.dependencies) == 3  # the cycle read requirements.txt once
    reasons = [u.reason for u in m.unreadable]
    assert reasons == [
        "-r missing.txt: no such file",
        "-r https://x/r.txt: remote requirement files are not fetched",
    ]
    assert ("https://x/r.txt", "requirements.txt") not in asked


def test_requirements_without_a_reader_say_includes_are_not_read() -> None:
    m = parse_manifest("requirements", "-r other.txt\n", "r/requirements.txt")
    assert m.unreadable == (
        Unreadable("r/requirements.txt", 1, "-r other.txt: included files are not read here"),
    )


def test_include_depth_is_bounded() -> None:
    def reader(ref: str, from_path: str) -> Included | str:
        n = int(ref.removesuffix(".txt"))
        return Included(ref, f"-r {n + 1}.txt\npkg{n}==1.0\n")

    m = parse_manifest("requirements", "-r 0.txt\n", "requirements.txt", includes=reader)
    assert len(m.dependencies) == 8
    assert "more than 8 files deep" in m.unreadable[0].reason


PYPROJECT = """\
[build-system]
requires = ["hatchling"]

[project]
name = "demo"
dependencies = [
  "requests>=2",
  "pyyaml==5.3.1",
]

[project.optional-dependencies]
ml = ["torch==2.0.0", 'numpy']

[dependency-groups]
test = ["pytest==7.0.0", {include-group = "lint"}]
lint = ["ruff"]

[tool.poetry.dependencies]
python = "^3.11"
django = "3.2.0"
fastapi = "^0.100"
httpx = {version = "==0.24.1", extras = ["http2"]}
private = {git = "https://example.com/private.git"}
multi = [{version = "1.0", python = "<3.12"}, {version = "2.0", python = ">=3.12"}]

[tool.poetry.group.dev.dependencies]
black = "23.1.0"
"""


def test_pyproject_reads_pep621_groups_and_poetry_with_lines() -> None:
    m = parse_manifest("pyproject", PYPROJECT, "pyproject.toml")
    assert pins(m) == {
        "requests": (None, 7),
        "pyyaml": ("5.3.1", 8),
        "torch": ("2.0.0", 12),
        "numpy": (None, 12),
        "pytest": ("7.0.0", 15),
        "ruff": (None, 16),
        "django": ("3.2.0", 20),  # Poetry's bare version is exact
        "fastapi": (None, 21),
        "httpx": ("0.24.1", 22),
        "multi": (None, 24),
        "black": ("23.1.0", 27),
    }
    assert [(u.line, u.reason) for u in m.unreadable] == [
        (23, "private: installed from a git, not an index")
    ]


POETRY_LOCK = """\
# This file is automatically @generated by Poetry and should not be changed by hand.

[[package]]
name = "pyyaml"
version = "5.3.1"
description = "YAML parser and emitter for Python"
optional = false
python-versions = "*"
files = []

[[package]]
name = "mylib"
version = "0.1.0"
description = ""

[package.source]
type = "git"
url = "https://example.com/mylib.git"
reference = "main"

[[package]]
name = "transformers"
version = "4.30.0"

[metadata]
lock-version = "2.0"
"""


def test_poetry_lock() -> None:
    m = parse_manifest("poetry.lock", POETRY_LOCK, "poetry.lock")
    assert pins(m) == {"pyyaml": ("5.3.1", 4), "transformers": ("4.30.0", 22)}
    assert [(u.line, u.reason) for u in m.unreadable] == [
        (12, "mylib: installed from a git, not an index")
    ]
    assert m.locked


UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "demo"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "pyyaml" }]

[[package]]
name = "pyyaml"
version = "5.3.1"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/pyyaml-5.3.1.tar.gz", hash = "sha256:b8", size = 269377 }

[[package]]
name = "numpy"
version = "1.26.4"
source = { registry = "https://pypi.org/simple" }
resolution-markers = ["python_full_version < '3.12'"]

[[package]]
name = "numpy"
version = "2.0.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "tool"
version = "1.0"
source = { git = "https://example.com/tool.git?rev=abc#abc" }
"""


def test_uv_lock_skips_the_project_and_keeps_forked_versions() -> None:
    m = parse_manifest("uv.lock", UV_LOCK, "uv.lock")
    assert [(d.name, d.version, d.line) for d in m.dependencies] == [
        ("pyyaml", "5.3.1", 11),
        ("numpy", "1.26.4", 17),
        ("numpy", "2.0.0", 23),
    ]
    assert [(u.line, u.reason) for u in m.unreadable] == [
        (28, "tool: installed from a git, not an index")
    ]


PIPFILE_LOCK = {
    "_meta": {"hash": {"sha256": "00"}, "pipfile-spec": 6},
    "default": {
        "pyyaml": {"hashes": ["sha256:aa"], "index": "pypi", "version": "==5.3.1"},
        "mylib": {"git": "https://example.com/mylib.git", "ref": "abc"},
    },
    "develop": {
        "pyyaml": {"hashes": [], "version": "==6.0.1"},
        "pytest": {"version": "==7.0.0", "markers": "python_version >= '3.8'"},
    },
}


def test_pipfile_lock_sections_and_lines() -> None:
    text = json.dumps(PIPFILE_LOCK, indent=4)
    m = parse_manifest("Pipfile.lock", text, "Pipfile.lock")
    lines = text.splitlines()
    found = [(d.name, d.version, lines[d.line - 1].strip()[:10]) for d in m.dependencies if d.line]
    assert found == [
        ("pyyaml", "5.3.1", '"pyyaml": '),
        ("pyyaml", "6.0.1", '"pyyaml": '),
        ("pytest", "7.0.0", '"pytest": '),
    ]
    develop = next(d for d in m.dependencies if d.version == "6.0.1")
    assert develop.line is not None
    assert develop.line > lines.index('    "develop": {')
    assert [u.reason for u in m.unreadable] == ["mylib: installed from a git, not an index"]


PYLOCK = """\
lock-version = "1.0"
created-by = "hand"

[[packages]]
name = "pyyaml"
version = "5.3.1"
index = "https://pypi.org/simple"

[[packages]]
name = "mylib"
vcs = { type = "git", url = "https://example.com/mylib.git", commit-id = "abc" }

[[packages]]
name = "noversion"
"""


def test_pylock() -> None:
    m = parse_manifest("pylock", PYLOCK, "pylock.toml")
    assert pins(m) == {"pyyaml": ("5.3.1", 5)}
    assert [(u.line, u.reason) for u in m.unreadable] == [
        (10, "mylib: installed from a vcs, not an index"),
        (14, "noversion: no version; cannot be audited"),
    ]


@pytest.mark.parametrize(
    ("kind", "text", "reason"),
    [
        ("pyproject", "[project\n", "invalid TOML"),
        ("uv.lock", "package = 3\n", "'package' is not an array of tables"),
        ("Pipfile.lock", "{nope", "invalid JSON"),
        ("Pipfile.lock", "[1, 2]", "the file does not hold a table"),
        ("poetry.lock", '[[package]]\nname = "x y"\nversion = "1"\n', "valid package name"),
        ("poetry.lock", '[[package]]\nname = "x"\nversion = "not a version"\n', "not a PEP 440"),
        ("pyproject", "[project]\ndependencies = 3\n", "project.dependencies is not a list"),
        ("pyproject", '[project]\ndependencies = ["not a req !!"]\n', "not a requirement"),
    ],
)
def test_malformed_files_become_unreadable_entries(kind: str, text: str, reason: str) -> None:
    m = parse_manifest(kind, text, "f")
    assert m.dependencies == ()
    assert any(reason in u.reason for u in m.unreadable), m.unreadable


# -- properties: garbage never raises -------------------------------------------------

KINDS = ["requirements", "pyproject", "poetry.lock", "uv.lock", "Pipfile.lock", "pylock"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)
keys = st.sampled_from(
    ["package", "packages", "name", "version", "source", "default", "develop", "project",
     "dependencies", "optional-dependencies", "tool", "poetry", "group", "git", "editable",
     "registry", "vcs", "dependency-groups", "type", "python"]
)  # fmt: skip
structured = st.recursive(
    st.none() | st.text(alphabet=string.printable, max_size=15) | st.integers(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=5),
    max_leaves=40,
)


def check(m: Manifest) -> None:
    assert isinstance(m, Manifest)
    for dep in m.dependencies:
        assert dep.name
        assert dep.line is None or dep.line >= 1
    for bad in m.unreadable:
        assert bad.reason


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(KINDS), text=st.text(max_size=400))
def test_any_text_parses_without_raising(kind: str, text: str) -> None:
    check(parse_manifest(kind, text, "f", includes=lambda ref, _: Included(ref, text[:50])))


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(KINDS[1:]), data=st.dictionaries(keys, structured, max_size=6))
def test_any_decoded_structure_parses_without_raising(kind: str, data: dict[str, object]) -> None:
    check(parse_data(kind, data, json.dumps(data, default=str), "f"))


@settings(max_examples=100, deadline=None)
@given(kind=st.sampled_from(KINDS[1:]), data=json_values)
def test_any_json_value_parses_without_raising(kind: str, data: object) -> None:
    check(parse_data(kind, data, "", "f"))


requirement_lines = st.lists(
    st.sampled_from(
        ["pkg==1.0", "x>=2", "-r a.txt", "-e .", "# c", "\\", "--hash=sha256:0", "y @ http://z",
         "==", "a[b]==1 ; python_version<'3'", " ", "-rb.txt", "--requirement", "z===1.*"]
    ),
    max_size=12,
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(lines=requirement_lines)
def test_requirement_shaped_lines_parse_without_raising(lines: list[str]) -> None:
    text = "\n".join(lines)
    m = parse_manifest("requirements", text, "requirements.txt", includes=lambda r, _: "nope")
    check(m)
    assert all(d.line is not None and d.line <= max(len(lines), 1) for d in m.dependencies)


def test_indented_requirement_lines() -> None:
    text = textwrap.indent("pandas==2.2.2\n  numpy==1.26.4\n", "  ")
    assert pins(parse_manifest("requirements", text, "r.txt")) == {
        "pandas": ("2.2.2", 1),
        "numpy": ("1.26.4", 2),
    }


FUZZ = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_deps.py"


def test_fuzz_target_runs_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("fuzz_deps", FUZZ)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(sys, "argv", ["fuzz_deps", "--seconds", "3", "--seed", "7"])
    assert module.main() == 0


_A, _B = "a" * 64, "b" * 64


@pytest.mark.parametrize(
    ("kind", "path", "text"),
    [
        (
            "requirements",
            "requirements.txt",
            f"numpy==1.26.4 --hash=sha256:{_A} \\\n  --hash=sha256:{_B}\n",
        ),
        (
            "poetry.lock",
            "poetry.lock",
            (
                f'[[package]]\nname = "numpy"\nversion = "1.26.4"\nfiles = [\n'
                f'  {{file = "n.whl", hash = "sha256:{_A}"}},\n  {{file = "n.tar.gz", hash = "sha256:{_B}"}},\n]\n'
            ),
        ),
        (
            "uv.lock",
            "uv.lock",
            (
                f'[[package]]\nname = "numpy"\nversion = "1.26.4"\nsdist = {{ url = "u", hash = "sha256:{_A}" }}\n'
                f'wheels = [{{ url = "w", hash = "sha256:{_B}" }}]\n'
            ),
        ),
        (
            "Pipfile.lock",
            "Pipfile.lock",
            json.dumps(
                {
                    "default": {
                        "numpy": {"version": "==1.26.4", "hashes": [f"sha256:{_A}", f"sha256:{_B}"]}
                    }
                }
            ),
        ),
        (
            "pylock",
            "pylock.toml",
            (
                f'[[packages]]\nname = "numpy"\nversion = "1.26.4"\nsdist = {{ hashes = {{ sha256 = "{_A}" }} }}\n'
                f'wheels = [{{ hashes = {{ sha256 = "{_B}" }} }}]\n'
            ),
        ),
    ],
)
def test_archive_hashes_are_kept(kind: str, path: str, text: str) -> None:
    (dep,) = parse_manifest(kind, text, path).dependencies
    assert (dep.name.lower(), dep.version) == ("numpy", "1.26.4")
    assert dep.hashes == (f"sha256:{_A}", f"sha256:{_B}")
