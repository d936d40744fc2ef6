"""Finding credentials in text: keyword prefilter, rule patterns, validators.

:class:`SecretDetector` runs every rule of :data:`~ramparts.privacy.secret_rules.RULES`
whose keyword occurs in the text (a substring test on the lower-cased text, so a
file without "aiza" never runs the Google rule), then drops what is not a credential:
documentation placeholders, environment and template references, values whose
checksum fails (GitHub tokens), malformed JWTs, and random-looking values too
uniform to be secrets. Where two rules match the same characters the earlier,
more specific rule wins.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import math
import re
import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ramparts.privacy.interface import Category, Claims, Detection, redaction_spans
from ramparts.privacy.secret_rules import RULES, SECRET_NAME, SecretRule

__all__ = [
    "SECRET_NAME",
    "SecretDetector",
    "github_checksum_ok",
    "looks_like_secret_value",
    "shannon_entropy",
]

_BASE62_DIGITS = "0123456789"
_BASE62_ORDERS = (
    _BASE62_DIGITS + "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    _BASE62_DIGITS + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
)

# Words that mark a value as an example, a template or a reference, not a secret.
_PLACEHOLDER_WORDS = (
    "example",
    "sample",
    "placeholder",
    "your_",
    "your-",
    "yourkey",
    "yourtoken",
    "yoursecret",
    "your_api",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "fake",
    "redacted",
    "xxxx",
    "****",
    "....",
    "<",
    ">",
    "${",
    "{{",
    "}}",
    "%s",
    "%(",
    "todo",
    "insert",
    "replace",
    "foobar",
    "notreal",
    "not-a-real",
    "not_a_real",
    "secret_here",
    "key_here",
    "token_here",
    "process.env",
    "os.environ",
    "getenv",
    "env(",
    "vault:",
    "secretref",
    "keyvault",
)
_REFERENCE = re.compile(
    r"^(?:\$\w+|\$\{[^}]*\}?|%\w+%|\w+\(|true$|false$|none$|null$"
    # Attribute access (self.key, settings.API_KEY, os.environ): a lower-case start.
    # Case matters here, or dotted tokens (Discord's) would read as attributes.
    r"|(?-i:[a-z_][a-z0-9_]*(?:\.[A-Za-z_]\w*)+$))",
    re.IGNORECASE,
)
_ENV_NAME = re.compile(r"^_*[A-Z][A-Z0-9_]{2,}$")  # OPENAI_API_KEY: a name, not a value
_IDENTIFIER = re.compile(r"^_*[a-z]+(?:[_\-.][a-z]+\d*)*$")
_GIT_SHA = re.compile(r"^[0-9a-f]{40}$")  # a commit id; hex keys of other sizes are kept
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_INTEGRITY = re.compile(r"^(?:sha(?:1|256|384|512)|md5)[-:=]", re.I)
_VERSIONISH = re.compile(r"^v?\d+(?:[._\-]\d+)+[\w.\-+]*$")
_PATHISH = re.compile(r"^(?:\.{0,2}|~)/|\.(?:py|json|ya?ml|txt|csv|pem|key|crt|env)$")


def shannon_entropy(value: str) -> float:
    """Bits per character of ``value``'s character distribution."""
    if not value:
        return 0.0
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in Counter(value).values())


def _base62(number: int, alphabet: str) -> str:
    digits = []
    while number:
        number, rem = divmod(number, 62)
        digits.append(alphabet[rem])
    return "".join(reversed(digits)).rjust(6, "0")


def github_checksum_ok(token: str) -> bool:
    """Whether a ``gh?_`` or ``npm_`` token's last six characters are the CRC32 of the rest.

    GitHub's token format (which npm adopted) ends in a base62 CRC32 of the random
    part. Both orders of the base62 alphabet in use are accepted; a random string
    passes by chance with a probability of about 2 in 56 billion.
    """
    prefix, _, body = token.partition("_")
    if len(body) != 36:
        return False
    random_part, checksum = body[:30], body[30:]
    for data in (random_part, f"{prefix}_{random_part}"):
        crc = zlib.crc32(data.encode()) & 0xFFFFFFFF
        if any(_base62(crc, alphabet) == checksum for alphabet in _BASE62_ORDERS):
            return True
    return False


def _b64json(segment: str) -> object:
    padded = segment + "=" * (-len(segment) % 4)
    try:
        return json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _jwt_ok(token: str) -> bool:
    header, payload, _ = token.split(".", 2)
    head = _b64json(header)
    return isinstance(head, dict) and "alg" in head and isinstance(_b64json(payload), dict)


_LONG = 100
"""Values this long (key blocks, session tokens) are random enough to hold any short
word or a run of one character by chance; only unmistakable stand-ins count there."""
_LONG_PLACEHOLDERS = ("EXAMPLE", "...", "<", "${", "{{", "xxxxxxxx", "XXXXXXXX")
_HEX = frozenset("0123456789abcdefABCDEF")


def _is_placeholder(value: str) -> bool:
    if len(value) >= _LONG:
        return any(word in value for word in _LONG_PLACEHOLDERS)
    low = value.lower()
    if any(word in low for word in _PLACEHOLDER_WORDS):
        return True
    # A run of one repeated character (000000, aaaaaa) is filler, not key material.
    return re.search(r"(.)\1{5,}", value) is not None


def _entropy_floor(value: str, floor: float) -> float:
    """Hex strings carry at most 4 bits a character; random 32-digit ones average 3.6."""
    return min(floor, 3.0) if set(value) <= _HEX else floor


# Passwords that documentation uses (SQLAlchemy's scott:tiger, "password", "changeme").
_DOC_PASSWORDS = frozenset({"pass", "pwd", "secret", "user", "admin", "root", "test", "guest"})
_DOC_PASSWORD_WORDS = ("tiger", "password", "passwd", "changeme", "example", "dummy", "foobar")


def _password_ok(value: str) -> bool:
    """A password in a URL or connection string that is a real value, not a stand-in."""
    low = value.lower()
    if low in _DOC_PASSWORDS or any(word in low for word in _DOC_PASSWORD_WORDS):
        return False
    if _REFERENCE.match(value) or _ENV_NAME.match(value) or _dotted_names(value):
        return False
    return not value.startswith(("$", "%", "{", "<", "*", "["))


_CODE_NAME = re.compile(
    r"_*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+|_+[A-Za-z0-9]+|_*[A-Z][a-z]+(?:[A-Z][a-z]+)*"
)


def _dotted_names(value: str) -> bool:
    """``Token.Name.Builtin``, ``CacheStats.NO_CACHE_KEY``: attribute access, not a value.

    Every dotted part must read as a name a person wrote; a dotted token whose parts
    are random (Discord's) is not one.
    """
    parts = value.split(".")
    return len(parts) > 1 and all(
        _ENV_NAME.match(part)
        or _IDENTIFIER.match(part)
        or (_CODE_NAME.fullmatch(part) and _few_caps(part))
        for part in parts
    )


def _few_caps(value: str) -> bool:
    letters = sum(c.isalpha() for c in value)
    upper = sum(c.isupper() for c in value)
    digits = sum(c.isdigit() for c in value)
    return upper < 0.3 * max(letters, 1) and digits < 0.1 * len(value)


_SECRET_WORD = re.compile(r"pass(?:word|wd)|secret|token|credential", re.IGNORECASE)


def _unquoted_name(value: str) -> bool:
    """An unquoted right-hand side that is a name in code: ``_CacheKeyType``, or one
    that itself says what it holds (``HTTPPasswordMgr``, ``SecretStr``)."""
    return _code_name(value) or bool(value.isidentifier() and _SECRET_WORD.search(value))


def _code_name(value: str) -> bool:
    """An unquoted value that reads as a name in code (``_CacheKeyType``, ``PGresult_ptr``).

    In source code an unquoted right-hand side is an expression, not a literal. Such a
    name has the shape of an identifier and few capitals or digits; random key material
    of the same alphabet has about 40% capitals or many digits.
    """
    return bool(_CODE_NAME.fullmatch(value)) and _few_caps(value)


_OWN_RULE_PREFIX = re.compile(r"^(?:gh[pousr]_|github_pat_|npm_)")
_KEY_EQUALS = re.compile(r"^[a-z_]{3,}=")


# Shapes that are names, references or identifiers of something else, not secrets.
_NOT_KEY_MATERIAL: tuple[Callable[[str], object], ...] = (
    _OWN_RULE_PREFIX.match,  # a GitHub token whose checksum failed was judged by its rule
    _KEY_EQUALS.match,  # "channel=__keyspace": a setting written in prose
    _REFERENCE.match,
    _ENV_NAME.match,
    _IDENTIFIER.match,
    _GIT_SHA.match,
    _UUID.match,
    _INTEGRITY.match,
    _VERSIONISH.match,
    _PATHISH.search,
    lambda v: v.startswith(("http", "/")),
    lambda v: "." in v and _dotted_names(v),
    lambda v: _CODE_NAME.fullmatch(v) and _few_caps(v),  # ClassName, PGresult_ptr
)


def _generic_ok(value: str) -> bool:
    """A value assigned to a secret-sounding name that looks like key material."""
    if any(test(value) for test in _NOT_KEY_MATERIAL):
        return False
    classes = sum(
        (
            any(c.islower() for c in value),
            any(c.isupper() for c in value),
            any(c.isdigit() for c in value),
            any(not c.isalnum() for c in value),
        )
    )
    return classes >= 2


def looks_like_secret_value(value: str) -> bool:
    """Whether a bare value (no name beside it) has the shape of key material.

    Used where the context names the secret elsewhere, such as a notebook output
    printing ``os.environ["API_KEY"]``: random enough, not a placeholder, reference,
    digest, UUID, version or path.
    """
    if not 8 <= len(value) <= 512 or any(c.isspace() for c in value):
        return False
    if _is_placeholder(value) or shannon_entropy(value) < _entropy_floor(value, 3.0):
        return False
    return _generic_ok(value)


_CHECKS: dict[str, Callable[[str], bool]] = {
    "": lambda _: True,
    "github-checksum": github_checksum_ok,
    "jwt": _jwt_ok,
    "url-password": _password_ok,
    "generic": _generic_ok,
}


class _KeywordLines:
    """Where each keyword occurs in a text (the prefilter).

    A rule runs only on the lines that hold one of its keywords, so a frequent word
    such as "token" costs a few short regex searches rather than a pass over the file;
    an anchored rule is tried only where the word holding a keyword starts.
    """

    def __init__(self, low: str, automaton: Any = None) -> None:
        self._low = low
        self._cache: dict[str, list[tuple[int, int, int]]] = {}
        self.present: frozenset[str] | None = None
        """With the automaton: every keyword that occurs (a rule with none of its
        keywords here is skipped without building its windows)."""
        if automaton is not None:
            self._all_at_once(automaton)
            self.present = frozenset(self._cache)

    def _all_at_once(self, automaton: Any) -> None:
        """Every keyword's hits in one Aho-Corasick pass (instead of one search each).

        Only keywords that occur get an entry (a text holds a few of the ~140), and each
        one's hits come in order of position, as the automaton reports them by end.
        """
        low, cache = self._low, self._cache
        line_start, line_end = 0, -1
        for end, word in automaton.iter(low):
            pos = end - len(word) + 1
            if not line_start <= pos <= line_end:  # not on the previous hit's line
                line_start = low.rfind("\n", 0, pos) + 1
                found = low.find("\n", pos)
                line_end = len(low) if found < 0 else found
            hits = cache.get(word)
            if hits is None:
                cache[word] = hits = []
            hits.append((pos, line_start, line_end))

    def _hits(self, word: str) -> list[tuple[int, int, int]]:
        """``(position, line start, line end)`` of every occurrence of ``word``."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        if self.present is not None:
            return []  # the automaton found every keyword that occurs
        low, hits = self._low, []
        pos = low.find(word)
        while pos >= 0:
            start = low.rfind("\n", 0, pos) + 1
            end = low.find("\n", pos)
            end = len(low) if end < 0 else end
            hits.append((pos, start, end))
            pos = low.find(word, pos + len(word))
        self._cache[word] = hits
        return hits

    def windows(self, words: tuple[str, ...]) -> list[tuple[int, int]]:
        """Sorted, distinct line spans holding any of ``words``; empty if none does."""
        return sorted({(start, end) for word in words for _, start, end in self._hits(word)})

    def anchors(self, words: tuple[str, ...]) -> list[tuple[int, int]]:
        """Sorted, distinct (word start, line end) of the words holding ``words``."""
        low, found = self._low, set()
        for word in words:
            for hit, line_start, line_end in self._hits(word):
                first, start = max(line_start, hit - _MAX_NAME_PREFIX), hit
                while start > first and (low[start - 1].isalnum() or low[start - 1] == "_"):
                    start -= 1
                found.add((start, line_end))
        return sorted(found)


_MAX_NAME_PREFIX = 30
"""Characters of a name that may precede its keyword (``training_db_password``)."""


def _lowered(text: str) -> str:
    """``text`` in lower case with every character at its original offset."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # A few characters lower-case to two ('İ'); keep those as they are.
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def _automaton(words: set[str]) -> Any:
    """An Aho-Corasick automaton of ``words`` (pyahocorasick), or ``None`` without it:
    the prefilter then searches for each keyword in turn, with the same results."""
    try:
        import ahocorasick  # noqa: PLC0415
    except ImportError:
        return None
    automaton = ahocorasick.Automaton()
    for word in sorted(words):
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


class _Compiled:
    __slots__ = ("check", "regex", "rule")

    def __init__(self, rule: SecretRule) -> None:
        self.rule = rule
        self.regex = re.compile(rule.pattern)
        self.check = _CHECKS[rule.check]


class SecretDetector:
    """Credentials in text, by the rules given (default: every built-in rule)."""

    def __init__(self, rules: Iterable[SecretRule] = RULES) -> None:
        self._rules = [_Compiled(rule) for rule in rules]
        self._automaton = _automaton({w for c in self._rules for w in c.rule.keywords})
        self._by_word: dict[str, list[int]] = {}
        """Each keyword's rules (positions in priority order): with the automaton, only
        the rules of the keywords a text holds are looked at."""
        for position, compiled in enumerate(self._rules):
            for word in compiled.rule.keywords:
                self._by_word.setdefault(word, []).append(position)

    @property
    def rules(self) -> tuple[SecretRule, ...]:
        """The rules this detector runs, in priority order."""
        return tuple(c.rule for c in self._rules)

    def detect(self, text: str) -> list[Detection]:
        """Every credential in ``text``, ordered by position, overlaps resolved."""
        lines = _KeywordLines(_lowered(text), self._automaton)
        present = lines.present
        if present is not None and not present:
            return []  # no rule's keyword occurs: the common case of ordinary text
        found: list[Detection] = []
        taken = Claims(redaction_spans(text))
        candidates = (
            self._rules
            if present is None
            else [self._rules[i] for i in sorted({i for w in present for i in self._by_word[w]})]
        )
        for compiled in candidates:
            rule = compiled.rule
            windows = lines.windows(rule.keywords)
            if not windows:
                continue
            if rule.multiline:
                matches: Iterable[re.Match[str] | None] = compiled.regex.finditer(text)
            elif rule.anchored:
                matches = (
                    compiled.regex.match(text, start, end)
                    for start, end in lines.anchors(rule.keywords)
                )
            else:
                matches = itertools.chain.from_iterable(
                    compiled.regex.finditer(text, start, end) for start, end in windows
                )
            for match in matches:
                if match is None:
                    continue
                group = "s" if match.group("s") is not None else "s2"
                value = match.group(group)
                if not value:
                    continue
                start, end = match.span(group)
                if taken.overlaps(start, end):
                    continue
                quoted = start > 0 and text[start - 1] in "\"'`"
                if not self._accept(compiled, value, quoted=quoted):
                    continue
                taken.add(start, end)
                found.append(
                    Detection(
                        rule_id=rule.rule_id,
                        kind=rule.kind,
                        title=rule.title,
                        category=Category.SECRET,
                        start=start,
                        end=end,
                        value=value,
                        severity=rule.severity,
                        confidence=rule.confidence,
                    )
                )
        found.sort(key=lambda d: d.start)
        return found

    @staticmethod
    def _accept(compiled: _Compiled, value: str, *, quoted: bool) -> bool:
        rule = compiled.rule
        if rule.check == "generic" and not quoted and _unquoted_name(value):
            return False
        if rule.placeholders and _is_placeholder(value):
            return False
        if rule.min_entropy and shannon_entropy(value) < _entropy_floor(value, rule.min_entropy):
            return False
        return compiled.check(value)
