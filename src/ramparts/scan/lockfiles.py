"""Python dependency manifests and lock files, read offline without pip.

Each reader takes the text of one file and returns a :class:`Manifest`: every
dependency it declares (:class:`Declared`, with the exact version when one is pinned
and the 1-based line where it is written) and every entry that cannot be audited
(:class:`Unreadable`, with the reason). Readers never resolve, download or execute
anything, and never raise for a malformed file: garbage becomes ``Unreadable`` data.

- ``requirements``: ``requirements*.txt``, ``*requirements.txt``, ``requirements/*.txt``;
  pinned means ``==`` or ``===`` without a wildcard.
- ``pyproject``: ``pyproject.toml``'s PEP 621 dependencies and extras, PEP 735 groups
  and Poetry's tables; pinned as above, or Poetry's bare ``1.2.3``.
- ``poetry.lock``, ``uv.lock``, ``Pipfile.lock``, ``pylock`` (PEP 751): every entry
  installed from an index has its version.

``-r``/``--requirement`` includes are followed through an :data:`IncludeReader`
given by the caller, which decides what may be read (the scanner: files inside the
scanned folder only).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ramparts.core.records import record, replace

__all__ = [
    "LOCK_FILE_NAMES",
    "Declared",
    "IncludeReader",
    "Included",
    "Manifest",
    "Unreadable",
    "manifest_kind",
    "parse_manifest",
]

LOCK_FILE_NAMES = ("uv.lock", "poetry.lock", "pylock.toml")
"""Lock files that resolve a ``pyproject.toml`` in the same folder."""

MAX_INCLUDE_DEPTH = 8
"""``-r`` files nested deeper than this are not followed (and say so)."""

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_COMMENT = re.compile(r"(^|\s)#.*$")
# Options written after a requirement on its line: --hash, --config-settings, ...
_TRAILING_OPTIONS = re.compile(r"\s--?[A-Za-z].*$")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=\s*|\s+|(?<=-r))(\S+)$")
_EDITABLE = re.compile(r"^(?:-e|--editable)(?:\s*=\s*|\s+)")
_POETRY_EXACT = re.compile(r"^\s*(?:==?)?\s*([0-9][0-9A-Za-z.+!_-]*)\s*$")
_REMOTE = ("http://", "https://", "ftp://", "file:")
_QUOTED = re.compile(r"([\"'])(.*?)\1")


@record
class Declared:
    """One dependency as a manifest declares it.

    ``version`` is the exact PEP 440 version when the entry pins one (every lock-file
    entry does), else ``None``: a range that cannot be audited exactly. ``path`` is the
    file that declares it ('/'-separated, relative to the scan root), which differs
    from the manifest's own path for entries of a ``-r`` include.
    """

    name: str
    version: str | None
    spec: str
    path: str
    line: int | None
    hashes: tuple[str, ...] = ()
    """Archive digests the file records (``sha256:HEX``), from locks and ``--hash``."""

    @property
    def canonical_name(self) -> str:
        """The PEP 503 normalised name, as vulnerability databases key packages."""
        return str(canonicalize_name(self.name))


@record
class Unreadable:
    """An entry (or a whole file) that cannot be audited, and why."""

    path: str
    line: int | None
    reason: str


@record
class Manifest:
    """What one manifest or lock file declares."""

    kind: str
    path: str
    dependencies: tuple[Declared, ...] = ()
    unreadable: tuple[Unreadable, ...] = ()

    @property
    def locked(self) -> bool:
        """Whether entries are resolved versions (a lock file), not declarations."""
        return self.kind not in ("requirements", "pyproject")


@record
class Included:
    """A ``-r`` file that the include reader agreed to read."""

    path: str
    text: str


IncludeReader = Callable[[str, str], "Included | str"]
"""``reader(reference, from_path)``: the included file, or the reason it is not read."""


def manifest_kind(path: str) -> str | None:
    """The kind of manifest ``path`` names ('/'-separated), or ``None`` for other files."""
    pure = PurePosixPath(path)
    name = pure.name.lower()
    if name.endswith(".txt") and (
        name.startswith("requirements")
        or name.endswith("requirements.txt")
        or pure.parent.name.lower() == "requirements"
    ):
        return "requirements"
    if name == "pyproject.toml":
        return "pyproject"
    if name in ("poetry.lock", "uv.lock"):
        return name
    if name == "pipfile.lock":
        return "Pipfile.lock"
    if name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml")):
        return "pylock"
    return None


def parse_manifest(
    kind: str, text: str, path: str, *, includes: IncludeReader | None = None
) -> Manifest:
    """Read ``text`` (the file at ``path``) as a manifest of ``kind``; never raises."""
    if kind == "requirements":
        return _Requirements(includes).read(text, path)
    reader = _READERS.get(kind)
    if reader is None:
        return Manifest(kind, path, unreadable=(Unreadable(path, None, f"unknown kind {kind}"),))
    try:
        data = json.loads(text) if kind == "Pipfile.lock" else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        what = "JSON" if kind == "Pipfile.lock" else "TOML"
        return Manifest(kind, path, unreadable=(Unreadable(path, None, f"invalid {what}: {exc}"),))
    return parse_data(kind, data, text, path)


def parse_data(kind: str, data: object, text: str, path: str) -> Manifest:
    """Read already decoded ``data`` of a TOML or JSON manifest; ``text`` gives lines."""
    reader = _READERS[kind]
    found = _Found(path, _Lines(text))
    if isinstance(data, dict):
        reader(data, found)
    else:
        found.bad(None, "the file does not hold a table")
    return Manifest(kind, path, tuple(found.deps), tuple(found.unreadable))


# -- shared helpers ---------------------------------------------------------------------


class _Lines:
    """Line lookup in a file's text: readers of TOML and JSON know no positions."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self._strings: dict[str, list[int]] | None = None

    def string(self, value: str, start: int = 0) -> int | None:
        """The 1-based line of the quoted string ``value``, first from ``start`` (0-based)."""
        if self._strings is None:  # one pass, however many strings are looked up
            self._strings = {}
            for number, line in enumerate(self.lines, start=1):
                for match in _QUOTED.finditer(line):
                    self._strings.setdefault(match.group(2), []).append(number)
        found = self._strings.get(value, ())
        return next((n for n in found if n > start), found[0] if found else None)

    def find(self, pattern: re.Pattern[str], start: int = 0) -> int | None:
        """The 1-based number of the first line from ``start`` (0-based) matching."""
        for i in range(max(start, 0), len(self.lines)):
            if pattern.search(self.lines[i]):
                return i + 1
        return None

    def headers(self, header: str) -> list[int]:
        """0-based indexes of every line that is exactly the array-of-tables ``header``."""
        return [i for i, line in enumerate(self.lines) if line.strip() == header]

    def key_in_block(self, start: int, key: str) -> int | None:
        """The line of ``key = ...`` in the table starting at ``start``, before the next."""
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        for i in range(start + 1, len(self.lines)):
            stripped = self.lines[i].lstrip()
            if stripped.startswith("["):
                return None
            if pattern.match(self.lines[i]):
                return i + 1
        return None


class _Found:
    """What a reader collects, with the file's path and lines."""

    def __init__(self, path: str, lines: _Lines) -> None:
        self.path = path
        self.lines = lines
        self.deps: list[Declared] = []
        self.unreadable: list[Unreadable] = []

    def bad(self, line: int | None, reason: str) -> None:
        self.unreadable.append(Unreadable(self.path, line, reason))

    def pinned(self, name: object, version: object, line: int | None, hashes: object = ()) -> None:
        """A resolved entry of a lock file: its name and version must be valid."""
        if not isinstance(name, str) or not _NAME.match(name):
            self.bad(line, f"entry without a valid package name: {_brief(name)}")
            return
        if not isinstance(version, str) or not version:
            self.bad(line, f"{name}: no version; cannot be audited")
            return
        if not _is_version(version):
            self.bad(line, f"{name}: version {_brief(version)} is not a PEP 440 version")
            return
        self.deps.append(
            Declared(name, version, f"{name}=={version}", self.path, line, _hashes(hashes))
        )

    def requirement(self, text: object, line: int | None) -> None:
        """A PEP 508 string of ``pyproject.toml``."""
        if not isinstance(text, str):
            self.bad(line, f"dependency that is not a string: {_brief(text)}")
            return
        dep = _requirement(text, self.path, line)
        if isinstance(dep, Unreadable):
            self.unreadable.append(dep)
        else:
            self.deps.append(dep)


_HASH = re.compile(r"(sha256|sha384|sha512):([0-9a-fA-F]{64,128})")
_HASH_OPTION = re.compile(r"--hash[=\s]+(\S+)")


def _hashes(values: object) -> tuple[str, ...]:
    """Well-formed ``alg:hex`` digests among ``values`` (strings, or ``{alg: hex}`` maps)."""
    items = values if isinstance(values, list | tuple) else [values]
    out: list[str] = []
    for item in items:
        pairs = item.items() if isinstance(item, dict) else [(None, item)]
        for alg, value in pairs:
            text = f"{alg}:{value}" if alg is not None else value
            match = _HASH.fullmatch(text) if isinstance(text, str) else None
            if match:
                out.append(f"{match.group(1)}:{match.group(2).lower()}")
    return tuple(dict.fromkeys(out))


def _brief(value: object) -> str:
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:77] + "..."


def _is_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def _pin_of(req: Requirement) -> str | None:
    """The exact version a requirement allows, if ``==``/``===`` fixes one."""
    for spec in req.specifier:
        if spec.operator in ("==", "===") and "*" not in spec.version and _is_version(spec.version):
            return spec.version
    return None


def _requirement(text: str, path: str, line: int | None) -> Declared | Unreadable:
    """A PEP 508 requirement string as :class:`Declared`, or why it cannot be audited."""
    stripped = text.strip()
    try:
        req = Requirement(stripped)
    except InvalidRequirement as exc:
        if stripped.startswith((".", "/", "~", "git+")) or "://" in stripped:
            return Unreadable(path, line, f"{_brief(stripped)}: a path or URL, not on an index")
        first = str(exc).splitlines()[0] if str(exc) else "invalid"
        return Unreadable(path, line, f"{_brief(stripped)}: not a requirement ({first})")
    if req.url:
        return Unreadable(path, line, f"{req.name}: installed from {_brief(req.url)}, not an index")
    return Declared(req.name, _pin_of(req), stripped, path, line)


# -- requirements files -----------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, text) of each logical line: continuations joined, comments cut."""
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = _COMMENT.sub("", raw)
        if line.endswith("\\"):
            pending.append(line[:-1])
            continue
        pending.append(line)
        joined = " ".join(part.strip() for part in pending).strip()
        pending = []
        if joined:
            yield start, joined
    if pending:
        joined = " ".join(part.strip() for part in pending).strip()
        if joined:
            yield start, joined


class _Requirements:
    """pip's requirements-file format, as far as it names packages and versions."""

    def __init__(self, includes: IncludeReader | None) -> None:
        self._includes = includes
        self._seen: set[str] = set()
        self._deps: list[Declared] = []
        self._unreadable: list[Unreadable] = []

    def read(self, text: str, path: str) -> Manifest:
        self._file(text, path, 0)
        return Manifest("requirements", path, tuple(self._deps), tuple(self._unreadable))

    def _file(self, text: str, path: str, depth: int) -> None:
        self._seen.add(path)
        for number, line in _logical_lines(text):
            if line.startswith("-"):
                self._option(line, path, number, depth)
                continue
            entry = _TRAILING_OPTIONS.sub("", line)
            dep = _requirement(entry, path, number)
            if isinstance(dep, Unreadable):
                self._unreadable.append(dep)
            else:
                digests = _hashes(_HASH_OPTION.findall(line))
                self._deps.append(replace(dep, hashes=digests) if digests else dep)

    def _option(self, line: str, path: str, number: int, depth: int) -> None:
        include = _INCLUDE.match(line)
        if include is not None:
            self._include(include.group(1), path, number, depth)
        elif _EDITABLE.match(line):
            target = _brief(_EDITABLE.sub("", line))
            self._unreadable.append(
                Unreadable(path, number, f"editable requirement {target} cannot be audited")
            )
        # Other options (-c constraints, --index-url, --hash, ...) install nothing.

    def _include(self, ref: str, path: str, number: int, depth: int) -> None:
        def skip(reason: str) -> None:
            self._unreadable.append(Unreadable(path, number, f"-r {_brief(ref)}: {reason}"))

        if ref.lower().startswith(_REMOTE):
            skip("remote requirement files are not fetched")
        elif depth >= MAX_INCLUDE_DEPTH:
            skip(f"included more than {MAX_INCLUDE_DEPTH} files deep")
        elif self._includes is None:
            skip("included files are not read here")
        else:
            got = self._includes(ref, path)
            if isinstance(got, str):
                skip(got)
            elif got.path not in self._seen:  # an include cycle is read once
                self._file(got.text, got.path, depth + 1)


# -- pyproject.toml ---------------------------------------------------------------------


def _section(lines: _Lines, header: str) -> int | None:
    """0-based index of the line ``[header]``, if the file writes that header."""
    dotted = r"\s*\.\s*".join(map(re.escape, header.split(".")))
    found = lines.find(re.compile(r"^\s*\[\s*" + dotted + r"\s*\]"))
    return found - 1 if found is not None else None


def _pep508_list(values: object, found: _Found, start: int, where: str) -> None:
    if not isinstance(values, list):
        found.bad(None, f"{where} is not a list")
        return
    for value in values:
        if isinstance(value, dict):
            continue  # a PEP 735 {include-group = "..."} names another group of this file
        line = found.lines.string(value, start) if isinstance(value, str) else None
        found.requirement(value, line)


def _pyproject(data: Mapping[str, Any], found: _Found) -> None:
    project = data.get("project")
    if isinstance(project, dict):
        start = _section(found.lines, "project") or 0
        if "dependencies" in project:
            _pep508_list(project["dependencies"], found, start, "project.dependencies")
        extras = project.get("optional-dependencies")
        if isinstance(extras, dict):
            table = _section(found.lines, "project.optional-dependencies")
            start = table if table is not None else start
            for extra, values in extras.items():
                _pep508_list(values, found, start, f"project.optional-dependencies.{extra}")
    groups = data.get("dependency-groups")
    if isinstance(groups, dict):
        start = _section(found.lines, "dependency-groups") or 0
        for group, values in groups.items():
            _pep508_list(values, found, start, f"dependency-groups.{group}")
    tool = data.get("tool")
    poetry = tool.get("poetry") if isinstance(tool, dict) else None
    if isinstance(poetry, dict):
        _poetry_tables(poetry, found)


def _poetry_tables(poetry: Mapping[str, Any], found: _Found) -> None:
    tables: list[tuple[str, object]] = [
        ("tool.poetry.dependencies", poetry.get("dependencies")),
        ("tool.poetry.dev-dependencies", poetry.get("dev-dependencies")),
    ]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        for name, group in groups.items():
            if isinstance(group, dict):
                tables.append((f"tool.poetry.group.{name}.dependencies", group.get("dependencies")))
    for header, table in tables:
        if isinstance(table, dict):
            start = _section(found.lines, header) or 0
            for name, spec in table.items():
                if str(name).lower() != "python":
                    _poetry_entry(str(name), spec, found, start)


def _poetry_entry(name: str, spec: object, found: _Found, start: int) -> None:
    key = re.compile(r"^\s*[\"']?" + re.escape(name) + r"[\"']?\s*=")
    line = found.lines.find(key, start)
    if not _NAME.match(name):
        found.bad(line, f"entry without a valid package name: {_brief(name)}")
        return
    if isinstance(spec, dict):
        for source in ("git", "path", "url", "file"):
            if source in spec:
                found.bad(line, f"{name}: installed from a {source}, not an index")
                return
        spec = spec.get("version", "*")
    if not isinstance(spec, str):
        # A list of constraints (one per Python version or platform) pins nothing alone.
        found.deps.append(Declared(name, None, f"{name} (several constraints)", found.path, line))
        return
    exact = _POETRY_EXACT.match(spec)
    version = exact.group(1) if exact and _is_version(exact.group(1)) else None
    found.deps.append(Declared(name, version, f"{name} {spec.strip()}".strip(), found.path, line))


# -- lock files -------------------------------------------------------------------------


def _package_tables(
    data: Mapping[str, Any],
    key: str,
    found: _Found,
    read_entry: Callable[[Mapping[str, Any], _Found, int | None], None],
) -> None:
    """Read each ``[[key]]`` entry, located at its ``name`` line."""
    entries = data.get(key)
    if entries is None:
        return
    if not isinstance(entries, list):
        found.bad(None, f"'{key}' is not an array of tables")
        return
    # The n-th header is the n-th entry unless the file writes them inline.
    blocks = found.lines.headers(f"[[{key}]]")
    for index, entry in enumerate(entries):
        block = blocks[index] if len(blocks) == len(entries) else None
        line = found.lines.key_in_block(block, "name") if block is not None else None
        if isinstance(entry, dict):
            read_entry(entry, found, line)
        else:
            found.bad(line, f"a {key} entry that is not a table")


def _not_from_index(entry: Mapping[str, Any], kind: str) -> str:
    return f"{_brief(entry.get('name'))}: installed from a {kind}, not an index"


def _poetry_lock_entry(entry: Mapping[str, Any], found: _Found, line: int | None) -> None:
    source = entry.get("source")
    kind = source.get("type") if isinstance(source, dict) else None
    if kind in ("git", "directory", "file", "url"):
        found.bad(line, _not_from_index(entry, str(kind)))
        return
    files = entry.get("files")
    digests = (
        [f.get("hash") for f in files if isinstance(f, dict)] if isinstance(files, list) else []
    )
    found.pinned(entry.get("name"), entry.get("version"), line, digests)


def _archive_hashes(entry: Mapping[str, Any], key: str) -> list[object]:
    """``key`` of the entry's ``sdist`` and of each of its ``wheels`` (uv, pylock)."""
    archives = [entry.get("sdist")]
    wheels = entry.get("wheels")
    archives += wheels if isinstance(wheels, list) else []
    return [a.get(key) for a in archives if isinstance(a, dict)]


def _uv_lock_entry(entry: Mapping[str, Any], found: _Found, line: int | None) -> None:
    source = entry.get("source")
    if isinstance(source, dict):
        if "editable" in source or "virtual" in source:
            return  # the project itself (or a member of its workspace)
        for kind in ("git", "path", "directory", "url"):
            if kind in source:
                found.bad(line, _not_from_index(entry, kind))
                return
    found.pinned(entry.get("name"), entry.get("version"), line, _archive_hashes(entry, "hash"))


def _pylock_entry(entry: Mapping[str, Any], found: _Found, line: int | None) -> None:
    for kind in ("vcs", "directory"):
        if kind in entry:
            found.bad(line, _not_from_index(entry, kind))
            return
    found.pinned(entry.get("name"), entry.get("version"), line, _archive_hashes(entry, "hashes"))


def _poetry_lock(data: Mapping[str, Any], found: _Found) -> None:
    _package_tables(data, "package", found, _poetry_lock_entry)


def _uv_lock(data: Mapping[str, Any], found: _Found) -> None:
    _package_tables(data, "package", found, _uv_lock_entry)


def _pylock(data: Mapping[str, Any], found: _Found) -> None:
    _package_tables(data, "packages", found, _pylock_entry)


_JSON_KEY = re.compile(r'^\s*"((?:[^"\\]|\\.)*)"\s*:')


def _pipfile_lock(data: Mapping[str, Any], found: _Found) -> None:
    # Where each JSON key is written, in one pass: a lock of thousands of packages
    # must not be searched once per package.
    keys: dict[str, list[int]] = {}
    for number, text in enumerate(found.lines.lines, start=1):
        match = _JSON_KEY.match(text)
        if match:
            keys.setdefault(match.group(1), []).append(number)

    def line_of(key: str, after: int) -> int | None:
        return next((n for n in keys.get(key, ()) if n > after), None)

    for section in ("default", "develop"):
        entries = data.get(section)
        if entries is None:
            continue
        if not isinstance(entries, dict):
            found.bad(None, f"'{section}' is not an object")
            continue
        start = line_of(section, 0) or 0
        for name, entry in entries.items():
            line = line_of(str(name), start)
            if not isinstance(entry, dict):
                found.bad(line, f"{_brief(name)}: entry that is not an object")
                continue
            kinds = [k for k in ("git", "path", "file", "editable") if k in entry]
            if kinds:
                found.bad(line, f"{_brief(name)}: installed from a {kinds[0]}, not an index")
                continue
            version = entry.get("version")
            if isinstance(version, str) and version.startswith("=="):
                version = version[2:].strip()
            found.pinned(name, version, line, entry.get("hashes", ()))


_READERS: dict[str, Callable[[Mapping[str, Any], _Found], None]] = {
    "pyproject": _pyproject,
    "poetry.lock": _poetry_lock,
    "uv.lock": _uv_lock,
    "Pipfile.lock": _pipfile_lock,
    "pylock": _pylock,
}
