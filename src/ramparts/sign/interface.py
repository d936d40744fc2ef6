"""Value types, protocols and errors of the ``sign`` layer.

A model (a file or a directory) is hashed into a :class:`Manifest`: one
:class:`Resource` per file (``files``) or per fixed-size byte range of each file
(``shards``), with the :class:`Serialization` parameters that produced it, as the
OpenSSF Model Signing v1.0 predicate records them. A :class:`Signer` signs the
manifest's in-toto statement; a :class:`Verifier` checks a signature and returns the
statement it covers.

Errors::

    RampartsError
    └── SignError              a key, signature file or model cannot be used
        └── VerificationError  the model does not match its signature (names each problem)
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, TypeVar

from ramparts.core.records import field, record
from ramparts.errors import RampartsError

if TYPE_CHECKING:
    from ramparts.sign.bundle import Bundle

__all__ = [
    "DEFAULT_IGNORES",
    "DEFAULT_SHARD_SIZE",
    "HASH_TYPES",
    "Difference",
    "DifferenceKind",
    "Manifest",
    "Resource",
    "Serialization",
    "SignError",
    "Signer",
    "VerificationError",
    "Verifier",
    "paired",
]

T = TypeVar("T")

HASH_TYPES = ("sha256", "blake2b", "blake3")
"""Hash algorithms of the OpenSSF Model Signing algorithm registry that ramparts computes."""

DEFAULT_SHARD_SIZE = 1_000_000_000
"""The specification's default shard size in bytes."""

DEFAULT_IGNORES = (".git", ".gitattributes", ".github", ".gitignore")
"""Paths the specification leaves out of a manifest by default (and the signature file)."""


class SignError(RampartsError):
    """A key, a signature file or the model itself cannot be used."""


class DifferenceKind(enum.Enum):
    """How a file on disk departs from the signed manifest."""

    CHANGED = "changed"
    MISSING = "missing"
    EXTRA = "extra"


@record
class Difference:
    """One file (or shard) that does not match the signed manifest."""

    kind: DifferenceKind
    name: str
    expected: str | None = None
    actual: str | None = None

    def __str__(self) -> str:
        if self.kind is DifferenceKind.CHANGED:
            return f"{self.name}: content changed (signed {self.expected}, found {self.actual})"
        if self.kind is DifferenceKind.MISSING:
            return f"{self.name}: signed but missing"
        return f"{self.name}: present but not signed"


class VerificationError(SignError):
    """The model does not match its signature, or the signature does not verify.

    ``differences`` names every changed, missing and extra file; ``reason`` says what
    failed when the signature itself is at fault.
    """

    def __init__(
        self, reason: str, differences: Sequence[Difference] = (), *, rule: str = "signature"
    ) -> None:
        self.reason = reason
        self.differences = tuple(differences)
        self.rule = rule
        detail = "; ".join(str(d) for d in self.differences[:3])
        more = len(self.differences) - 3
        if more > 0:
            detail += f"; and {more} more"
        super().__init__(f"{reason}: {detail}" if detail else reason)


@record
class Serialization:
    """How a model was hashed: the ``serialization`` object of the predicate."""

    method: str = "files"
    hash_type: str = "sha256"
    allow_symlinks: bool = False
    shard_size: int | None = None
    ignore_paths: tuple[str, ...] = DEFAULT_IGNORES

    def __post_init__(self) -> None:
        if self.method not in ("files", "shards"):
            raise SignError(f"unknown serialization method {self.method!r} (files or shards)")
        if self.hash_type not in HASH_TYPES:
            raise SignError(f"unsupported hash {self.hash_type!r} (one of {', '.join(HASH_TYPES)})")
        if self.method == "shards":
            if self.shard_size is None:
                object.__setattr__(self, "shard_size", DEFAULT_SHARD_SIZE)
            elif self.shard_size <= 0:
                raise SignError(f"shard size must be positive, got {self.shard_size}")
        elif self.shard_size is not None:
            raise SignError("a shard size applies only to the 'shards' method")

    @property
    def algorithm(self) -> str:
        """The ``algorithm`` each resource records (``sha256-sharded-N`` for shards)."""
        if self.method == "shards":
            return f"{self.hash_type}-sharded-{self.shard_size}"
        return self.hash_type

    def with_ignores(self, extra: Iterable[str]) -> Serialization:
        """The same parameters, ignoring ``extra`` paths as well."""
        paths = tuple(dict.fromkeys((*self.ignore_paths, *extra)))
        return Serialization(
            self.method, self.hash_type, self.allow_symlinks, self.shard_size, paths
        )


@record
class Resource:
    """One hashed file or shard: ``name`` is a ``/``-separated path (``path:start:end``)."""

    name: str
    algorithm: str
    digest: str


@record
class Manifest:
    """Everything a signature covers: the model's name, its resources and how they were made.

    Resources keep the order they are given in: the subject digest is computed over
    them in that order, as verifiers do over a signed statement. Hashing lists them by
    path, then by shard start (numerically).
    """

    model_name: str
    serialization: Serialization
    resources: tuple[Resource, ...] = field(default=())

    def __post_init__(self) -> None:
        names = {r.name for r in self.resources}
        if len(names) != len(self.resources):
            raise SignError("the manifest names a resource twice")

    @property
    def root_digest(self) -> str:
        """SHA-256 over the raw resource digests in order: the statement's subject digest."""
        h = hashlib.sha256()
        for resource in self.resources:
            h.update(bytes.fromhex(resource.digest))
        return h.hexdigest()

    def compare(self, actual: Manifest) -> tuple[Difference, ...]:
        """Every resource of ``actual`` that differs from this (the signed) manifest."""
        mine = {r.name: r for r in self.resources}
        theirs = {r.name: r for r in actual.resources}
        out: list[Difference] = []
        for name, want, got in paired(mine, theirs):
            if got is None:
                out.append(
                    Difference(DifferenceKind.MISSING, name, expected=want.digest if want else None)
                )
            elif want is None:
                out.append(Difference(DifferenceKind.EXTRA, name, actual=got.digest))
            elif (want.algorithm, want.digest) != (got.algorithm, got.digest):
                out.append(
                    Difference(
                        DifferenceKind.CHANGED,
                        name,
                        expected=f"{want.algorithm}:{want.digest}",
                        actual=f"{got.algorithm}:{got.digest}",
                    )
                )
        return tuple(out)


def paired(old: Mapping[str, T], new: Mapping[str, T]) -> Iterator[tuple[str, T | None, T | None]]:
    """Every name of ``old`` or ``new`` in order, with its entry on each side (None if absent)."""
    for name in sorted(old.keys() | new.keys()):
        yield name, old.get(name), new.get(name)


class Signer(Protocol):
    """Signs a DSSE pre-authentication encoding and describes how to check it."""

    def sign(self, message: bytes) -> bytes:
        """The raw signature over ``message``."""
        ...

    def verification_material(self) -> dict[str, object]:
        """The Sigstore bundle's ``verificationMaterial`` for this signer."""
        ...


class Verifier(Protocol):
    """Checks a signature bundle; raises :class:`VerificationError` if it does not verify."""

    def verify_bundle(self, bundle: Bundle) -> bytes:
        """The signed payload, returned only when the bundle verifies and is trusted."""
        ...
