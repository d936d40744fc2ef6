"""The guard chain: guards in a list, run in order by a short loop.

``BLOCK`` raises :class:`~ramparts.guard.interface.Blocked` (the one exception that
stops the chain); ``REDACT`` replaces the hit's spans, so later guards see the redacted
text; ``FLAG`` records the verdict. A guard that raises anything else has failed: fail
closed blocks with code ``guard_failed``, fail open records a ``guard_failed`` flag and
goes on. Either way the caller sees a result or ``Blocked``, never another exception.
"""

from __future__ import annotations

from collections.abc import Sequence

from ramparts.guard.interface import (
    Action,
    Blocked,
    FailMode,
    Guard,
    GuardContext,
    GuardResult,
    Hit,
    Verdict,
    apply_spans,
)

__all__ = ["GUARD_FAILED", "check_one", "run_guards"]

GUARD_FAILED = "guard_failed"
"""The code of a verdict about a guard that raised instead of answering."""


def check_one(
    guard: Guard, text: str, ctx: GuardContext, earlier: Sequence[Verdict] = ()
) -> Verdict | None:
    """Run one guard under its fail mode: its verdict, or ``None`` if it found nothing.

    Raises :class:`Blocked` when the guard blocks, or fails closed; ``earlier`` are
    the verdicts the exception carries along.
    """
    try:
        hit = guard.check(text, ctx)
    except Blocked:
        raise
    except Exception as exc:  # any failure of a guard is decided by its fail mode
        failure = Hit(GUARD_FAILED, f"guard raised {type(exc).__name__}")
        if guard.fail_mode is FailMode.OPEN:
            return Verdict.of(guard.name, Action.FLAG, failure)
        raise Blocked(Verdict.of(guard.name, Action.BLOCK, failure), earlier) from exc
    if hit is None:
        return None
    verdict = Verdict.of(guard.name, guard.action, hit)
    if verdict.action is Action.BLOCK:
        raise Blocked(verdict, earlier)
    return verdict


def run_guards(guards: Sequence[Guard], text: str, ctx: GuardContext | None = None) -> GuardResult:
    """Apply ``guards`` to ``text`` in order: the text to forward and the verdicts.

    Raises :class:`Blocked` (and nothing else) when a guard blocks or fails closed.
    """
    ctx = GuardContext() if ctx is None else ctx
    verdicts: list[Verdict] = []
    for guard in guards:
        verdict = check_one(guard, text, ctx, verdicts)
        if verdict is None:
            continue
        if verdict.action is Action.REDACT:
            text = apply_spans(text, verdict.spans)
        verdicts.append(verdict)
    return GuardResult(text, tuple(verdicts))
