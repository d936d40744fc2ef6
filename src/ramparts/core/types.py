"""Frozen value types shared by every layer.

These are the nouns of ramparts: what was looked at (:class:`ArtifactRef`,
:class:`Digest`), who acted (:class:`Principal`), what was found (:class:`Finding`
at a :class:`Location` with a :class:`Severity`) and the outcome of a run
(:class:`Report`). They validate themselves when built and never change afterwards.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType

from ramparts.core.records import field, record
from ramparts.errors import InputError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any, Self

__all__ = [
    "ArtifactRef",
    "Confidence",
    "Digest",
    "ErrorRecord",
    "ExitCode",
    "Finding",
    "Location",
    "Principal",
    "PrincipalKind",
    "Report",
    "Severity",
    "Skip",
    "Stats",
]

_HEX_DIGITS = "0123456789abcdef"
_DIGEST_SIZES = {"sha256": 64, "sha384": 96, "sha512": 128, "blake2b": 128, "blake3": 64}


class Severity(enum.Enum):
    """How bad a finding is, ordered from ``INFO`` to ``CRITICAL``."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        """Position in the order info < low < medium < high < critical."""
        return _SEVERITY_RANK[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank < other.rank

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank <= other.rank

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank > other.rank

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.rank >= other.rank

    @classmethod
    def parse(cls, text: str) -> Severity:
        """Read a severity name case-insensitively; unknown names raise :class:`InputError`."""
        try:
            return cls(text.strip().lower())
        except ValueError:
            names = ", ".join(s.value for s in cls)
            raise InputError(f"unknown severity {text!r} (expected one of: {names})") from None


_SEVERITY_RANK = {s: i for i, s in enumerate(Severity)}


class Confidence(enum.Enum):
    """How sure the scanner is that a finding is real."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class ExitCode(enum.IntEnum):
    """Process exit codes of the CLI, stable for scripts."""

    CLEAN = 0
    FINDINGS = 1
    ERRORS = 2
    NOTHING_SCANNED = 3
    USAGE = 4


@record
class Digest:
    """A content digest such as ``sha256:9f86...``."""

    algorithm: str
    value: str

    def __post_init__(self) -> None:
        size = _DIGEST_SIZES.get(self.algorithm)
        if size is None:
            raise InputError(f"unsupported digest algorithm {self.algorithm!r}")
        if len(self.value) != size or self.value.strip(_HEX_DIGITS):
            raise InputError(f"malformed {self.algorithm} digest {self.value!r}")

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``ALGORITHM:HEX``."""
        algorithm, sep, value = text.partition(":")
        if not sep:
            raise InputError(f"digest {text!r} lacks an algorithm prefix such as 'sha256:'")
        return cls(algorithm.lower(), value.lower())

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.value}"


@record
class ArtifactRef:
    """A named artifact (model, dataset, file) pinned by digest where known."""

    name: str
    digest: Digest | None = None
    version: str | None = None
    uri: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise InputError("an artifact needs a name")


class PrincipalKind(enum.Enum):
    """Whether a principal is a person or a workload."""

    HUMAN = "human"
    SERVICE = "service"


@record
class Principal:
    """Someone or something that acts: a person or a service identity.

    ``teams`` limits which registry assets the principal sees: those owned by one of
    its teams. No team means organisation-wide (admins, auditors, the local admin).
    """

    id: str
    name: str
    kind: PrincipalKind = PrincipalKind.HUMAN
    roles: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.id or not self.name:
            raise InputError("a principal needs an id and a name")


@record
class Location:
    """Where a finding is: a file relative to the scan root, and inside it.

    ``member`` is the path inside containers, outermost first: archive members
    (``("model.zip", "archive/data.pkl")``) or notebook parts (``("cell 3", "output 1")``).
    ``offset`` is a byte offset for binary formats; ``line``/``column`` are 1-based for text.
    """

    path: str
    line: int | None = None
    column: int | None = None
    end_line: int | None = None
    member: tuple[str, ...] = ()
    offset: int | None = None

    def __post_init__(self) -> None:
        for name in ("line", "column", "end_line"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError(f"location {name} must be >= 1, got {value}")
        if self.offset is not None and self.offset < 0:
            raise InputError(f"location offset must be >= 0, got {self.offset}")

    def __str__(self) -> str:
        text = self.path
        if self.member:
            text += "!" + "!".join(self.member)
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        elif self.offset is not None:
            text += f"@{self.offset}"
        return text


@record
class Finding:
    """One problem a scanner found.

    ``evidence`` is already redacted by the scanner: a finding never carries a whole
    secret. ``fingerprint`` identifies the finding across runs for baselines; it ignores
    line numbers so that a finding survives unrelated edits above it.
    """

    rule_id: str
    title: str
    message: str
    severity: Severity
    location: Location
    confidence: Confidence = Confidence.HIGH
    evidence: str | None = None
    remediation: str | None = None
    references: tuple[str, ...] = ()
    scanner: str = ""
    fingerprint: str = ""

    def __post_init__(self) -> None:
        if not self.rule_id or not self.title:
            raise InputError("a finding needs a rule id and a title")
        if not self.fingerprint:
            parts = (
                self.rule_id,
                self.location.path,
                "!".join(self.location.member),
                self.evidence if self.evidence is not None else self.message,
            )
            # Imported here: hashlib loads OpenSSL, and a clean scan makes no finding.
            import hashlib  # noqa: PLC0415

            digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]
            object.__setattr__(self, "fingerprint", digest)


@record
class Skip:
    """A file that was deliberately not scanned, and why (too big, binary, excluded...)."""

    path: str
    reason: str


@record
class ErrorRecord:
    """A file or step that failed; the run reports it instead of passing it silently."""

    path: str
    message: str


@record
class Stats:
    """Counters of one run."""

    files_seen: int = 0
    files_scanned: int = 0
    bytes_scanned: int = 0
    seconds: float = 0.0


@record
class Report:
    """The outcome of one run: findings, skips and errors, with counters.

    Findings are sorted (path, member, line, rule) so that output is deterministic.
    """

    tool_version: str
    target: str
    started_at: datetime
    findings: tuple[Finding, ...] = ()
    skips: tuple[Skip, ...] = ()
    errors: tuple[ErrorRecord, ...] = ()
    stats: Stats = field(default_factory=Stats)
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.findings, key=_finding_order))
        object.__setattr__(self, "findings", ordered)
        if not isinstance(self.properties, MappingProxyType):
            object.__setattr__(self, "properties", MappingProxyType(dict(self.properties)))

    def severity_counts(self) -> dict[Severity, int]:
        """How many findings each severity has, every severity present (zero included)."""
        counts = Counter(f.severity for f in self.findings)
        return {s: counts.get(s, 0) for s in Severity}

    def at_or_above(self, threshold: Severity) -> tuple[Finding, ...]:
        """The findings whose severity is ``threshold`` or worse."""
        return tuple(f for f in self.findings if f.severity >= threshold)

    def exit_code(self, fail_on: Severity) -> ExitCode:
        """The CLI outcome: findings at the threshold beat errors, errors beat 'nothing scanned'.

        Findings come first because they are the signal CI acts on; an error still
        fails the run (2) so that an unreadable file is never mistaken for a clean one.
        """
        if self.at_or_above(fail_on):
            return ExitCode.FINDINGS
        if self.errors:
            return ExitCode.ERRORS
        if self.stats.files_scanned == 0:
            return ExitCode.NOTHING_SCANNED
        return ExitCode.CLEAN

    def merged(self, other: Report) -> Self:
        """A report holding this one's results and ``other``'s, counters added."""
        stats = Stats(
            files_seen=self.stats.files_seen + other.stats.files_seen,
            files_scanned=self.stats.files_scanned + other.stats.files_scanned,
            bytes_scanned=self.stats.bytes_scanned + other.stats.bytes_scanned,
            seconds=self.stats.seconds + other.stats.seconds,
        )
        return type(self)(
            tool_version=self.tool_version,
            target=self.target,
            started_at=min(self.started_at, other.started_at),
            findings=_unique(self.findings + other.findings),
            skips=self.skips + other.skips,
            errors=self.errors + other.errors,
            stats=stats,
            properties={**self.properties, **other.properties},
        )


def _finding_order(f: Finding) -> tuple[str, tuple[str, ...], int, int, str, str]:
    loc = f.location
    return (
        loc.path,
        loc.member,
        loc.line or 0,
        loc.offset or 0,
        f.rule_id,
        f.fingerprint,
    )


def _unique(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    seen: dict[tuple[str, Location], Finding] = {}
    for f in findings:
        seen.setdefault((f.fingerprint, f.location), f)
    return tuple(seen.values())
