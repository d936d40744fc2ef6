"""Guards on a streamed answer: text is released only once no guard can still change it.

:class:`StreamGuard` runs a chain of guards over a stream of chunks. Each guard is a
stage with its own hold-back buffer; what a stage releases is fed to the next, so the
released text is what :func:`ramparts.guard.runner.run_guards` makes of the whole
answer (each guard sees the previous guard's output, as there).

How a stage decides what to release. It keeps the text not yet released (``pending``)
and up to ``hold_back`` characters of released text before it (``context``, cut at a
word start). Once ``pending`` has ``hold_back + min_step`` characters it runs its guard
on ``context + pending`` and picks a cut at least ``hold_back`` characters before the
end of ``pending``: after the last line break, else after the last space, in the
``hold_back`` characters before that point; then it moves the cut back to the start
of any span that crosses it. Everything before the cut is released, with the spans
there replaced. So a value no longer than ``hold_back`` (a key, a card number, a link)
is always whole in some window and never released in part.

Choosing ``hold_back``. The default, :data:`DEFAULT_HOLD_BACK` (256), is the longest
value the built-in recognizers report in practice: the secret rules' bounded values
(passwords in URLs and generic assignments, up to 256 characters), PII values (postal
addresses, IBANs, emails: well under 256), a markdown link with its text. Longer
tokens without spaces (a long JWT, a key block line) are still whole, because the cut
is placed at whitespace; a token longer than ``max_hold`` is cut where it must be.
Larger values cost latency (the first characters wait for ``hold_back + min_step``
more) and CPU (every ``min_step`` characters the guard reads ``2 * hold_back +
min_step`` of them).

A blocking guard raises :class:`~ramparts.guard.interface.Blocked` from :meth:`feed`
as soon as its window shows the hit; the caller stops the stream (what was already
released stays released).
"""

from __future__ import annotations

from collections.abc import Sequence

from ramparts.guard.interface import (
    Action,
    Guard,
    GuardConfigError,
    GuardContext,
    Span,
    Verdict,
    apply_spans,
)
from ramparts.guard.runner import check_one

__all__ = ["DEFAULT_HOLD_BACK", "DEFAULT_MAX_HOLD", "StreamGuard"]

DEFAULT_HOLD_BACK = 256
"""Characters held back (and kept as context) by each stage; see the module's notes."""
DEFAULT_MAX_HOLD = 64 * 1024
"""Characters a stage holds at most while waiting for whitespace to cut at."""


def _word_start(text: str) -> str:
    """``text`` from its first word that starts after whitespace (all of it if none)."""
    for i, c in enumerate(text):
        if c.isspace():
            return text[i + 1 :]
    return text


class _Stage:
    """One guard of the chain with its buffer."""

    __slots__ = (
        "_ctx",
        "_fresh",
        "_guard",
        "_hold",
        "_max",
        "_step",
        "_verdicts",
        "context",
        "offset",
        "pending",
    )

    def __init__(
        self,
        guard: Guard,
        ctx: GuardContext,
        verdicts: list[Verdict],
        hold_back: int,
        min_step: int,
        max_hold: int,
    ) -> None:
        self._guard, self._ctx, self._verdicts = guard, ctx, verdicts
        self._hold, self._step, self._max = hold_back, min_step, max_hold
        self.context = ""
        self.pending = ""
        self.offset = 0  # where ``pending`` starts in this stage's whole input
        self._fresh = 0  # characters added since the guard last ran

    def feed(self, chunk: str) -> str:
        self.pending += chunk
        self._fresh += len(chunk)
        if len(self.pending) < self._hold + self._step or self._fresh < self._step:
            return ""
        self._fresh = 0
        return self._release(final=False)

    def finish(self, chunk: str) -> str:
        self.pending += chunk
        return self._release(final=True) if self.pending else ""

    def _cut(self, spans: list[Span]) -> int:
        """Where to cut ``pending``: everything before is released now."""
        pending = self.pending
        limit = len(pending) - self._hold
        if limit <= 0:
            return 0
        low = max(0, limit - self._hold)
        cut = pending.rfind("\n", low, limit) + 1
        if cut == 0:
            cut = max(pending.rfind(" ", low, limit), pending.rfind("\t", low, limit)) + 1
        if cut == 0 and len(pending) > self._max:
            cut = limit
        for span in sorted(spans, key=lambda s: -s.start):
            if span.start < cut < span.end:
                cut = max(span.start, 0)
        return cut

    def _first(self, verdict: Verdict) -> bool:
        """Whether a verdict without spans (a failure) is new to this stream."""
        return not verdict.spans and not any(
            v.guard == verdict.guard and v.code == verdict.code for v in self._verdicts
        )

    def _release(self, *, final: bool) -> str:
        window = self.context + self.pending
        verdict = check_one(self._guard, window, self._ctx, self._verdicts)
        base = len(self.context)
        spans = (
            []
            if verdict is None
            else [
                Span(max(s.start - base, 0), s.end - base, s.replacement)
                for s in verdict.spans
                if s.end > base
            ]
        )
        cut = len(self.pending) if final else self._cut(spans)
        if cut <= 0:
            return ""
        released = [s for s in spans if s.start < cut]
        text = self.pending[:cut]
        if verdict is not None and (released or self._first(verdict)):
            self._verdicts.append(
                Verdict(
                    verdict.guard,
                    verdict.action,
                    verdict.code,
                    verdict.detail,
                    verdict.score,
                    tuple(
                        Span(s.start + self.offset, s.end + self.offset, s.replacement)
                        for s in released
                    ),
                )
            )
        out = apply_spans(text, released) if verdict and verdict.action is Action.REDACT else text
        seen = self.context + text
        # Context cut to hold_back characters starts at a word, not inside one.
        self.context = seen if len(seen) <= self._hold else _word_start(seen[-self._hold :])
        self.pending = self.pending[cut:]
        self.offset += cut
        return out


class StreamGuard:
    """Applies a chain of guards to a streamed text; see the module's notes.

    ``feed`` returns the text safe to emit now (often ``""``), ``finish`` the rest;
    :attr:`verdicts` are the verdicts so far, with spans as offsets into the text each
    guard saw.
    """

    def __init__(
        self,
        guards: Sequence[Guard],
        ctx: GuardContext | None = None,
        *,
        hold_back: int = DEFAULT_HOLD_BACK,
        min_step: int | None = None,
        max_hold: int = DEFAULT_MAX_HOLD,
    ) -> None:
        step = hold_back // 2 if min_step is None else min_step
        if hold_back < 1 or step < 1 or max_hold < 2 * hold_back + step:
            raise GuardConfigError(
                "need hold_back >= 1, min_step >= 1, max_hold >= 2*hold_back+min_step"
            )
        self._verdicts: list[Verdict] = []
        ctx = GuardContext() if ctx is None else ctx
        self._stages = [_Stage(g, ctx, self._verdicts, hold_back, step, max_hold) for g in guards]
        self._finished = False

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        """Every verdict recorded so far, in order."""
        return tuple(self._verdicts)

    def feed(self, chunk: str) -> str:
        """Take the next chunk; return the text that may be emitted now.

        Raises :class:`~ramparts.guard.interface.Blocked` when a guard blocks.
        """
        if self._finished:
            raise GuardConfigError("this stream is finished")
        text = chunk
        for stage in self._stages:
            if not text:
                # A stage given nothing releases nothing: it already decided on what it holds.
                return ""
            text = stage.feed(text)
        return text

    def finish(self) -> str:
        """End the stream: the text still held back, guarded."""
        if self._finished:
            return ""
        self._finished = True
        text = ""
        for stage in self._stages:
            text = stage.finish(text)
        return text
