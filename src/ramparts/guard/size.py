"""A limit on the length of a text, so that every character of what passes is inspected.

Detectors that read normalised views inspect at most
:data:`ramparts.guard.normalize.MAX_INSPECTED` characters of a text in full (longer
texts are sampled); :class:`SizeGuard`, first in the default input chain, blocks texts
longer than that (code ``input_too_large``). With ``REDACT`` it truncates them instead.
"""

from __future__ import annotations

from ramparts.guard.interface import (
    Action,
    BaseGuard,
    FailMode,
    GuardConfigError,
    GuardContext,
    Hit,
    Span,
)
from ramparts.guard.normalize import MAX_INSPECTED

__all__ = ["SizeGuard"]


class SizeGuard(BaseGuard):
    """Blocks (by default) texts longer than ``max_chars`` characters."""

    name = "size"
    default_action = Action.BLOCK
    __slots__ = ("_max_chars",)

    def __init__(
        self,
        *,
        max_chars: int = MAX_INSPECTED,
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        if max_chars < 1:
            raise GuardConfigError("max_chars must be at least 1")
        self._max_chars = max_chars

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """An ``input_too_large`` hit whose span is everything past the limit."""
        if len(text) <= self._max_chars:
            return None
        return Hit(
            "input_too_large",
            f"{len(text)} characters, more than the limit of {self._max_chars}",
            1.0,
            (Span(self._max_chars, len(text), ""),),
        )
