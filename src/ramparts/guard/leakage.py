"""Secrets and personal data in prompts and answers, found by the privacy layer's
recognizers and redacted with its placeholders.

:class:`SecretGuard` runs :class:`ramparts.privacy.secrets.SecretDetector` and
:class:`PiiGuard` runs :class:`ramparts.privacy.pii.PiiDetector`; both replace each
value with what a :class:`ramparts.privacy.redact.Redactor` writes (by default
``[REDACTED:<kind>]``, such as ``[REDACTED:aws-access-key-id]`` or
``[REDACTED:email]``). The code says which way the value was going: ``secret_in_prompt``
and ``pii_in_prompt`` for text sent to the model, ``secret_leak`` and ``pii_leak`` for
the model's answers and tool calls (:attr:`ramparts.guard.interface.Role.is_output`).

Values split by invisible characters (``AKIA\\u200b...``) are found in the text without
them and redacted in the original, invisible characters included. Values encoded in
base64 or hex are not decoded here (see ``docs/guards.md``).

The personal-data recognizers cost about twenty regular-expression passes over the
text, so :class:`PiiGuard` runs them only on windows around what a personal value
needs (:data:`PII_TRIGGER`): five digits close together (cards, phone and national
numbers, numeric dates, ZIP codes, IP addresses), an ``@``, ``0x`` or a Bitcoin-shaped
token, hex digits around a colon (MAC, IPv6), a UK postcode, a label that the labelled
recognizers need (birth, born, DOB, passport, MRN, medical record, NHS, SSN) or two
capitalised words in a row (names), with :data:`PII_CONTEXT_BEFORE` and
:data:`PII_CONTEXT_AFTER` characters of context, cut at whitespace. A text mostly
covered by windows is searched whole. The triggers are a prefilter over the privacy
layer's recognizers: ``tests/guard/test_guard_leakage.py`` checks that windows and a
whole-text search agree.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from ramparts.core.records import replace
from ramparts.guard.interface import (
    Action,
    BaseGuard,
    FailMode,
    GuardConfigError,
    GuardContext,
    Hit,
    Span,
)
from ramparts.guard.markup import lowered
from ramparts.guard.normalize import strip_invisible
from ramparts.privacy.interface import Detection
from ramparts.privacy.pii import KINDS, PiiDetector
from ramparts.privacy.redact import Redactor
from ramparts.privacy.secrets import SecretDetector

__all__ = [
    "DEFAULT_PII_KINDS",
    "PII_CONTEXT_AFTER",
    "PII_CONTEXT_BEFORE",
    "PII_LABELS",
    "PII_TRIGGERS",
    "PiiGuard",
    "SecretGuard",
    "find_pii",
    "find_secrets",
]

DEFAULT_PII_KINDS = frozenset(k for k, info in KINDS.items() if info.sensitivity != "internal")
"""Kinds redacted by default: all but network identifiers (IP and MAC addresses)."""

PII_CONTEXT_BEFORE = 128
"""Characters before a trigger searched with it: labels, names, the start of a postal
address whose ZIP code was the trigger."""
PII_CONTEXT_AFTER = 128
"""Characters after a trigger searched with it: the rest of the longest values."""

_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿĀ-ž"
PII_TRIGGERS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern)
    for pattern in (
        r"\d[\d\s().\-/]{4,}",  # five digits or more close together (checked below)
        r"@",
        r"0x[0-9a-fA-F]",
        r"[13][1-9A-HJ-NP-Za-km-z]{25}",
        r"bc1|BC1",
        r"[0-9A-Fa-f]:[0-9A-Fa-f:]",
        r"[A-Z][A-Z]?\d[A-Z\d]? ?\d[A-Z]{2}",
        rf"[{_UPPER}][{_LOWER}]+(?:[-'][{_UPPER}]?[{_LOWER}]+)? [{_UPPER}]",
    )
)
"""What a personal value of some kind needs near it (see the module's notes). Separate
patterns without alternatives, each starting with a character class or a literal, so
the regex engine skips ahead; each is searched only if a cheaper test says it can match
(:data:`_WORTH_SEARCHING`)."""


_WORTH_SEARCHING: tuple[Callable[[str, int], object], ...] = (
    lambda text, digits: digits >= 5,
    lambda text, digits: "@" in text,
    lambda text, digits: "0x" in text,
    lambda text, digits: digits,
    lambda text, digits: "bc1" in text or "BC1" in text,
    lambda text, digits: ":" in text,
    lambda text, digits: digits >= 2,
    lambda text, digits: True,
)
"""Per trigger, a test that is false only when the trigger cannot match, given the text
and how many digits it has (a prefilter: the regular expressions cost up to twenty
times more than a few scans of the text in C)."""
PII_LABELS = (
    "birth",
    "born",
    "dob",
    "d.o.b",
    "passport",
    "mrn",
    "medical record",
    "nhs",
    "ssn",
    "social security",
)
"""Labels the labelled recognizers need (looked up in the lower-cased text)."""
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/]{0,2}\d){4,}")
_WHOLE_SHARE = 0.5
_BLANK = re.compile(r"[ \n\t]")


@functools.cache
def _secret_detector() -> SecretDetector:
    return SecretDetector()


@functools.cache
def _pii_detector() -> PiiDetector:
    return PiiDetector()


def _with_invisibles(detect: Callable[[str], list[Detection]], text: str) -> list[Detection]:
    """``detect`` on ``text``, and on ``text`` without invisible characters, mapped back."""
    found = detect(text)
    stripped, kept = strip_invisible(text)
    if kept is None:
        return found
    taken = [(d.start, d.end) for d in found]
    for det in detect(stripped):
        start, end = kept[det.start], kept[det.end - 1] + 1
        if any(start < e and s < end for s, e in taken):
            continue
        taken.append((start, end))
        found.append(replace(det, start=start, end=end))
    found.sort(key=lambda d: d.start)
    return found


def find_secrets(text: str, detector: SecretDetector | None = None) -> list[Detection]:
    """The credentials in ``text`` (offsets into ``text``), also when split by invisible
    characters."""
    return _with_invisibles((detector or _secret_detector()).detect, text)


def _triggers(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has something a personal value needs, in order."""
    found: list[tuple[int, int]] = []
    # ``\d`` also matches other scripts' digits: only in ASCII text are they counted.
    digits = sum(map(text.count, "0123456789")) if text.isascii() else len(text)
    for number, (pattern, worth) in enumerate(zip(PII_TRIGGERS, _WORTH_SEARCHING, strict=True)):
        if not worth(text, digits):
            continue
        for match in pattern.finditer(text):
            if number == 0:  # a run of digits and separators: five digits close together?
                dense = _DIGIT_RUN.search(match.group())
                if dense is not None:
                    found.append((match.start() + dense.start(), match.start() + dense.end()))
            else:
                found.append(match.span())
    low = lowered(text)
    for label in PII_LABELS:
        pos = low.find(label)
        while pos >= 0:
            found.append((pos, pos + len(label)))
            pos = low.find(label, pos + 1)
    found.sort()
    return found


def _windows(text: str) -> list[tuple[int, int]] | None:
    """Spans of ``text`` around PII triggers, merged and cut at whitespace so that no
    word is cut in two; ``None`` when they cover most of the text (search it whole).

    Linear: a trigger inside the current span costs nothing, and the searches for
    whitespace never go back past the end of the previous span.
    """
    spans: list[tuple[int, int]] = []
    n, covered = len(text), 0
    limit = _WHOLE_SHARE * n
    for trigger_start, trigger_end in _triggers(text):
        last = spans[-1][1] if spans else 0
        end = min(n, trigger_end + PII_CONTEXT_AFTER)
        if spans and end <= last:
            continue
        blank = _BLANK.search(text, end)
        end = n if blank is None else blank.start()
        start = max(0, trigger_start - PII_CONTEXT_BEFORE)
        if start > last:
            # The start of the word at ``start``, not searching back into the last span.
            start = max([last, *(text.rfind(c, last, start + 1) + 1 for c in " \n\t")])
        if spans and start <= last:
            covered += end - last
            spans[-1] = (spans[-1][0], end)
        else:
            covered += end - start
            spans.append((start, end))
        if covered > limit:
            return None
    return spans


def _windowed(detector: PiiDetector) -> Callable[[str], list[Detection]]:
    def detect(text: str) -> list[Detection]:
        windows = _windows(text)
        if windows is None:
            return detector.detect(text)
        found: list[Detection] = []
        for start, end in windows:
            for det in detector.detect(text[start:end]):
                found.append(replace(det, start=det.start + start, end=det.end + start))
        return found

    return detect


def find_pii(
    text: str, detector: PiiDetector | None = None, kinds: Iterable[str] | None = None
) -> list[Detection]:
    """The personal data in ``text`` of the given kinds (default: every kind), also when
    split by invisible characters."""
    found = _with_invisibles(_windowed(detector or _pii_detector()), text)
    if kinds is None:
        return found
    wanted = frozenset(kinds)
    return [d for d in found if d.kind in wanted]


def _spans(found: list[Detection], redactor: Redactor) -> tuple[Span, ...]:
    return tuple(Span(d.start, d.end, redactor.replacement(d)) for d in found)


def _summary(what: str, found: list[Detection]) -> str:
    kinds = sorted({d.kind for d in found})
    return f"{len(found)} {what}: {', '.join(kinds)}"


class SecretGuard(BaseGuard):
    """Credentials in the text: redacted by default (``secret_in_prompt``/``secret_leak``)."""

    name = "secrets"
    default_action = Action.REDACT
    __slots__ = ("_detector", "_redactor")

    def __init__(
        self,
        *,
        detector: SecretDetector | None = None,
        redactor: Redactor | None = None,
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        self._detector = detector or _secret_detector()
        self._redactor = redactor or Redactor()

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A hit naming the kinds of credential found (never their values)."""
        found = find_secrets(text, self._detector)
        if not found:
            return None
        code = "secret_leak" if ctx.role.is_output else "secret_in_prompt"
        return Hit(code, _summary("secret(s)", found), 1.0, _spans(found, self._redactor))


class PiiGuard(BaseGuard):
    """Personal data in the text: redacted by default (``pii_in_prompt``/``pii_leak``).

    ``kinds`` limits the kinds reported (default :data:`DEFAULT_PII_KINDS`); the names
    are those of :data:`ramparts.privacy.pii.KINDS`.
    """

    name = "pii"
    default_action = Action.REDACT
    __slots__ = ("_detector", "_kinds", "_redactor")

    def __init__(
        self,
        *,
        kinds: Iterable[str] | None = None,
        detector: PiiDetector | None = None,
        redactor: Redactor | None = None,
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        self._kinds = DEFAULT_PII_KINDS if kinds is None else frozenset(kinds)
        unknown = sorted(self._kinds - KINDS.keys())
        if unknown:
            raise GuardConfigError(f"unknown PII kind(s): {', '.join(unknown)}")
        if not self._kinds:
            raise GuardConfigError("a PII guard needs at least one kind")
        self._detector = detector or _pii_detector()
        self._redactor = redactor or Redactor()

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A hit naming the kinds of personal data found (never the values)."""
        found = find_pii(text, self._detector, self._kinds)
        if not found:
            return None
        code = "pii_leak" if ctx.role.is_output else "pii_in_prompt"
        return Hit(code, _summary("personal value(s)", found), 1.0, _spans(found, self._redactor))
