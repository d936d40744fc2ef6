"""Value types, the guard protocol and the errors of the ``guard`` layer.

A guard inspects one text (a prompt, a tool result, a model's answer) and returns a
:class:`Hit` when it finds something, ``None`` otherwise. It never decides what
happens next: its configured :class:`Action` does, applied by
:func:`ramparts.guard.runner.run_guards`, which records a :class:`Verdict` per hit,
replaces the text for ``REDACT``, and raises :class:`Blocked` for ``BLOCK``.

Errors::

    RampartsError
    └── GuardError            base of the layer
        ├── GuardConfigError  an unknown guard name, action or option
        └── Blocked           a guard blocked the text (carries the verdict); stops the chain
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Sequence
from typing import ClassVar, Protocol

from ramparts.core.records import record
from ramparts.errors import RampartsError

__all__ = [
    "Action",
    "BaseGuard",
    "Blocked",
    "FailMode",
    "Guard",
    "GuardConfigError",
    "GuardContext",
    "GuardError",
    "GuardResult",
    "Hit",
    "Role",
    "Span",
    "Verdict",
    "apply_spans",
]

_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class GuardError(RampartsError):
    """Base of the errors of the guard layer."""


class GuardConfigError(GuardError):
    """A guard configuration is unusable: an unknown name, action, fail mode or option."""


class Action(enum.Enum):
    """What the runner does with a guard's hit."""

    BLOCK = "block"
    """Stop the chain: :class:`Blocked` is raised and nothing is forwarded."""
    REDACT = "redact"
    """Replace the hit's spans in the text and go on."""
    FLAG = "flag"
    """Record the verdict and forward the text unchanged."""


class FailMode(enum.Enum):
    """What the runner does when a guard itself fails (raises an unexpected exception)."""

    CLOSED = "closed"
    """Block the text (code ``guard_failed``): the safe default."""
    OPEN = "open"
    """Record a ``guard_failed`` flag and go on without that guard."""


class Role(enum.Enum):
    """Whose text a guard is looking at; guards use it to decide whether they apply."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"
    """A tool's result fed back to the model (the usual vector of indirect injection)."""
    TOOL_CALL = "tool_call"
    """The arguments of a function call, from the model or from a client."""

    @property
    def is_output(self) -> bool:
        """Whether the text comes from the model (an answer or a tool call it made)."""
        return self in (Role.ASSISTANT, Role.TOOL_CALL)


@record
class GuardContext:
    """What a guard may know about the text beyond the text itself.

    ``canaries`` are the random tokens inserted into the system prompt
    (:func:`ramparts.guard.canary.with_canary`); ``system_prompt`` is that prompt, for
    the verbatim-leak check; ``allowed_hosts`` are hosts (and their subdomains) whose
    links may carry data out of an answer; ``tool_name`` names the function whose
    arguments are being checked.
    """

    role: Role = Role.USER
    canaries: tuple[str, ...] = ()
    system_prompt: str = ""
    allowed_hosts: frozenset[str] = frozenset()
    tool_name: str = ""

    def __post_init__(self) -> None:
        if any(len(c) < 8 for c in self.canaries):
            raise GuardConfigError("a canary must be at least 8 characters long")
        hosts = frozenset(h.strip().lower().rstrip(".") for h in self.allowed_hosts)
        if "" in hosts:
            raise GuardConfigError("an allowed host must not be empty")
        object.__setattr__(self, "allowed_hosts", hosts)


@record
class Span:
    """A range ``[start, end)`` of the text a guard saw, and what would replace it."""

    start: int
    end: int
    replacement: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise GuardError(f"bad guard span {self.start}..{self.end}")


@record
class Hit:
    """What a guard found: a stable machine ``code``, a one-line ``detail`` that never
    quotes the sensitive value, a ``score`` in [0, 1], and the spans a ``REDACT``
    action replaces (offsets into the text the guard was given)."""

    code: str
    detail: str
    score: float = 1.0
    spans: tuple[Span, ...] = ()

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise GuardError(f"bad guard code {self.code!r}")
        if not 0.0 <= self.score <= 1.0:
            raise GuardError(f"guard score {self.score} is outside [0, 1]")


@record
class Verdict:
    """One guard's hit and the action taken on it, as the audit log records it."""

    guard: str
    action: Action
    code: str
    detail: str
    score: float = 1.0
    spans: tuple[Span, ...] = ()

    @classmethod
    def of(cls, guard: str, action: Action, hit: Hit) -> Verdict:
        """The verdict of ``guard`` taking ``action`` on ``hit``."""
        return cls(guard, action, hit.code, hit.detail, hit.score, hit.spans)


@record
class GuardResult:
    """The text to forward (redacted where a guard said so) and every verdict, in order."""

    text: str
    verdicts: tuple[Verdict, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the verdicts, in order."""
        return tuple(v.code for v in self.verdicts)


class Blocked(GuardError):  # noqa: N818 - an outcome, not a failure; the name says which
    """A guard blocked the text: the dedicated exception that stops the chain.

    ``verdict`` is the blocking one; ``verdicts`` are those recorded before it (flags
    and redactions by earlier guards), for the audit log.
    """

    def __init__(self, verdict: Verdict, verdicts: Sequence[Verdict] = ()) -> None:
        super().__init__(f"blocked by guard {verdict.guard!r}: {verdict.code} ({verdict.detail})")
        self.verdict = verdict
        self.verdicts = tuple(verdicts)


class Guard(Protocol):
    """A text guard: one method, :meth:`check`; what to do with a hit is configuration.

    ``name`` is the guard's configuration key and the ``guard`` of its verdicts;
    ``action`` is applied to each hit; ``fail_mode`` decides what an unexpected
    exception inside :meth:`check` means.
    """

    @property
    def name(self) -> str:
        """The guard's name (its key in a configuration mapping)."""
        ...

    @property
    def action(self) -> Action:
        """What the runner does with a hit."""
        ...

    @property
    def fail_mode(self) -> FailMode:
        """What the runner does when :meth:`check` raises."""
        ...

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """What this guard finds in ``text`` (``None``: nothing)."""
        ...


class BaseGuard(abc.ABC):
    """Holds the configuration every built-in guard shares: its action and fail mode.

    Subclasses set the class attributes ``name`` and ``default_action`` and implement
    :meth:`check`.
    """

    __slots__ = ("_action", "_fail_mode")
    name: ClassVar[str] = ""
    default_action: ClassVar[Action] = Action.BLOCK

    def __init__(
        self, *, action: Action | None = None, fail_mode: FailMode = FailMode.CLOSED
    ) -> None:
        if action is not None and not isinstance(action, Action):
            raise GuardConfigError(f"action must be an Action, not {action!r}")
        if not isinstance(fail_mode, FailMode):
            raise GuardConfigError(f"fail_mode must be a FailMode, not {fail_mode!r}")
        self._action = self.default_action if action is None else action
        self._fail_mode = fail_mode

    @property
    def action(self) -> Action:
        """What the runner does with a hit."""
        return self._action

    @property
    def fail_mode(self) -> FailMode:
        """What the runner does when :meth:`check` raises."""
        return self._fail_mode

    @abc.abstractmethod
    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """What this guard finds in ``text`` (``None``: nothing)."""

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(action={self._action.value}, fail_mode={self._fail_mode.value})"
        )


def apply_spans(text: str, spans: Sequence[Span]) -> str:
    """``text`` with every span replaced; of overlapping spans the earlier one wins."""
    if not spans:
        return text
    pieces: list[str] = []
    pos = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if span.start < pos:
            continue
        pieces.append(text[pos : span.start])
        pieces.append(span.replacement)
        pos = span.end
    pieces.append(text[pos:])
    return "".join(pieces)
