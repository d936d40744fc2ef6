"""Which scanners exist: built-ins as an explicit mapping, others through entry points.

Built-in scanners are imported only when a run needs them, so ``ramparts --help`` and
small commands stay fast. Third-party packages add scanners under the entry-point
group ``ramparts.scanners``; each entry point names a :class:`Scanner` subclass.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from ramparts.scan.interface import ScanError, Scanner

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "available", "load"]

ENTRY_POINT_GROUP = "ramparts.scanners"


def _models() -> Scanner:
    from ramparts.scan.models.scanner import ModelScanner  # noqa: PLC0415 (lazy by design)

    return ModelScanner()


def _secrets() -> Scanner:
    from ramparts.scan.secrets import SecretScanner  # noqa: PLC0415 (lazy by design)

    return SecretScanner()


def _pii() -> Scanner:
    from ramparts.scan.pii import PiiScanner  # noqa: PLC0415 (lazy by design)

    return PiiScanner()


def _pii_in_all() -> Scanner:
    # Among every scanner, personal data is looked for in data files only.
    from ramparts.scan.pii import PiiScanner  # noqa: PLC0415 (lazy by design)

    return PiiScanner(data_only=True)


def _deps() -> Scanner:
    # Asked for by name: the user wants the online answer unless settings say offline.
    from ramparts.scan.deps import DepsScanner  # noqa: PLC0415 (lazy by design)

    return DepsScanner(network=True)


def _deps_in_all() -> Scanner:
    # Among every scanner, nothing goes online: only a configured local OSV export.
    from ramparts.scan.deps import DepsScanner  # noqa: PLC0415 (lazy by design)

    return DepsScanner(network=False)


_IN_ALL: dict[str, Callable[[], Scanner]] = {"pii": _pii_in_all, "deps": _deps_in_all}
"""Factories that differ when a scanner runs with all the others."""


BUILTIN: dict[str, tuple[str, Callable[[], Scanner]]] = {
    "models": (
        "model files: pickle, PyTorch, joblib, NumPy, Keras, safetensors, GGUF (never loaded)",
        _models,
    ),
    "secrets": (
        "credentials in code, configs, notebooks and logs (redacted in reports)",
        _secrets,
    ),
    "pii": (
        "personal data in datasets, logs, notebooks and documents (typed, validated)",
        _pii,
    ),
    "deps": (
        "known vulnerabilities of pinned Python dependencies (requirements, lock files)",
        _deps,
    ),
}
"""Name -> (one-line description, factory) of every scanner shipped with ramparts."""


def _plugins() -> dict[str, Callable[[], Scanner]]:
    from importlib.metadata import entry_points  # noqa: PLC0415 - costs start-up time

    found: dict[str, Callable[[], Scanner]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN:
            continue  # a plugin may not replace a built-in scanner under its name

        found[ep.name] = functools.partial(_instantiate, ep)
    return found


def _instantiate(ep: EntryPoint) -> Scanner:
    cls = ep.load()
    if not (isinstance(cls, type) and issubclass(cls, Scanner)):
        raise ScanError(f"entry point {ep.value!r} does not name a Scanner subclass")
    scanner: Scanner = cls()
    return scanner


def available() -> dict[str, str]:
    """Every scanner name with its description (plugins described by their entry point)."""
    names = {name: desc for name, (desc, _) in BUILTIN.items()}
    names.update(dict.fromkeys(_plugins(), "plugin"))
    return names


def load(names: Iterable[str] | None = None) -> list[Scanner]:
    """Instantiate the named scanners (default: all); unknown names raise :class:`ScanError`."""
    wanted = list(names) if names is not None else None
    plugins = _plugins() if wanted is None or any(n not in BUILTIN for n in wanted) else {}
    if wanted is None:
        wanted = [*BUILTIN, *plugins]
    scanners: list[Scanner] = []
    everything = names is None
    for name in wanted:
        if everything and name in _IN_ALL:
            scanners.append(_IN_ALL[name]())
        elif name in BUILTIN:
            scanners.append(BUILTIN[name][1]())
        elif name in plugins:
            scanners.append(plugins[name]())
        else:
            raise ScanError(f"unknown scanner {name!r} (known: {', '.join(available())})")
    return scanners
