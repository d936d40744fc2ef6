"""Fuzz target for the dependency readers: manifests, lock files and OSV records.

    python tests/fuzz/fuzz_deps.py --seconds 600      # mutation fuzzing, stdlib only

Seeds are a requirements file, a pyproject.toml, each lock-file format and an OSV
record; each mutated input goes through every manifest reader and, when it decodes as
JSON, the OSV record reader and version matcher. A failure is an exception, a run
slower than ``MAX_SECONDS``, or a dependency located on a line the text does not have.
Not collected by pytest (the name does not start with test_).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzzloop import fuzz_main, mutate_text
from packaging.version import Version

from ramparts.scan.lockfiles import Included, parse_manifest
from ramparts.scan.osv import Advisory, parse_advisory

MAX_SECONDS = 10.0  # every reader on one input of up to 256 K chars
MAX_CHARS = 256 * 1024
KINDS = ("requirements", "pyproject", "poetry.lock", "uv.lock", "Pipfile.lock", "pylock")
VERSIONS = [Version(v) for v in ("0", "1.0", "2.0rc1", "5.3.1", "1!2.0.post1")]
SEEDS = [
    "pyyaml==5.3.1 \\\n  --hash=sha256:00\n-r base.txt\nflask>=2 ; python_version<'3.12'\n-e .\n",
    (
        '[project]\ndependencies = ["requests>=2", "x==1.0"]\n[tool.poetry.dependencies]\n'
        'django = "3.2.0"\nlib = {git = "https://example.com/x.git"}\n'
    ),
    '[[package]]\nname = "pyyaml"\nversion = "5.3.1"\nsource = { registry = "https://pypi.org/simple" }\n',
    '[[package]]\nname = "numpy"\nversion = "1.26.4"\n[package.source]\ntype = "git"\n',
    json.dumps({"default": {"pyyaml": {"version": "==5.3.1"}}, "develop": {}}, indent=4),
    'lock-version = "1.0"\n[[packages]]\nname = "pyyaml"\nversion = "5.3.1"\n',
    json.dumps(
        {
            "id": "PYSEC-2099-1",
            "aliases": ["CVE-2099-1"],
            "severity": [
                {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}
            ],
            "affected": [
                {
                    "package": {"ecosystem": "PyPI", "name": "pyyaml"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.4"}]}
                    ],
                    "versions": ["5.3.1"],
                }
            ],
        }
    ),
]


def mutate(rng: random.Random, text: str) -> str:
    """One random edit (see :func:`fuzzloop.mutate_text`) with this target's specials."""
    return mutate_text(rng, text, SEEDS, "\"'\\,=[]{}:;@#-_.\n\r\t~^*")


def check(text: str) -> None:
    """Run every reader on ``text``; raise AssertionError on a dependency off the text."""
    lines = max(len(text.splitlines()), 1)
    for kind in KINDS:
        manifest = parse_manifest(kind, text, "f", includes=lambda ref, _: Included(ref, text))
        for dep in manifest.dependencies:
            assert dep.line is None or 1 <= dep.line <= lines, dep  # -r files hold text too
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return
    advisory = parse_advisory(data)
    if isinstance(advisory, Advisory):
        for version in VERSIONS:
            advisory.affects("pyyaml", version)
        advisory.fixed_versions("pyyaml")


def main() -> int:
    """Run the fuzz loop on this target."""
    return fuzz_main(
        "fuzz_deps",
        SEEDS,
        mutate,
        check,
        max_chars=MAX_CHARS,
        max_seconds=MAX_SECONDS,
        description=__doc__.splitlines()[0],
    )


if __name__ == "__main__":
    raise SystemExit(main())
