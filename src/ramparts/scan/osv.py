"""OSV advisories for PyPI packages: reading records, matching versions, severity.

Reads records of the OSV schema (the format of osv.dev, the PyPA advisory database
and GitHub's advisory database) from a local export: a folder of ``*.json`` files
(searched recursively), a zip of them such as OSV's per-ecosystem ``all.zip``, or
one JSON file holding a record or a list of records. Nothing here touches the network.

A version is affected when it is listed in ``affected[].versions`` or falls in an
``ECOSYSTEM`` range: events are sorted by version and walked in order, ``introduced``
opening the range and ``fixed`` (from that version on) or ``last_affected`` (after
it) closing it. Versions compare by PEP 440 (``packaging.version``). An event whose
version is not PEP 440 is ignored, which errs towards reporting. Withdrawn records
are dropped; aliases are kept.

Severity: ``database_specific.severity`` (GitHub's CRITICAL/HIGH/MODERATE/LOW) where a
record has it, else the base score of a CVSS v3 vector in ``severity[]`` (0.1-3.9 low,
4.0-6.9 medium, 7.0-8.9 high, 9.0-10.0 critical), else unknown.

A record that cannot be read becomes a :class:`Rejected` with the reason, never an
exception; only an export that cannot be opened at all raises :class:`ConfigError`.
"""

from __future__ import annotations

import json
import math
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ramparts.core.records import field, record
from ramparts.core.types import Severity
from ramparts.errors import ConfigError

__all__ = [
    "Advisory",
    "Affected",
    "OsvDatabase",
    "Rejected",
    "cvss3_base_score",
    "parse_advisory",
    "preferred_id",
    "severity_of_score",
]

MAX_RECORD_BYTES = 8 << 20
"""A record larger than this is rejected unread (a zip member could expand to anything)."""

MAX_RECORDS = 2_000_000
"""An export with more files than this is refused (OSV's PyPI export holds ~20,000)."""

ECOSYSTEM = "PyPI"

_DB_SEVERITY = {
    "critical": Severity.CRITICAL,
    "high": Severity.HIGH,
    "moderate": Severity.MEDIUM,
    "medium": Severity.MEDIUM,
    "low": Severity.LOW,
}
_ID_PREFERENCE = ("PYSEC-", "GHSA-", "CVE-")


@record
class Event:
    """One event of an ``ECOSYSTEM`` range; ``version`` is ``None`` for ``introduced: 0``."""

    kind: str
    version: Version | None


@record
class Affected:
    """The part of a record about one PyPI package (canonical name)."""

    name: str
    ranges: tuple[tuple[Event, ...], ...] = ()
    versions: frozenset[str] = frozenset()
    parsed_versions: frozenset[Version] = frozenset()

    def affects(self, version: Version) -> bool:
        """Whether ``version`` is listed or falls in one of the ranges."""
        if str(version) in self.versions or version in self.parsed_versions:
            return True
        return any(_in_range(version, events) for events in self.ranges)

    def fixed(self) -> tuple[Version, ...]:
        """Every version that a ``fixed`` event names."""
        return tuple(
            e.version
            for events in self.ranges
            for e in events
            if e.kind == "fixed" and e.version is not None
        )


@record
class Advisory:
    """One OSV record, reduced to what an audit of PyPI packages needs."""

    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    severity: Severity | None = None
    published: datetime | None = None
    affected: tuple[Affected, ...] = ()
    withdrawn: bool = False

    def affects(self, name: str, version: Version) -> bool:
        """Whether package ``name`` at ``version`` is affected."""
        canonical = canonicalize_name(name)
        return any(a.name == canonical and a.affects(version) for a in self.affected)

    def fixed_versions(self, name: str) -> tuple[Version, ...]:
        """The versions of ``name`` that fix this advisory, ascending."""
        canonical = canonicalize_name(name)
        found = {v for a in self.affected if a.name == canonical for v in a.fixed()}
        return tuple(sorted(found))


@record
class Rejected:
    """A record that could not be used, and why."""

    where: str
    reason: str


def preferred_id(ids: Iterable[str]) -> str:
    """The id to show for a vulnerability known under ``ids``: PYSEC, then GHSA, then CVE."""

    def rank(vid: str) -> tuple[int, str]:
        for i, prefix in enumerate(_ID_PREFERENCE):
            if vid.startswith(prefix):
                return i, vid
        return len(_ID_PREFERENCE), vid

    return min(ids, key=rank)


# -- CVSS v3 ---------------------------------------------------------------------------

_CVSS_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges required weigh more when the scope changes.
_CVSS_PR = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}


def _round_up(value: float) -> float:
    """CVSS 3.1's Roundup: the smallest one-decimal number >= value, float-safe."""
    scaled = round(value * 100_000)
    if scaled % 10_000 == 0:
        return scaled / 100_000
    return (math.floor(scaled / 10_000) + 1) / 10.0


def cvss3_base_score(vector: str) -> float | None:
    """The base score of a CVSS v3.0/v3.1 vector (``CVSS:3.1/AV:N/...``), or ``None``."""
    parts = vector.strip().split("/")
    if not parts or parts[0] not in ("CVSS:3.0", "CVSS:3.1"):
        return None
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        key, sep, value = part.partition(":")
        if not sep or key in metrics:
            return None
        metrics[key] = value
    scope = metrics.get("S")
    if scope not in _CVSS_PR:
        return None
    try:
        w = {key: table[metrics[key]] for key, table in _CVSS_WEIGHTS.items()}
        pr = _CVSS_PR[scope][metrics["PR"]]
    except KeyError:
        return None
    iss = 1 - (1 - w["C"]) * (1 - w["I"]) * (1 - w["A"])
    changed = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    impact = 6.42 * iss if scope == "U" else changed
    exploitability = 8.22 * w["AV"] * w["AC"] * pr * w["UI"]
    if impact <= 0:
        return 0.0
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return _round_up(min(total, 10.0))


def severity_of_score(score: float) -> Severity | None:
    """CVSS's qualitative rating of a base score; ``None`` for 0.0 (none)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return None


# -- records ---------------------------------------------------------------------------


def _in_range(version: Version, events: tuple[Event, ...]) -> bool:
    affected = False
    for event in events:  # sorted by version when the record was read
        if event.kind == "introduced":
            if event.version is None or version >= event.version:
                affected = True
        elif event.version is not None and (
            version > event.version or (event.kind == "fixed" and version == event.version)
        ):
            affected = False  # fixed from its version on, last_affected after its version
    return affected


def _version(text: object) -> Version | None:
    if not isinstance(text, str):
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _events(raw: object) -> tuple[Event, ...]:
    events: list[Event] = []
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict):
            continue
        for kind in ("introduced", "fixed", "last_affected"):
            if kind not in item:
                continue
            value = item[kind]
            if kind == "introduced" and value == "0":
                events.append(Event(kind, None))
            elif (version := _version(value)) is not None:
                events.append(Event(kind, version))
    # "introduced: 0" first; at one version, a fix closes before an introduction reopens.
    order = {"fixed": 0, "last_affected": 1, "introduced": 2}
    return tuple(
        sorted(
            events,
            key=lambda e: (e.version is not None, e.version or Version("0"), order[e.kind]),
        )
    )


def _affected(raw: object) -> Affected | None:
    if not isinstance(raw, dict):
        return None
    package = raw.get("package")
    if not isinstance(package, dict) or package.get("ecosystem") != ECOSYSTEM:
        return None
    name = package.get("name")
    if not isinstance(name, str) or not name:
        return None
    ranges = tuple(
        _events(r.get("events"))
        for r in raw.get("ranges") or ()
        if isinstance(r, dict) and r.get("type") == "ECOSYSTEM"
    )
    listed = raw.get("versions")
    versions = (
        frozenset(v for v in listed if isinstance(v, str))
        if isinstance(listed, list)
        else frozenset()
    )
    parsed = frozenset(p for v in versions if (p := _version(v)) is not None)
    return Affected(canonicalize_name(name), ranges, versions, parsed)


def _db_severity(raw: object) -> Severity | None:
    if isinstance(raw, dict):
        value = raw.get("severity")
        if isinstance(value, str):
            return _DB_SEVERITY.get(value.strip().lower())
    return None


def _cvss_severity(raw: object) -> Severity | None:
    worst: Severity | None = None
    for item in raw if isinstance(raw, list) else ():
        if not isinstance(item, dict) or not str(item.get("type", "")).startswith("CVSS_V3"):
            continue
        score = cvss3_base_score(str(item.get("score", "")))
        rated = severity_of_score(score) if score is not None else None
        if rated is not None and (worst is None or rated > worst):
            worst = rated
    return worst


def _severity(record: dict[str, object], affected: list[object]) -> Severity | None:
    found = _db_severity(record.get("database_specific"))
    for item in affected:
        if found is None and isinstance(item, dict):
            found = _db_severity(item.get("database_specific")) or _db_severity(
                item.get("ecosystem_specific")
            )
    if found is None:
        found = _cvss_severity(record.get("severity"))
    for item in affected:
        if found is None and isinstance(item, dict):
            found = _cvss_severity(item.get("severity"))
    return found


def _summary(record: dict[str, object]) -> str:
    for key in ("summary", "details"):
        value = record.get(key)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= 300 else text[:297].rsplit(" ", 1)[0] + "..."
    return ""


def _published(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def parse_advisory(data: object, where: str = "record") -> Advisory | Rejected:
    """An :class:`Advisory` from decoded OSV JSON, or why it cannot be used; never raises."""
    if not isinstance(data, dict):
        return Rejected(where, "not a JSON object")
    vid = data.get("id")
    if not isinstance(vid, str) or not vid.strip():
        return Rejected(where, "no id")
    schema = _version(data.get("schema_version", "1.0.0"))
    if schema is not None and schema.major != 1:
        return Rejected(where, f"{vid}: OSV schema {schema} is not supported")
    raw_affected = data.get("affected")
    affected_list: list[object] = raw_affected if isinstance(raw_affected, list) else []
    affected = tuple(a for a in map(_affected, affected_list) if a is not None)
    raw_aliases = data.get("aliases")
    aliases = tuple(
        a for a in (raw_aliases if isinstance(raw_aliases, list) else ()) if isinstance(a, str)
    )
    return Advisory(
        id=vid.strip(),
        aliases=tuple(dict.fromkeys(a for a in aliases if a != vid)),
        summary=_summary(data),
        severity=_severity(data, affected_list),
        published=_published(data.get("published")),
        affected=affected,
        withdrawn=data.get("withdrawn") is not None,
    )


# -- a local export ---------------------------------------------------------------------


@record(frozen=False, slots=False)
class OsvDatabase:
    """The advisories of a local OSV export, indexed by canonical package name."""

    by_name: dict[str, list[Advisory]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    withdrawn: int = 0
    records: int = 0

    def add(self, item: Advisory | Rejected) -> None:
        """Index one parsed record (withdrawn ones are counted, not indexed)."""
        self.records += 1
        if isinstance(item, Rejected):
            self.rejected.append(item)
        elif item.withdrawn:
            self.withdrawn += 1
        else:
            for name in dict.fromkeys(a.name for a in item.affected):
                self.by_name.setdefault(name, []).append(item)

    def matching(self, name: str, version: Version) -> list[Advisory]:
        """Every advisory that affects ``name`` at ``version``."""
        canonical = canonicalize_name(name)
        return [a for a in self.by_name.get(canonical, ()) if a.affects(canonical, version)]

    @classmethod
    def from_records(cls, records: Iterable[object]) -> OsvDatabase:
        """A database of already decoded records (tests, and the online service)."""
        db = cls()
        for i, raw in enumerate(records):
            db.add(parse_advisory(raw, f"record {i}"))
        return db

    @classmethod
    def load(cls, path: Path) -> OsvDatabase:
        """Read an export: a folder of ``*.json``, a ``.zip`` of them, or one JSON file.

        Raises :class:`ConfigError` when ``path`` cannot be opened as any of these.
        """
        db = cls()
        try:
            if path.is_dir():
                entries: Iterator[tuple[str, bytes | str]] = _folder(path)
            elif zipfile.is_zipfile(path):
                entries = _zip(path)
            elif path.is_file():
                entries = iter([(path.name, _read_capped(path))])
            else:
                raise ConfigError(f"OSV export {path}: no such file or folder")
            for where, data in entries:
                if db.records >= MAX_RECORDS:
                    raise ConfigError(f"OSV export {path}: more than {MAX_RECORDS} records")
                for item in _decode(where, data):
                    db.add(item)
        except (OSError, zipfile.BadZipFile) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            raise ConfigError(f"OSV export {path}: cannot read: {reason}") from exc
        return db


def _read_capped(path: Path) -> bytes | str:
    with path.open("rb") as fh:
        data = fh.read(MAX_RECORD_BYTES + 1)
    return _TOO_BIG if len(data) > MAX_RECORD_BYTES else data


_TOO_BIG = f"larger than {MAX_RECORD_BYTES >> 20} MiB"


def _folder(root: Path) -> Iterator[tuple[str, bytes | str]]:
    for directory, dirs, files in os.walk(root):  # symbolic links to folders not followed
        dirs.sort()
        for name in sorted(files):
            if name.lower().endswith(".json"):
                path = Path(directory, name)
                yield path.relative_to(root).as_posix(), _read_capped(path)


def _zip(path: Path) -> Iterator[tuple[str, bytes | str]]:
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.is_dir() or not info.filename.lower().endswith(".json"):
                continue
            if info.file_size > MAX_RECORD_BYTES:
                yield info.filename, _TOO_BIG
                continue
            try:
                with zf.open(info) as fh:
                    data = fh.read(MAX_RECORD_BYTES + 1)
            # A damaged, encrypted or exotically compressed member costs that record only.
            except (
                zipfile.BadZipFile,
                zlib.error,
                EOFError,
                NotImplementedError,
                RuntimeError,
            ) as exc:
                yield info.filename, f"cannot be read from the zip: {exc}"
                continue
            yield info.filename, _TOO_BIG if len(data) > MAX_RECORD_BYTES else data


def _decode(where: str, data: bytes | str) -> list[Advisory | Rejected]:
    if isinstance(data, str):
        return [Rejected(where, data)]
    try:
        decoded = json.loads(data)
    except (ValueError, RecursionError) as exc:
        return [Rejected(where, f"not JSON: {exc}")]
    if isinstance(decoded, list):
        return [parse_advisory(r, f"{where}[{i}]") for i, r in enumerate(decoded)]
    return [parse_advisory(decoded, where)]
