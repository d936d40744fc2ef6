"""The file walk: every regular file under a root, honouring .gitignore and excludes.

- ``.git`` directories are never entered.
- ``.gitignore`` files apply to their directory and below, as git applies them
  (negations and directory patterns included, via ``pathspec.GitIgnoreSpec``).
- Symbolic links are not followed out of the root: a link whose target lies outside
  is reported as a skip, and linked directories are not entered (no cycles).
- Files above ``max_file_bytes`` are skipped with the reason, never dropped silently.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from ramparts.core.records import record
from ramparts.core.settings import ScanSettings
from ramparts.core.types import Skip
from ramparts.errors import InputError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import Any

__all__ = ["FileEntry", "walk"]


@record
class FileEntry:
    """A regular file found by the walk."""

    path: Path
    rel: str
    size: int


@record
class _Rules:
    base: str
    spec: Any  # pathspec.GitIgnoreSpec


def _spec(lines: list[str]) -> Any:
    # Imported on the first .gitignore or exclude: a lone model file needs no matcher.
    import pathspec  # noqa: PLC0415

    return pathspec.GitIgnoreSpec.from_lines(lines)


def _ignored(rel: str, is_dir: bool, rules: tuple[_Rules, ...]) -> bool:
    verdict = False
    for rule in rules:
        sub = rel[len(rule.base) + 1 :] if rule.base else rel
        candidate = sub + "/" if is_dir else sub
        result = rule.spec.check_file(candidate)
        if result.include is not None:
            verdict = result.include
    return verdict


def _read_gitignore(directory: Path) -> list[str]:
    try:
        return (directory / ".gitignore").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []


def walk(root: Path, settings: ScanSettings) -> Iterator[FileEntry | Skip]:
    """Yield every file to scan under ``root`` (or ``root`` itself if it is a file).

    Raises :class:`InputError` when ``root`` does not exist or cannot be read.
    """
    try:
        st = root.stat()
    except OSError as exc:
        raise InputError(f"cannot read {root}: {exc.strerror or exc}") from exc
    if stat.S_ISREG(st.st_mode):
        yield from _file(root, root.name, settings)
        return
    if not stat.S_ISDIR(st.st_mode):
        raise InputError(f"{root} is neither a file nor a directory")
    real_root = root.resolve()
    rules: tuple[_Rules, ...] = ()
    if settings.exclude:
        rules = (_Rules("", _spec(list(settings.exclude))),)
    yield from _dir(root, "", real_root, rules, settings)


def _file(path: Path, rel: str, settings: ScanSettings) -> Iterator[FileEntry | Skip]:
    try:
        size = path.stat().st_size
    except OSError as exc:
        yield Skip(rel, f"cannot stat: {exc.strerror or exc}")
        return
    if size > settings.max_file_bytes:
        yield Skip(rel, f"larger than max_file_bytes ({size} > {settings.max_file_bytes})")
        return
    yield FileEntry(path, rel, size)


def _dir(
    directory: Path,
    rel_dir: str,
    real_root: Path,
    rules: tuple[_Rules, ...],
    settings: ScanSettings,
) -> Iterator[FileEntry | Skip]:
    if settings.respect_gitignore:
        lines = _read_gitignore(directory)
        if lines:
            rules = (*rules, _Rules(rel_dir, _spec(lines)))
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as exc:
        yield Skip(rel_dir or ".", f"cannot list directory: {exc.strerror or exc}")
        return
    for entry in entries:
        rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
        if entry.name == ".git":
            continue
        if entry.is_symlink():
            yield from _symlink(Path(entry.path), rel, real_root, rules, settings)
            continue
        if entry.is_dir(follow_symlinks=False):
            if not _ignored(rel, True, rules):
                yield from _dir(Path(entry.path), rel, real_root, rules, settings)
        elif entry.is_file(follow_symlinks=False):
            if not _ignored(rel, False, rules):
                yield from _file(Path(entry.path), rel, settings)
        else:
            yield Skip(rel, "not a regular file")


def _symlink(
    path: Path,
    rel: str,
    real_root: Path,
    rules: tuple[_Rules, ...],
    settings: ScanSettings,
) -> Iterator[FileEntry | Skip]:
    if _ignored(rel, False, rules):
        return
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):
        yield Skip(rel, "broken or looping symbolic link")
        return
    if not target.is_relative_to(real_root):
        yield Skip(rel, "symbolic link leaves the scan root; not followed")
    elif target.is_dir():
        yield Skip(rel, "symbolic link to a directory; not followed (its target is walked)")
    elif target.is_file():
        yield from _file(target, rel, settings)
    else:
        yield Skip(rel, "symbolic link to something other than a file")
