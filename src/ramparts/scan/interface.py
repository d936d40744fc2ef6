"""What a scanner is, and what it is handed.

A :class:`Scanner` gets one :class:`ScanItem` at a time: a file, or a member inside a
container that another scanner opened. It yields what it found: :class:`Finding`\\ s,
:class:`Skip`\\ s, and nested :class:`ScanItem`\\ s (archive members) that the runner
dispatches in turn, depth-first, while the container is still open.

Errors::

    RampartsError
    └── ScanError      a scanner or the walk is misconfigured; never raised for a bad file
        └── ScanAbortError  a service every file needs failed (a vulnerability database
                         is unreachable): the run stops with one line
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable
from pathlib import Path

from ramparts.core.records import field, record
from ramparts.core.settings import ScanSettings
from ramparts.core.types import Finding, Location, Skip
from ramparts.errors import RampartsError

TYPE_CHECKING = False  # not typing's: importing typing costs start-up time
if TYPE_CHECKING:
    from typing import IO, ClassVar

__all__ = [
    "HEAD_SIZE",
    "ScanAbortError",
    "ScanContext",
    "ScanError",
    "ScanItem",
    "ScanOutput",
    "Scanner",
]

HEAD_SIZE = 4096
"""Bytes of each item read up front for content sniffing (magic numbers, headers)."""


class ScanError(RampartsError):
    """A scanner or the file walk is misconfigured."""


class ScanAbortError(ScanError):
    """A service that every file needs has failed; the runner stops the run.

    Raised, for example, when the vulnerability database of the deps scanner cannot
    be reached: a report that went on without it would pass files it never checked.
    """


@record
class ScanItem:
    """A file, or a member inside a container, ready to be read.

    ``path`` is the outermost file relative to the scan root ('/' separated); ``member``
    is the path inside containers, outermost first. ``head`` holds the first
    :data:`HEAD_SIZE` bytes so that scanners decide by content, not by extension.
    """

    path: str
    size: int
    head: bytes
    opener: Callable[[], IO[bytes]] = field(repr=False, compare=False)
    member: tuple[str, ...] = ()
    source: Path | None = field(default=None, compare=False)
    """The file on disk for a plain file (engines that read it themselves, such as
    Spark, need its path); ``None`` for archive members."""

    @property
    def name(self) -> str:
        """The innermost name: the member's if any, else the file's."""
        inner = self.member[-1] if self.member else self.path
        return inner.rsplit("/", 1)[-1]

    @property
    def depth(self) -> int:
        """How many containers deep this item is (0 for a plain file)."""
        return len(self.member)

    def open(self) -> IO[bytes]:
        """A fresh binary stream positioned at the start of the item."""
        return self.opener()

    def location(
        self, *, line: int | None = None, column: int | None = None, offset: int | None = None
    ) -> Location:
        """A :class:`Location` inside this item."""
        return Location(self.path, line=line, column=column, member=self.member, offset=offset)

    def child(self, name: str, size: int, head: bytes, opener: Callable[[], IO[bytes]]) -> ScanItem:
        """A member of this item (an archive entry, an embedded file)."""
        return ScanItem(self.path, size, head, opener, (*self.member, name))


ScanOutput = Finding | Skip | ScanItem
"""What a scanner yields: a finding, a deliberate skip, or a nested item to scan."""


@record
class ScanContext:
    """What every scanner may consult: the limits and choices of this run."""

    settings: ScanSettings = field(default_factory=ScanSettings)


class Scanner(abc.ABC):
    """A static scanner: reads bytes, never executes them.

    Subclasses set :attr:`name` and implement :meth:`scan`; :meth:`accepts` defaults to
    every item and is overridden to sniff content. A scanner must not raise for a
    malformed input: it yields a finding or a skip that says what was wrong. Anything
    it raises anyway is caught by the runner and reported as an error of the run,
    except :class:`ScanAbortError`, which stops the run.
    """

    name: ClassVar[str]
    """Stable identifier, used in reports and in ``ramparts scan <name>``."""

    description: ClassVar[str] = ""
    """One line for ``--help`` and docs."""

    def prepare(self, ctx: ScanContext) -> None:
        """Check this run's settings before any file is read; raise ``ConfigError`` if bad.

        A mistake in a policy then stops the run at once with one line, instead of
        surfacing at the first matching file. The default has nothing to check.
        """
        return

    def accepts(self, item: ScanItem) -> bool:
        """Whether this scanner wants ``item`` (decided from ``item.head`` and name)."""
        return True

    @abc.abstractmethod
    def scan(self, item: ScanItem, ctx: ScanContext) -> Iterable[ScanOutput]:
        """Yield findings, skips and nested items for ``item``."""
