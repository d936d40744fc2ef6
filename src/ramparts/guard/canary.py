"""System-prompt leakage: canary tokens and verbatim chunks of the prompt in an answer.

The gateway puts a random canary into the system prompt of each conversation::

    canary = make_canary()
    system = with_canary(system_prompt, canary)
    ctx = GuardContext(role=Role.ASSISTANT, canaries=(canary,), system_prompt=system_prompt)

A model has no reason to repeat the canary; when it does, it is reciting its system
prompt. :class:`CanaryGuard` looks for each canary in every view of the answer
(:func:`ramparts.guard.normalize.normalize`: spaced out, hidden by zero-width
characters, in base64, hex or ROT13), and for any run of ``min_words`` consecutive
words of the system prompt (compared in lower case, punctuation ignored). It blocks by
default; with ``REDACT`` the canaries and verbatim runs found in the answer itself are
replaced by ``[REDACTED:system-prompt]`` (the whole answer, when they were found only in
a decoded view).
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Iterable

from ramparts.guard.interface import (
    Action,
    BaseGuard,
    FailMode,
    GuardConfigError,
    GuardContext,
    Hit,
    Role,
    Span,
)
from ramparts.guard.markup import lowered
from ramparts.guard.normalize import normalize

__all__ = ["DEFAULT_MIN_WORDS", "CanaryGuard", "make_canary", "with_canary"]

DEFAULT_MIN_WORDS = 10
"""Consecutive words of the system prompt that count as a verbatim leak."""

_MARK = "[REDACTED:system-prompt]"
_WORD = re.compile(r"\S+")
# ASCII punctuation to spaces, on UTF-8 bytes (other characters' bytes are left alone, so
# the decoded text keeps every character at its offset).
_PUNCTUATION = bytes.maketrans(
    bytes(b for b in range(128) if not chr(b).isalnum()), b" " * (128 - 62)
)


def _plain(text: str) -> str:
    """``text`` in lower case with ASCII punctuation blanked, character for character."""
    raw = lowered(text).encode("utf-8", "surrogatepass").translate(_PUNCTUATION)
    return raw.decode("utf-8", "surrogatepass")


def make_canary() -> str:
    """A fresh random canary: 16 lower-case hex digits (64 bits)."""
    return secrets.token_hex(8)


def with_canary(system_prompt: str, canary: str) -> str:
    """``system_prompt`` with ``canary`` in an HTML comment on a line before it (models
    reciting their prompt start at the top)."""
    return f"<!-- {canary} -->\n{system_prompt}"


@functools.lru_cache(maxsize=64)
def _shingles(prompt: str, n: int) -> tuple[frozenset[tuple[str, ...]], frozenset[str]]:
    """Every run of ``n`` words of ``prompt``, and the words that start one."""
    words = _plain(prompt).split()
    runs = frozenset(tuple(words[i : i + n]) for i in range(len(words) - n + 1))
    return runs, frozenset(run[0] for run in runs)


def _verbatim(text: str, prompt: str, n: int, *, where: bool = True) -> list[tuple[int, int]]:
    """Spans of ``text`` that repeat ``n`` or more consecutive words of ``prompt`` (with
    ``where=False``, one dummy span if there is any: positions are not worked out)."""
    runs, starts = _shingles(prompt, n)
    if not runs:
        return []
    plain = _plain(text)
    words = plain.split()
    hits = [
        i
        for i in range(len(words) - n + 1)
        if words[i] in starts and tuple(words[i : i + n]) in runs
    ]
    if not hits:
        return []
    if not where:
        return [(0, 1)]
    bounds = [m.span() for m in _WORD.finditer(plain)]
    spans: list[tuple[int, int]] = []
    for i in hits:
        start, end = bounds[i][0], bounds[i + n - 1][1]
        if spans and start <= spans[-1][1]:
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _occurrences(low: str, needle: str) -> list[tuple[int, int]]:
    found, pos = [], low.find(needle)
    while pos >= 0:
        found.append((pos, pos + len(needle)))
        pos = low.find(needle, pos + len(needle))
    return found


class CanaryGuard(BaseGuard):
    """Blocks answers that recite the system prompt (code ``system_prompt_leak``)."""

    name = "canary"
    default_action = Action.BLOCK
    __slots__ = ("_min_words", "_roles")

    def __init__(
        self,
        *,
        min_words: int = DEFAULT_MIN_WORDS,
        roles: Iterable[Role] = (Role.ASSISTANT, Role.TOOL_CALL),
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        if min_words < 4:
            raise GuardConfigError("min_words below 4 would match ordinary phrases")
        self._min_words = min_words
        self._roles = frozenset(roles)

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A hit naming what leaked: a canary, verbatim words of the prompt, or both."""
        if ctx.role not in self._roles or not (ctx.canaries or ctx.system_prompt) or not text:
            return None
        low = lowered(text)
        views = normalize(text).views
        direct: list[tuple[int, int]] = []
        leaked: list[str] = []
        hidden = False
        for canary in (c.lower() for c in ctx.canaries):
            here = _occurrences(low, canary)
            direct.extend(here)
            elsewhere = not here and any(canary in view.text.lower() for view in views)
            hidden = hidden or elsewhere
            if (here or elsewhere) and "canary" not in leaked:
                leaked.append("canary")
        if ctx.system_prompt:
            here = _verbatim(text, ctx.system_prompt, self._min_words)
            direct.extend(here)
            # The ROT13 view holds no plain words of the prompt: the canary covers it.
            elsewhere = not here and any(
                _verbatim(view.text, ctx.system_prompt, self._min_words, where=False)
                for view in views
                if view.name != "rot13" and view.text != text
            )
            hidden = hidden or elsewhere
            if here or elsewhere:
                leaked.append(f"{self._min_words}+ words of the system prompt")
        if not leaked:
            return None
        if hidden or not direct:
            spans: tuple[Span, ...] = (Span(0, len(text), _MARK),)
        else:
            spans = tuple(Span(s, e, _MARK) for s, e in sorted(direct))
        return Hit("system_prompt_leak", "answer repeats " + " and ".join(leaked), 1.0, spans)
