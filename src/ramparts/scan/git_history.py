"""Secrets in a repository's history: every line added by any commit.

A key deleted in the latest commit is still in the history that every clone holds,
so it must be rotated all the same. ``git log -p`` is read as a stream (one commit's
file diff in memory at a time) and the added lines of each file diff go through the
same detector as the working tree.

git runs with external diff drivers, text conversion filters and the file-system
monitor switched off, so a hostile repository's configuration cannot make the scan
run a program of its choosing.
"""

from __future__ import annotations

import bisect
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from ramparts.core.records import field, record
from ramparts.core.types import Finding, Location
from ramparts.privacy.secrets import SecretDetector
from ramparts.scan.secrets import is_suppressed, secret_finding

__all__ = ["scan_history"]

_GIT_SAFETY = (
    "-c",
    "core.fsmonitor=false",
    "-c",
    "diff.external=",
    "-c",
    "core.pager=cat",
)
_COMMIT = "\x00commit "
_MAX_LINE = 1 << 20  # a longer added line (minified data) is cut, not held whole


@record(frozen=False, slots=False)
class _FileDiff:
    commit: str
    path: str
    lines: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)


def _git_log(root: Path, stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    git = shutil.which("git")
    if git is None:
        raise FileNotFoundError("git is not installed")
    cmd = [
        git,
        *_GIT_SAFETY,
        "-C",
        str(root),
        "log",
        "-p",
        "--all",
        "--no-color",
        "--no-ext-diff",
        "--no-textconv",
        "--no-renames",
        "--unified=0",
        "--relative",
        "--format=%x00commit %H",
    ]
    # stderr goes to a file: a pipe nobody reads until the end could fill and stall git.
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr)


def _diffs(lines: Iterator[bytes]) -> Iterator[_FileDiff]:
    """Each (commit, file) with the lines it added and their line numbers."""
    commit, current, next_line = "", None, 0
    for raw in lines:
        line = raw[:_MAX_LINE].decode("utf-8", errors="replace").rstrip("\n")
        if line.startswith(_COMMIT):
            if current is not None and current.lines:
                yield current
            commit, current = line[len(_COMMIT) :].strip(), None
        elif line.startswith("+++ "):
            if current is not None and current.lines:
                yield current
            target = line[4:]
            path = target[2:] if target.startswith("b/") else ""
            current = _FileDiff(commit, path) if path else None
        elif line.startswith("@@ ") and current is not None:
            # "@@ -a,b +c,d @@": added lines are numbered from c in the new file.
            new = line.split(" ")[2]
            next_line = int(new[1:].split(",")[0] or "0")
        elif line.startswith("+") and current is not None:
            current.lines.append(line[1:])
            current.numbers.append(next_line)
            next_line += 1
    if current is not None and current.lines:
        yield current


def scan_history(
    root: Path,
    detector: SecretDetector | None = None,
    *,
    in_tree: frozenset[str] = frozenset(),
) -> list[Finding]:
    """Secrets added by any commit under ``root`` (paths relative to it), newest first.

    A secret added in several commits is reported once, at its newest commit; one whose
    working-tree finding (fingerprint in ``in_tree``) is already reported is left out.
    Raises ``FileNotFoundError`` without git and ``RuntimeError`` when ``root`` is not
    in a repository or git fails.
    """
    detector = detector or SecretDetector()
    seen: set[str] = set()
    findings: list[Finding] = []
    with tempfile.TemporaryFile() as errors:
        proc = _git_log(root, errors)
        if proc.stdout is None:  # pragma: no cover - stdout is a pipe by construction
            raise RuntimeError("git produced no output stream")
        with proc:
            for diff in _diffs(iter(proc.stdout.readline, b"")):
                findings.extend(_diff_findings(diff, detector, seen, in_tree))
        if proc.returncode != 0:
            errors.seek(0)
            text = errors.read(4096).decode("utf-8", errors="replace").strip()
            first = text.splitlines()[0] if text else f"exit {proc.returncode}"
            raise RuntimeError(f"git log failed: {first}")
    return findings


def _diff_findings(
    diff: _FileDiff, detector: SecretDetector, seen: set[str], in_tree: frozenset[str]
) -> Iterator[Finding]:
    text = "\n".join(diff.lines)
    starts = [0]
    for added in diff.lines[:-1]:
        starts.append(starts[-1] + len(added) + 1)
    for det in detector.detect(text):
        index = bisect.bisect_right(starts, det.start) - 1
        if is_suppressed(det.rule_id, diff.lines[index]):
            continue
        key = f"{det.rule_id}\x00{diff.path}\x00{det.value}"
        if key in seen:
            continue
        seen.add(key)
        if secret_finding(det, Location(diff.path)).fingerprint in in_tree:
            continue  # still in the working tree, and reported there
        location = Location(
            diff.path,
            line=diff.numbers[index] or None,
            column=det.start - starts[index] + 1,
            member=(f"commit {diff.commit[:12]}",),
        )
        yield secret_finding(det, location, f" in commit {diff.commit[:12]}")
