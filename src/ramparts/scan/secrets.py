"""The secrets scanner: credentials in code, configs, notebooks, logs and archives.

Every text file (and text member of an archive) is searched with the ``privacy``
layer's :class:`~ramparts.privacy.secrets.SecretDetector`. Notebooks are decoded
first, so a key in a code cell or printed by an output is found and located by cell.
Evidence is redacted; the fingerprint hashes the secret itself, so a baseline keeps
recognising it after edits, and two secrets in one place stay two findings.

Suppression: a line holding ``ramparts: ignore`` (every rule) or
``ramparts: ignore[RMP-SECRET-JWT, ...]`` is not reported.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator

from ramparts.core.types import Confidence, Finding, Location, Severity, Skip
from ramparts.privacy.interface import Category, Detection, redact
from ramparts.privacy.secrets import SECRET_NAME, SecretDetector, looks_like_secret_value
from ramparts.scan.interface import ScanContext, ScanItem, Scanner, ScanOutput
from ramparts.scan.notebook import Part, notebook_parts

__all__ = ["MAX_TEXT_BYTES", "SecretScanner", "ignored_rules", "is_suppressed", "secret_finding"]

MAX_TEXT_BYTES = 64 << 20
"""Text files larger than this are skipped with a reason (logs this big are data)."""

_NAMES_A_SECRET = re.compile(SECRET_NAME + r"|password|passwd|pwd", re.IGNORECASE)
_PRINTED = ("RMP-SECRET-PRINTED-SECRET", "printed-secret", "secret printed by a notebook cell")
_PRAGMA = re.compile(r"ramparts:\s*ignore(?:\[([A-Za-z0-9_,\- ]+)\])?")
_REMEDIATION = (
    "Revoke and rotate this credential now (it is in the file and its history), then "
    "load it at run time from the environment or a secret manager."
)
_REFERENCES = ("CWE-798", "OWASP LLM02:2025", "AML.T0055")
_SEVERITY = {s.value: s for s in Severity}
_CONFIDENCE = {c.value: c for c in Confidence}


def ignored_rules(line: str) -> frozenset[str] | None:
    """Rules an inline pragma on ``line`` suppresses: ``None`` for none, empty for all."""
    match = _PRAGMA.search(line)
    if match is None:
        return None
    if match.group(1) is None:
        return frozenset()
    return frozenset(r.strip() for r in match.group(1).split(",") if r.strip())


def is_suppressed(rule_id: str, line_text: str) -> bool:
    if "ramparts" not in line_text:
        return False
    rules = ignored_rules(line_text)
    return rules is not None and (not rules or rule_id in rules)


def _lines_of(text: str, det: Detection) -> str:
    """The whole line(s) a detection sits on, where a pragma would be written."""
    start = text.rfind("\n", 0, det.start) + 1
    end = text.find("\n", det.end)
    return text[start : end if end >= 0 else None]


def _looks_binary(head: bytes) -> bool:
    return b"\x00" in head


class SecretScanner(Scanner):
    """Hard-coded credentials in any text: one rule per kind, checksums, placeholder filters."""

    name = "secrets"
    description = "credentials in code, configs, notebooks and logs (redacted in reports)"

    def __init__(self, detector: SecretDetector | None = None) -> None:
        self._detector = detector or SecretDetector()

    def accepts(self, item: ScanItem) -> bool:
        """Text items: anything whose first bytes hold no NUL."""
        return not _looks_binary(item.head)

    def scan(self, item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
        """Decode ``item`` (notebooks cell by cell) and report each credential once."""
        if item.size > MAX_TEXT_BYTES:
            where = "!".join((item.path, *item.member))
            yield Skip(where, f"text larger than {MAX_TEXT_BYTES >> 20} MiB")
            return
        with item.open() as fh:
            data = fh.read(MAX_TEXT_BYTES + 1)
        text = data.decode("utf-8", errors="replace")
        parts = notebook_parts(text) if item.name.lower().endswith(".ipynb") else None
        if parts is not None:
            for part in parts:
                yield from self._part_findings(item, part)
            yield from self._printed_secrets(item, parts)
        else:
            yield from self._text_findings(item, text)

    def _text_findings(self, item: ScanItem, text: str) -> Iterator[Finding]:
        line, pos = 1, 0
        for det in self._detector.detect(text):
            line += text.count("\n", pos, det.start)
            pos = det.start
            line_start = text.rfind("\n", 0, det.start) + 1
            if is_suppressed(det.rule_id, _lines_of(text, det)):
                continue
            end_line = line + text.count("\n", det.start, det.end)
            location = Location(
                item.path,
                line=line,
                column=det.start - line_start + 1,
                end_line=end_line if end_line != line else None,
                member=item.member,
            )
            yield secret_finding(det, location)

    def _printed_secrets(self, item: ScanItem, parts: list[Part]) -> Iterator[Finding]:
        source = ""
        for part in parts:
            if part.member[-1] == "source":
                source = part.text
                continue
            if self._detector.detect(part.text):
                continue  # already reported by a rule of its own
            det = _printed_value(part, source)
            if det is None or is_suppressed(det.rule_id, source):
                continue
            line, column, part_line = part.place(det.start)
            location = Location(
                item.path, line=line, column=column, member=(*item.member, *part.member)
            )
            yield secret_finding(det, location, f" (line {part_line} of the output)")

    def _part_findings(self, item: ScanItem, part: Part) -> Iterator[Finding]:
        for det in self._detector.detect(part.text):
            if is_suppressed(det.rule_id, _lines_of(part.text, det)):
                continue
            line, column, part_line = part.place(det.start)
            location = Location(
                item.path, line=line, column=column, member=(*item.member, *part.member)
            )
            kind = "output" if part.member[-1].startswith("outputs") else "cell source"
            yield secret_finding(det, location, f" (line {part_line} of the {kind})")


def _printed_value(part: Part, source: str) -> Detection | None:
    """A lone value in an output of a cell whose last line names a secret.

    ``print(os.environ["API_KEY"])`` or a bare ``api_key`` shows the key in the
    output with nothing beside it that a rule could recognise; the cell's code names it.
    """
    lines = [line for line in source.splitlines() if line.strip()]
    if not lines or not _NAMES_A_SECRET.search(lines[-1]):
        return None
    stripped = part.text.strip()
    value = stripped.strip("'\"")
    if not looks_like_secret_value(value):
        return None
    start = part.text.index(value)
    rule_id, kind, title = _PRINTED
    return Detection(
        rule_id, kind, title, Category.SECRET, start, start + len(value), value, "high", "medium"
    )


def secret_finding(det: Detection, location: Location, where: str = "") -> Finding:
    """The report's finding for ``det`` at ``location``: redacted, fingerprinted by the
    secret itself (so a baseline survives line moves)."""
    digest = hashlib.sha256(det.value.encode()).hexdigest()
    parts = (det.rule_id, location.path, "!".join(location.member), digest)
    fingerprint = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
    return Finding(
        rule_id=det.rule_id,
        title=f"{det.title} in plain text",
        message=f"{det.title} found{where}; anyone who can read it can use it",
        severity=_SEVERITY.get(det.severity, Severity.HIGH),
        confidence=_CONFIDENCE.get(det.confidence, Confidence.MEDIUM),
        location=location,
        evidence=redact(det.value),
        remediation=_REMEDIATION,
        references=_REFERENCES,
        scanner="secrets",
        fingerprint=fingerprint,
    )
