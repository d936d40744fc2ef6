"""Markdown and HTML shapes shared by the output guards: code regions, links, URLs.

Every pattern here is linear: no quantified group can match the same characters in
two ways, and unclosed constructs end at the end of their line (links) or of the text
(fenced code blocks).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator

from ramparts.core.records import record

__all__ = [
    "BARE_URL",
    "HTML_IMG",
    "MD_LINK",
    "MD_REFERENCE",
    "CodeRegions",
    "bare_urls",
    "host_allowed",
    "lowered",
    "md_links",
    "trim_url",
]

_FENCE_AT = re.compile(r"[ \t]{0,3}(`{3,}|~{3,})")
# A literal backtick first, so the regex engine skips ahead to backticks.
_INLINE_CODE = re.compile(r"`(?:`[^`\n]+?``|[^`\n]+?`)")

MD_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>[^\[\]\n]{0,1000})\]\(\s*<?(?P<url>[^\s()<>]*(?:\([^\s()<>]*\)"
    r"[^\s()<>]*)*)>?(?:\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"
)
"""A markdown link ``[text](url "title")`` or image ``![alt](url)``."""

MD_REFERENCE = re.compile(
    r"(?m)^[ \t]{0,3}\[(?P<text>[^\]\n]{1,200})\]:[ \t]*<?(?P<url>[^\s<>]+)>?"
)
"""A markdown link reference definition ``[ref]: url``."""

HTML_IMG = re.compile(
    r"<img\b[^<>]*?[\s/]src\s*=\s*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<bare>[^\s\"'>]+))"
    r"[^<>]*>?",
    re.IGNORECASE,
)
"""An HTML image tag with a ``src`` (the browser fetches it as the answer renders)."""

BARE_URL = re.compile(r"(?:https?|ftp)://[^\s<>\"'`]+", re.IGNORECASE)
"""A URL written out in the text, tried where ``://`` occurs (:func:`bare_urls`)."""


def _occurrences(text: str, needle: str) -> Iterator[int]:
    """Where ``needle`` occurs in ``text``, without overlaps."""
    pos = text.find(needle)
    while pos >= 0:
        yield pos
        pos = text.find(needle, pos + len(needle))


def bare_urls(text: str) -> Iterator[re.Match[str]]:
    """Every URL written out in ``text`` (found from its ``://``, not by a scan)."""
    end = 0
    for colon in _occurrences(text, "://"):
        start = colon
        while start > max(0, colon - 5) and text[start - 1].isalpha():
            start -= 1
        if start < end or (start and (text[start - 1].isalnum() or text[start - 1] == "_")):
            continue
        match = BARE_URL.match(text, start)
        if match is not None:
            end = match.end()
            yield match


def md_links(text: str) -> Iterator[re.Match[str]]:
    """Every markdown link and image in ``text`` (found from its ``](``)."""
    end = 0
    for close in _occurrences(text, "]("):
        if close < end:
            continue
        line = text.rfind("\n", max(0, close - 1001), close) + 1
        open_ = text.rfind("[", max(line, close - 1001), close)
        if open_ < 0 or text.find("]", open_, close) >= 0:
            continue
        start = open_ - 1 if open_ and text[open_ - 1] == "!" else open_
        match = MD_LINK.match(text, start)
        if match is not None:
            end = match.end()
            yield match


def lowered(text: str) -> str:
    """``text`` in lower case with every character at its original offset (the few
    characters that lower-case to two, such as ``İ``, are kept as they are)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def trim_url(url: str) -> str:
    """``url`` without the punctuation that ends the sentence around it."""
    while url and url[-1] in ".,;:!?*_~":
        url = url[:-1]
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1]
    while url.endswith("]") and url.count("]") > url.count("["):
        url = url[:-1]
    return url


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether ``host`` (lower case) is one of ``allowed`` or a subdomain of one."""
    host = host.rstrip(".")
    if host in allowed:
        return True
    dot = host.find(".")
    while dot >= 0:
        if host[dot + 1 :] in allowed:
            return True
        dot = host.find(".", dot + 1)
    return False


def _line_starts(text: str, fence: str) -> Iterator[int]:
    """Starts of the lines where ``fence`` opens the line (after up to three blanks)."""
    for pos in _occurrences(text, fence):
        newline = text.rfind("\n", max(0, pos - 4), pos)
        start = newline + 1 if newline >= 0 else (0 if pos <= 3 else pos + 1)
        if start <= pos and not text[start:pos].strip(" \t"):
            yield start


@record
class CodeRegions:
    """The fenced code blocks and inline code spans of a markdown text, where markup is
    shown as text rather than rendered."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> CodeRegions:
        """The code regions of ``text`` (an unclosed fence runs to the end)."""
        spans: list[tuple[int, int]] = []
        fences = [
            (at, m.group(1))
            for at in sorted({*_line_starts(text, "```"), *_line_starts(text, "~~~")})
            if (m := _FENCE_AT.match(text, at)) is not None
        ]
        i = 0
        while i < len(fences):
            at, opening = fences[i]
            close = next(
                (
                    j
                    for j in range(i + 1, len(fences))
                    if fences[j][1][0] == opening[0] and len(fences[j][1]) >= len(opening)
                ),
                None,
            )
            if close is None:
                spans.append((at, len(text)))
                break
            line_end = text.find("\n", fences[close][0])
            spans.append((at, len(text) if line_end < 0 else line_end))
            i = close + 1
        if "`" in text:
            fenced = cls._build(spans)
            spans.extend(
                m.span() for m in _INLINE_CODE.finditer(text) if not fenced.covers(m.start())
            )
        return cls._build(spans)

    @classmethod
    def _build(cls, spans: list[tuple[int, int]]) -> CodeRegions:
        spans.sort()
        return cls(tuple(s for s, _ in spans), tuple(e for _, e in spans))

    def covers(self, pos: int) -> bool:
        """Whether ``pos`` lies inside a code region."""
        i = bisect.bisect_right(self.starts, pos) - 1
        return i >= 0 and pos < self.ends[i]
