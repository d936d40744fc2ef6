"""Sensitive-data recognition on text: what a detection is, and the layer's error.

The ``privacy`` layer finds credentials and personal data in text and redacts them.
It knows nothing of files: the ``scan`` layer decodes files (notebooks, configs,
tables) into text and maps detections back to lines and cells.

Errors::

    RampartsError
    └── PrivacyError     a recognizer or redaction setting is unusable
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ramparts.errors import RampartsError

__all__ = ["REDACTION_MARK", "Category", "Detection", "PrivacyError", "redact"]

REDACTION_MARK = re.compile(
    r"\[REDACTED:[a-z0-9-]{2,40}\]|\b(?:tok|enc|hash):[a-z0-9-]{2,40}:[A-Za-z0-9_-]{8,}"
)
"""What ``ramparts redact`` writes in place of a value: never a finding itself."""


class PrivacyError(RampartsError):
    """A recognizer or redaction setting is unusable."""


class Category(enum.Enum):
    """What kind of sensitive value a detection is."""

    SECRET = "secret"  # noqa: S105 - a category name, not a credential
    PII = "pii"


@dataclass(frozen=True, slots=True)
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


def redact(value: str, *, keep: int = 4) -> str:
    """``value`` with all but its first ``keep`` characters hidden (never the whole).

    Short values keep less, so that at most a quarter of a value is shown: enough to
    recognise a key's prefix in a report, never enough to use it.
    """
    shown = min(keep, len(value) // 4)
    return value[:shown] + "*" * min(max(len(value) - shown, 3), 12)
