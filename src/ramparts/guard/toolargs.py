"""Injection payloads in the arguments of tool calls.

A model that was steered by injected text, or a client that forwards user input to a
function, can hand a tool an argument that attacks what the tool feeds it to: a SQL
query, a shell, a file path, a web page. :class:`ToolArgumentGuard` reads the
arguments as JSON (every key and string value on its own; text that is not JSON as
one string), decodes percent-encoding, HTML entities and compatibility forms, and
scores each string against :data:`PATTERNS`, four categories of payload shapes:

- ``sql``: tautologies after a quote (``' OR 1=1``, ``' or 'a'='a``), ``UNION SELECT``
  after a quote, bracket or number, stacked statements (``; DROP TABLE``), a comment
  after a quote (``admin'--``), time delays, ``xp_cmdshell``, file reads and writes;
- ``shell``: command substitution (``$(curl ...)``, backticks) and chaining
  (``; rm -rf``, ``| sh``, ``&& curl``) of common commands, ``${IFS}``, ``/dev/tcp``;
- ``path``: traversal (``../../``, encoded forms) and sensitive files;
- ``script``: ``<script``, ``javascript:``, event handlers, ``data:text/html``.

A string's score is the noisy-OR of its distinct patterns' weights; the guard hits
when a string reaches the threshold (0.6). Prose about SQL ("a UNION SELECT combines
rows") and code that merely uses ``$(...)`` (jQuery) stay below it. Tools that take
such text by design (a SQL console) are exempted per category with ``exempt``.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import unquote

from ramparts.core.records import record
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
from ramparts.guard.normalize import fold

__all__ = ["CATEGORIES", "PATTERNS", "ArgumentPattern", "ToolArgumentGuard", "argument_strings"]

CATEGORIES = ("sql", "shell", "path", "script")
"""The categories of payload the guard checks."""

_MAX_STRINGS = 10_000
_COMMANDS = (
    r"(?:rm|curl|wget|nc|ncat|netcat|bash|sh|zsh|dash|python[23]?|perl|ruby|php|cat|echo|id|"
    r"whoami|uname|base64|chmod|chown|sudo|env|printenv|ls|touch|mkfifo|telnet|ssh|scp|dd|kill|"
    r"powershell|cmd)"
)

_PROBES = (
    r"(?:curl|wget|nc|ncat|netcat|bash|sh|zsh|dash|rm|whoami|id|uname|python[23]?|perl|base64|"
    r"chmod|sudo|telnet|powershell)"
)


@record
class ArgumentPattern:
    """One payload shape: its category, id, weight and pattern (on lower-case text)."""

    category: str
    pattern_id: str
    weight: float
    pattern: str


PATTERNS: tuple[ArgumentPattern, ...] = (
    ArgumentPattern(
        "sql",
        "tautology",
        0.9,
        r"['\"`]\s*\)*\s*(?:or|\|\|)\s+(?:['\"]?\w+['\"]?\s*(?:=|<>|!=|like)\s*['\"]?\w*|true\b|\d+\s*[=<>])",
    ),
    ArgumentPattern("sql", "numeric-tautology", 0.8, r"\b(?:or|and)\s+(\d+)\s*=\s*\1\b"),
    ArgumentPattern("sql", "union-select", 0.9, r"['\")\d]\s*union\s+(?:all\s+)?select\b"),
    ArgumentPattern(
        "sql", "union-select-probe", 0.7, r"\bunion\s+(?:all\s+)?select\s+(?:null|\d+|@@|char\()"
    ),
    ArgumentPattern(
        "sql",
        "stacked-query",
        0.9,
        r";\s*(?:drop|truncate|alter|shutdown|exec(?:ute)?|delete\s+from|insert\s+into|"
        r"update\s+\w+\s+set|grant|revoke|create\s+(?:user|login))\b",
    ),
    ArgumentPattern("sql", "quote-comment", 0.7, r"['\"]\s*\)*\s*(?:--|#|/\*)"),
    ArgumentPattern(
        "sql",
        "time-delay",
        0.8,
        r"\b(?:sleep|pg_sleep|benchmark)\s*\(\s*\d|\bwaitfor\s+delay\s+['\"]",
    ),
    ArgumentPattern(
        "sql",
        "server-functions",
        0.9,
        r"\bxp_cmdshell\b|\bload_file\s*\(|\binto\s+(?:out|dump)file\b",
    ),
    ArgumentPattern("sql", "schema-probe", 0.4, r"\binformation_schema\b|\bsqlite_master\b"),
    ArgumentPattern("shell", "substitution", 0.9, r"\$\(\s*" + _COMMANDS + r"\b"),
    # In markdown, `ls -la` is code; only commands that fetch, run or probe count alone.
    ArgumentPattern("shell", "backticks", 0.85, r"`\s*" + _PROBES + r"\b[^`]*`"),
    ArgumentPattern("shell", "backticks-other", 0.5, r"`\s*" + _COMMANDS + r"\b[^`]*`"),
    ArgumentPattern(
        "shell",
        "chaining",
        0.85,
        r"(?:;|&&|\|\||\|)\s*(?:rm\s+-|curl\s|wget\s|nc\s|ncat\s|bash\b|sh\b|zsh\b|"
        r"python[23]?\s+-c|perl\s+-e|chmod\s|chown\s|mkfifo\s|telnet\s|/bin/|sudo\s|"
        r"base64\s+-d|cat\s+/etc/|powershell\b|cmd(?:\.exe)?\s+/c)",
    ),
    ArgumentPattern("shell", "ifs", 0.8, r"\$\{ifs\}|\$ifs\b"),
    ArgumentPattern("shell", "dev-tcp", 0.9, r"/dev/(?:tcp|udp)/"),
    ArgumentPattern("path", "traversal-deep", 0.8, r"(?:\.\.[/\\]){2,}"),
    ArgumentPattern("path", "traversal", 0.5, r"(?:^|[/\\\"'=\s])\.\.[/\\]"),
    ArgumentPattern(
        "path",
        "traversal-encoded",
        0.9,
        r"%2e%2e(?:%2f|%5c|/|\\)|\.\.%2f|\.\.%5c|%252e%252e|%c0%ae%c0%ae|\.\.%c0%af",
    ),
    ArgumentPattern(
        "path",
        "sensitive-file",
        0.5,
        r"/etc/(?:passwd|shadow|sudoers)\b|/proc/self/|\.ssh/|\bid_rsa\b|\.aws/credentials|"
        r"c:\\windows\\|\bboot\.ini\b|\bwin\.ini\b",
    ),
    ArgumentPattern("path", "null-byte", 0.6, r"%00|\x00"),
    ArgumentPattern("script", "script-tag", 0.9, r"<script\b"),
    ArgumentPattern("script", "javascript-url", 0.8, r"\bjavascript\s*:"),
    ArgumentPattern(
        "script",
        "event-handler",
        0.7,
        r"<[a-z][^>]*\bon(?:error|load|click|mouseover|focus|blur|submit|change|input|"
        r"keydown|keyup|mouseenter|toggle|begin)\s*=",
    ),
    ArgumentPattern("script", "data-html", 0.8, r"\bdata:text/html"),
)
"""The built-in payload shapes."""

_COMPILED = tuple(re.compile(p.pattern) for p in PATTERNS)


def argument_strings(text: str) -> Iterator[str]:
    """The keys and string values of ``text`` read as JSON, or ``text`` itself."""
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "[", '"'):
        yield text
        return
    try:
        data = json.loads(stripped)
    except (ValueError, RecursionError):
        yield text
        return
    stack: list[object] = [data]
    count = 0
    while stack and count < _MAX_STRINGS:
        item = stack.pop()
        if isinstance(item, str):
            count += 1
            yield item
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _views(value: str) -> Iterator[str]:
    """``value`` and its decodings: percent-encoding (twice), HTML entities, folding."""
    seen = {value}
    yield value.lower()
    candidates = []
    if "%" in value:
        once = unquote(value)
        candidates += [once, unquote(once)]
    if "&" in value:
        candidates.append(html.unescape(value))
    if not value.isascii():
        candidates.append(fold(value))
    for candidate in candidates:
        if candidate not in seen:
            seen.add(candidate)
            yield candidate.lower()


class ToolArgumentGuard(BaseGuard):
    """Blocks tool arguments carrying SQL, shell, path or script injection
    (code ``tool_argument_injection``); applies to :attr:`Role.TOOL_CALL` text."""

    name = "tool_arguments"
    default_action = Action.BLOCK
    __slots__ = ("_checks", "_exempt", "_roles", "_threshold")

    def __init__(
        self,
        *,
        categories: Iterable[str] = CATEGORIES,
        threshold: float = 0.6,
        exempt: Mapping[str, Iterable[str]] | None = None,
        roles: Iterable[Role] = (Role.TOOL_CALL,),
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        chosen = frozenset(categories)
        exempted = {tool: frozenset(cats) for tool, cats in (exempt or {}).items()}
        unknown = sorted((chosen | frozenset().union(*exempted.values())) - frozenset(CATEGORIES))
        if unknown:
            raise GuardConfigError(f"unknown tool-argument categories: {', '.join(unknown)}")
        if not chosen:
            raise GuardConfigError("a tool-argument guard needs at least one category")
        if not 0.0 < threshold <= 1.0:
            raise GuardConfigError(f"threshold {threshold} is outside (0, 1]")
        self._checks = chosen
        self._exempt = exempted
        self._threshold = threshold
        self._roles = frozenset(roles)

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A hit naming the payload shapes found in the worst argument."""
        if ctx.role not in self._roles or not text:
            return None
        checks = self._checks - self._exempt.get(ctx.tool_name, frozenset())
        wanted = [i for i, p in enumerate(PATTERNS) if p.category in checks]
        best, why = 0.0, ""
        for value in argument_strings(text):
            found: dict[str, ArgumentPattern] = {}
            for view in _views(value):
                for i in wanted:
                    if PATTERNS[i].pattern_id not in found and _COMPILED[i].search(view):
                        found[PATTERNS[i].pattern_id] = PATTERNS[i]
            miss = 1.0
            for pattern in found.values():
                miss *= 1.0 - pattern.weight
            if 1.0 - miss > best:
                best = 1.0 - miss
                why = ", ".join(f"{p.category}:{p.pattern_id}" for p in found.values())
            if best >= self._threshold:
                break
        if best < self._threshold:
            return None
        return Hit(
            "tool_argument_injection",
            f"tool argument score {best:.2f}: {why}",
            round(best, 4),
            (Span(0, len(text), "[REDACTED:tool-argument]"),),
        )
