"""Sensitive-data recognition on text: what a detection is, and the layer's error.

The ``privacy`` layer finds credentials and personal data in text and redacts them.
It knows nothing of files: the ``scan`` layer decodes files (notebooks, configs,
tables) into text and maps detections back to lines and cells.

Errors::

    RampartsError
    └── PrivacyError     a recognizer or redaction setting is unusable
"""

from __future__ import annotations

import bisect
import enum
import re

from ramparts.core.records import record
from ramparts.errors import RampartsError

__all__ = [
    "REDACTION_MARK",
    "Category",
    "Claims",
    "Detection",
    "PrivacyError",
    "redact",
    "redaction_spans",
]

REDACTION_MARK = re.compile(
    r"\[REDACTED:[a-z0-9-]{2,40}\]|\b(?:tok|enc|hash):[a-z0-9-]{2,40}:[A-Za-z0-9_-]{8,}"
)
"""What ``ramparts redact`` writes in place of a value: never a finding itself."""

_MARK_HINTS = ("[REDACTED:", "tok:", "enc:", "hash:")


def redaction_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds redaction marks (:data:`REDACTION_MARK`).

    A substring test comes first: almost no text has a mark, and the regular expression
    is the slow part of reading a clean file."""
    if not any(hint in text for hint in _MARK_HINTS):
        return []
    return [m.span() for m in REDACTION_MARK.finditer(text)]


class PrivacyError(RampartsError):
    """A recognizer or redaction setting is unusable."""


class Category(enum.Enum):
    """What kind of sensitive value a detection is."""

    SECRET = "secret"  # noqa: S105 - a category name, not a credential
    PII = "pii"


@record
class Detection:
    """One sensitive value found in a text.

    ``start``/``end`` delimit the value itself (the secret, not its keyword), as
    character offsets into the text that was searched. ``value`` is kept for
    fingerprints and redaction; never print it: use :func:`redact`.
    """

    rule_id: str
    kind: str
    title: str
    category: Category
    start: int
    end: int
    value: str = ""
    severity: str = "high"
    confidence: str = "high"

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise PrivacyError(f"bad detection span {self.start}..{self.end}")


class Claims:
    """Spans of a text already claimed by a detection, kept sorted: checking a new span
    costs a binary search, so a text with many values stays linear, not quadratic."""

    __slots__ = ("_ends", "_starts")

    def __init__(self, spans: list[tuple[int, int]] | None = None) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        for start, end in spans or ():
            if not self.overlaps(start, end):
                self.add(start, end)

    def overlaps(self, start: int, end: int) -> bool:
        """Whether ``[start, end)`` shares a character with a claimed span."""
        i = bisect.bisect_right(self._starts, start)
        if i and self._ends[i - 1] > start:
            return True
        return i < len(self._starts) and self._starts[i] < end

    def add(self, start: int, end: int) -> None:
        """Claim ``[start, end)`` (which must not overlap a claimed span)."""
        i = bisect.bisect_right(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)


def redact(value: str, *, keep: int = 4) -> str:
    """``value`` with all but its first ``keep`` characters hidden (never the whole).

    Short values keep less, so that at most a quarter of a value is shown: enough to
    recognise a key's prefix in a report, never enough to use it.
    """
    shown = min(keep, len(value) // 4)
    return value[:shown] + "*" * min(max(len(value) - shown, 3), 12)
