"""Active content in an answer that a client may render as HTML.

:class:`HtmlGuard` removes what can run code or load content, and leaves the rest of
the markup as it is (it does not escape ``<`` in general: code and ordinary markup in
answers stay readable):

- whole elements, with their content, up to the closing tag or the end of the text:
  ``script``, ``style``, ``iframe``, ``object``, ``applet``, ``frameset``, ``noembed``,
  ``noframes``, ``template``; and the tags ``embed``, ``frame``, ``base``, ``meta``,
  ``link``. Each becomes ``[REDACTED:unsafe-html]``, never nothing, so that the text
  around a removed element cannot join into a new tag (``<scr<script></script>ipt>``);
- from every other tag: event-handler attributes (``on...``), ``srcdoc``, ``style``
  attributes holding ``expression(``, ``url(``, ``javascript:``, ``behavior:`` or
  ``-moz-binding``, and any attribute whose value (entities decoded, whitespace and
  control characters removed) starts with ``javascript:``, ``vbscript:`` or
  ``data:text/html``; the tag is rewritten without them;
- markdown links and images whose target uses one of those schemes become their text.

Fenced code blocks and inline code are left alone (markdown shows them as text);
``skip_code=False`` sanitises them too, for clients that render raw HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Iterator

from ramparts.guard.interface import Action, BaseGuard, FailMode, GuardContext, Hit, Role, Span
from ramparts.guard.markup import CodeRegions, lowered, md_links
from ramparts.privacy.interface import Claims

__all__ = ["PAIRED", "SINGLE", "HtmlGuard", "sanitize_tag"]

PAIRED = frozenset(
    {"script", "style", "iframe", "object", "applet", "frameset", "noembed", "noframes", "template"}
)
"""Elements removed with their content."""
SINGLE = frozenset({"embed", "frame", "base", "meta", "link"})
"""Tags removed on their own."""

_MARK = "[REDACTED:unsafe-html]"
_TAG = re.compile(
    r"<(?P<close>/?)(?P<name>[a-zA-Z][a-zA-Z0-9:-]*)(?P<attrs>(?:[\s/]+[^\s\"'>/=]+(?:\s*=\s*"
    r"(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)[\s/]*>?"
)
_ATTR = re.compile(r"(?P<name>[^\s\"'>/=]+)(?:\s*=\s*(?P<value>\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?")
_BAD_SCHEME = re.compile(r"^(?:javascript|vbscript|data:text/html)", re.IGNORECASE)
_BAD_STYLE = re.compile(r"expression\s*\(|url\s*\(|javascript:|behavior\s*:|-moz-binding", re.I)
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f]+")
_CLOSING = {name: re.compile(r"</" + name + r"\s*>") for name in PAIRED}


def _value_of(raw: str | None) -> str:
    if raw is None:
        return ""
    if raw[:1] in "\"'":
        raw = raw[1:-1]
    return _INVISIBLE.sub("", html.unescape(raw))


def _bad_attribute(name: str, raw: str | None) -> bool:
    name = name.lower()
    if name.startswith("on") or name == "srcdoc":
        return True
    value = _value_of(raw)
    if name == "style" and _BAD_STYLE.search(value):
        return True
    return bool(_BAD_SCHEME.match(value))


def sanitize_tag(tag: str, attrs: str) -> str | None:
    """The tag ``<tag attrs>`` without its dangerous attributes; ``None`` if it has none."""
    kept: list[str] = []
    removed = False
    for m in _ATTR.finditer(attrs):
        if _bad_attribute(m.group("name"), m.group("value")):
            removed = True
        else:
            kept.append(m.group())
    if not removed:
        return None
    return "<" + tag + "".join(" " + a for a in kept) + ">"


class HtmlGuard(BaseGuard):
    """Removes scripts, frames, event handlers and script URLs (code ``unsafe_html``)."""

    name = "html"
    default_action = Action.REDACT
    __slots__ = ("_roles", "_skip_code")

    def __init__(
        self,
        *,
        skip_code: bool = True,
        roles: Iterable[Role] = (Role.ASSISTANT,),
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        self._skip_code = skip_code
        self._roles = frozenset(roles)

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A hit with one span per element, tag or link made safe."""
        if ctx.role not in self._roles or ("<" not in text and "](" not in text):
            return None
        code = CodeRegions.of(text) if self._skip_code else CodeRegions((), ())
        taken = Claims()
        spans = [*_tag_spans(text, code, taken), *_link_spans(text, code, taken)]
        if not spans:
            return None
        spans.sort(key=lambda s: s.start)
        return Hit(
            "unsafe_html", f"{len(spans)} unsafe element(s) or attribute(s)", 1.0, tuple(spans)
        )


def _tag_spans(text: str, code: CodeRegions, taken: Claims) -> Iterator[Span]:
    """Spans removing dangerous elements and rewriting tags with dangerous attributes."""
    if "<" not in text:
        return
    low = lowered(text)
    pos = 0
    while (m := _TAG.search(text, pos)) is not None:
        pos = m.end()
        if code.covers(m.start()) or taken.overlaps(m.start(), m.end()):
            continue
        name = m.group("name").lower()
        if name in PAIRED and not m.group("close"):
            close = _CLOSING[name].search(low, m.end())
            pos = len(text) if close is None else close.end()
            span = Span(m.start(), pos, _MARK)
        elif name in SINGLE or name in PAIRED:
            span = Span(m.start(), m.end(), _MARK)
        elif m.group("attrs") and not m.group("close"):
            clean = sanitize_tag(m.group("name"), m.group("attrs"))
            if clean is None:
                continue
            span = Span(m.start(), m.end(), clean)
        else:
            continue
        taken.add(span.start, span.end)
        yield span


def _link_spans(text: str, code: CodeRegions, taken: Claims) -> Iterator[Span]:
    """Spans replacing markdown links and images with script targets by their text."""
    if "](" not in text:
        return
    for m in md_links(text):
        if code.covers(m.start()) or taken.overlaps(m.start(), m.end()):
            continue
        if _BAD_SCHEME.match(_value_of(m.group("url"))):
            taken.add(m.start(), m.end())
            yield Span(m.start(), m.end(), m.group("text") or _MARK)
