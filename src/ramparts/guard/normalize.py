"""Normalisation before detection: the views of a text that detectors inspect.

The text forwarded upstream is never changed here; detectors look at views of it in
which the usual evasions are undone:

1. **Bounded input.** A text longer than :data:`MAX_INSPECTED` characters is inspected
   as its first half-budget, its last quarter-budget and
   :data:`MIDDLE_SAMPLES` evenly spaced windows of the middle (:func:`inspected`);
   put a size guard in front (code ``input_too_large``) to inspect every character.
2. **Folding** (:func:`fold`, only for text that is not pure ASCII): tag characters
   (U+E0000..U+E007F) are decoded to the ASCII they smuggle, set apart by spaces;
   compatibility normalisation (NFKC's mappings: fullwidth and mathematical letters,
   ligatures); diacritics removed (so ``précédentes`` reads ``precedentes``);
   invisible characters removed (zero-width U+200B..U+200F, word joiners
   U+2060..U+2064, U+FEFF, soft hyphen, bidirectional controls); Cyrillic, Greek and
   Armenian look-alikes folded to the Latin letters they imitate (:data:`HOMOGLYPHS`).
3. **Spaced-out letters** collapsed (:func:`collapse_spaced`): ``i g n o r e``,
   ``i.g.n.o.r.e`` and ``i-g-n-o-r-e`` read ``ignore``; a longer gap between letter runs
   stays a word break, so ``i g n o r e  a l l`` reads ``ignore  all``.
4. **Decoded payloads** as extra views (:func:`decode_payloads`): base64 (standard and
   URL-safe) and hex tokens of plausible length whose decoding is mostly printable
   UTF-8, at most :data:`MAX_PAYLOADS` of them and :data:`MAX_DECODED` characters in
   all, decoded twice at most (base64 inside base64); and the ROT13 of the folded text.

Every step is linear in the inspected length: no regular expression here backtracks
more than a constant per character.
"""

from __future__ import annotations

import binascii
import functools
import re
import unicodedata

from ramparts.core.records import record

__all__ = [
    "HOMOGLYPHS",
    "INVISIBLE",
    "MAX_DECODED",
    "MAX_INSPECTED",
    "MAX_PAYLOADS",
    "MIDDLE_SAMPLES",
    "Normalized",
    "View",
    "collapse_spaced",
    "decode_payloads",
    "fold",
    "inspected",
    "normalize",
    "rot13",
    "strip_invisible",
]

MAX_INSPECTED = 128 * 1024
"""Characters of a text inspected in full; longer texts are sampled (see :func:`inspected`)."""
MIDDLE_SAMPLES = 16
"""Windows of the middle inspected in a text longer than :data:`MAX_INSPECTED`."""
MAX_PAYLOADS = 32
"""Encoded tokens decoded per text, at most."""
MAX_DECODED = 64 * 1024
"""Characters of decoded payloads kept per text, at most."""

INVISIBLE = frozenset(
    [
        *range(0x200B, 0x2010),  # zero-width space, (non-)joiner, LRM, RLM
        *range(0x2060, 0x2065),  # word joiner, invisible operators
        0xFEFF,  # zero-width no-break space (BOM)
        0x00AD,  # soft hyphen
        0x180E,  # Mongolian vowel separator
        *range(0x202A, 0x202F),  # bidirectional embeddings and overrides
        *range(0x2066, 0x206A),  # bidirectional isolates
    ]
)
"""Code points removed from every view: they render as nothing."""

HOMOGLYPHS: dict[str, str] = {
    # Cyrillic, lower case.
    "\u0430": "a",  # cyrillic small letter a
    "\u044c": "b",  # cyrillic small letter soft sign
    "\u0441": "c",  # cyrillic small letter es
    "\u0501": "d",  # cyrillic small letter komi de
    "\u0435": "e",  # cyrillic small letter ie
    "\u04bd": "e",  # cyrillic small letter abkhasian che
    "\u0433": "r",  # cyrillic small letter ghe
    "\u04bb": "h",  # cyrillic small letter shha
    "\u0456": "i",  # cyrillic small letter byelorussian-ukrainian i
    "\u0458": "j",  # cyrillic small letter je
    "\u043a": "k",  # cyrillic small letter ka
    "\u04cf": "l",  # cyrillic small letter palochka
    "\u043c": "m",  # cyrillic small letter em
    "\u043e": "o",  # cyrillic small letter o
    "\u0440": "p",  # cyrillic small letter er
    "\u051b": "q",  # cyrillic small letter qa
    "\u0455": "s",  # cyrillic small letter dze
    "\u0442": "t",  # cyrillic small letter te
    "\u0475": "v",  # cyrillic small letter izhitsa
    "\u051d": "w",  # cyrillic small letter we
    "\u0461": "w",  # cyrillic small letter omega
    "\u0445": "x",  # cyrillic small letter ha
    "\u0443": "y",  # cyrillic small letter u
    "\u04af": "y",  # cyrillic small letter straight u
    # Cyrillic, upper case.
    "\u0410": "A",  # cyrillic capital letter a
    "\u0412": "B",  # cyrillic capital letter ve
    "\u0421": "C",  # cyrillic capital letter es
    "\u0415": "E",  # cyrillic capital letter ie
    "\u041d": "H",  # cyrillic capital letter en
    "\u0406": "I",  # cyrillic capital letter byelorussian-ukrainian i
    "\u04c0": "I",  # cyrillic letter palochka
    "\u0408": "J",  # cyrillic capital letter je
    "\u041a": "K",  # cyrillic capital letter ka
    "\u041c": "M",  # cyrillic capital letter em
    "\u041e": "O",  # cyrillic capital letter o
    "\u0420": "P",  # cyrillic capital letter er
    "\u051a": "Q",  # cyrillic capital letter qa
    "\u0405": "S",  # cyrillic capital letter dze
    "\u0422": "T",  # cyrillic capital letter te
    "\u051c": "W",  # cyrillic capital letter we
    "\u0425": "X",  # cyrillic capital letter ha
    "\u0423": "Y",  # cyrillic capital letter u
    "\u04ae": "Y",  # cyrillic capital letter straight u
    # Greek.
    "\u03b1": "a",  # greek small letter alpha
    "\u03b5": "e",  # greek small letter epsilon
    "\u03b9": "i",  # greek small letter iota
    "\u03ba": "k",  # greek small letter kappa
    "\u03bd": "v",  # greek small letter nu
    "\u03bf": "o",  # greek small letter omicron
    "\u03c1": "p",  # greek small letter rho
    "\u03c4": "t",  # greek small letter tau
    "\u03c5": "u",  # greek small letter upsilon
    "\u03c7": "x",  # greek small letter chi
    "\u03b3": "y",  # greek small letter gamma
    "\u03c9": "w",  # greek small letter omega
    "\u03f2": "c",  # greek lunate sigma symbol
    "\u03f3": "j",  # greek letter yot
    "\u0391": "A",  # greek capital letter alpha
    "\u0392": "B",  # greek capital letter beta
    "\u0395": "E",  # greek capital letter epsilon
    "\u0396": "Z",  # greek capital letter zeta
    "\u0397": "H",  # greek capital letter eta
    "\u0399": "I",  # greek capital letter iota
    "\u039a": "K",  # greek capital letter kappa
    "\u039c": "M",  # greek capital letter mu
    "\u039d": "N",  # greek capital letter nu
    "\u039f": "O",  # greek capital letter omicron
    "\u03a1": "P",  # greek capital letter rho
    "\u03a4": "T",  # greek capital letter tau
    "\u03a5": "Y",  # greek capital letter upsilon
    "\u03a7": "X",  # greek capital letter chi
    # Armenian and Latin variants.
    "\u0585": "o",  # armenian small letter oh
    "\u057d": "u",  # armenian small letter seh
    "\u0578": "n",  # armenian small letter vo
    "\u0570": "h",  # armenian small letter ho
    "\u0581": "g",  # armenian small letter co
    "\u0251": "a",  # latin small letter alpha
    "\u0261": "g",  # latin small letter script g
    "\u0269": "i",  # latin small letter iota
    "\u0131": "i",  # latin small letter dotless i
    "\u0237": "j",  # latin small letter dotless j
    "\u01c0": "l",  # latin letter dental click
}
"""Look-alikes of Latin letters (after the Unicode confusables data), folded to them."""

# Blocks of combining marks stripped after decomposition (diacritics, Zalgo text).
_MARK_BLOCKS = (
    (0x0300, 0x0370),
    (0x0483, 0x048A),
    (0x0591, 0x05C8),
    (0x0610, 0x061B),
    (0x064B, 0x0660),
    (0x1AB0, 0x1B00),
    (0x1DC0, 0x1E00),
    (0x20D0, 0x2100),
    (0xFE20, 0xFE30),
)


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = dict.fromkeys(INVISIBLE)
    for low, high in _MARK_BLOCKS:
        for cp in range(low, high):
            if unicodedata.category(chr(cp)) == "Mn":
                table[cp] = None
    table.update({ord(k): v for k, v in HOMOGLYPHS.items()})
    return table


_FOLD = _fold_table()
_INVISIBLE_RE = re.compile("[" + "".join(f"\\u{cp:04x}" for cp in sorted(INVISIBLE)) + "]")
_TAG_RUN = re.compile("[\U000e0000-\U000e007f]+")
# On UTF-8 bytes: the bytes of other characters are all above 0x7F and left alone.
_ROT13 = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")

# A run of at least three single letters (or digits) with one separator between each
# (the same separator throughout, one to three of space . - _ * | ~ / +); not the "s" of
# "it's", which stands alone but is no spaced-out letter.
_SPACED = re.compile(
    r"(?<![^\W_])(?<!['\u2019])[^\W_](?P<sep>[ ._*|~/+\-]{1,3})(?:[^\W_](?P=sep))+[^\W_](?![^\W_])"
)
_BASE64 = re.compile(r"(?<![A-Za-z0-9+/=_-])[A-Za-z0-9+/_-]{16,}={0,2}(?![A-Za-z0-9+/=_-])")
_HEX = re.compile(
    r"(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){8,}(?![0-9A-Fa-f])"
    r"|(?:\\x[0-9A-Fa-f]{2}){8,}"
    r"|(?<![0-9A-Fa-f])[0-9A-Fa-f]{2}(?:[ :,][0-9A-Fa-f]{2}){7,}(?![0-9A-Fa-f])"
)
_MAX_TOKEN = 16 * 1024
_PRINTABLE_SHARE = 0.9


def _shape_table(default: bytes = b".", **classes: bytes) -> bytes:
    """A ``bytes.translate`` table sending each byte of a class to the class's letter."""
    table = bytearray(default * 256)
    for letter, members in classes.items():
        for byte in members:
            table[byte] = ord(letter)
    return bytes(table)


_ALNUM = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
# Cheap prefilters: a text's bytes mapped to classes, searched for the shortest shape
# that the regular expression needs (most texts have none, and skip the regex).
_SPACED_SHAPE = _shape_table(b"o", a=_ALNUM + bytes(range(0xC0, 0x100)), s=b" ._*|~/+-")
_CONTINUATION = bytes(range(0x80, 0xC0))
_BASE64_SHAPE = _shape_table(b=_ALNUM + b"+/_-")
_HEX_SHAPE = _shape_table(h=b"0123456789ABCDEFabcdef", s=b" :,")
# Three single letters in a row: not a letter, a letter, a separator (one to three
# characters), a letter, the separator again, a letter.
_SPACED_NEEDS = tuple(
    edge + core for edge in (b"s", b"o") for core in (b"asasa", b"assassa", b"asssasssa")
)
_BASE64_NEEDS = b"b" * 16
_HEX_NEEDS = (b"h" * 16, b"hh" + b"shh" * 7)


def _ascii(text: str) -> bytes:
    """``text`` as ASCII bytes, one per character (others become ``?``)."""
    return text.encode("ascii", "replace")


@record
class View:
    """One way of reading a text: ``name`` says which (``text``, ``decoded``, ``rot13``)."""

    name: str
    text: str


@record
class Normalized:
    """The views of a text that detectors inspect; :attr:`text` is the primary one."""

    original: str
    views: tuple[View, ...]

    @property
    def text(self) -> str:
        """The primary view: folded, spaced-out letters collapsed."""
        return self.views[0].text

    @property
    def unchanged(self) -> bool:
        """Whether the primary view is the original text itself (offsets carry over)."""
        return self.views[0].text == self.original


def inspected(text: str, limit: int = MAX_INSPECTED) -> str:
    """``text``, or for a longer text its first ``limit/2`` characters, evenly spaced
    windows of the middle (:data:`MIDDLE_SAMPLES` of them, ``limit/4`` in all) and its
    last ``limit/4`` characters, joined by newlines."""
    if len(text) <= limit:
        return text
    head, tail = limit // 2, limit // 4
    middle_start, middle_end = head, len(text) - tail
    width = max(1, (limit - head - tail) // MIDDLE_SAMPLES)
    step = (middle_end - middle_start) // MIDDLE_SAMPLES
    samples = [
        text[middle_start + i * step : middle_start + i * step + width]
        for i in range(MIDDLE_SAMPLES)
    ]
    return "\n".join([text[:head], *samples, text[middle_end:]])


def _untag(match: re.Match[str]) -> str:
    decoded = "".join(chr(ord(c) - 0xE0000) for c in match.group() if 0xE0020 <= ord(c) <= 0xE007E)
    return f" {decoded} " if decoded else ""


def fold(text: str) -> str:
    """``text`` with tag characters decoded, compatibility forms and look-alikes folded to
    plain letters, diacritics and invisible characters removed (ASCII text is returned as
    it is)."""
    if text.isascii():
        return text
    if _TAG_RUN.search(text):
        text = _TAG_RUN.sub(_untag, text)
    # Decomposition and the table touch only non-ASCII characters (marks reorder only
    # among themselves), so runs of them are folded on their own: much faster than the
    # whole text through str.translate.
    return _NON_ASCII_RUN.sub(_fold_run, text)


def _fold_run(match: re.Match[str]) -> str:
    return unicodedata.normalize("NFKD", match.group()).translate(_FOLD)


def _join_spaced(match: re.Match[str]) -> str:
    return match.group().replace(match.group("sep"), "")


def collapse_spaced(text: str) -> str:
    """``text`` with runs of single spaced-out letters joined into words."""
    # UTF-8 without continuation bytes: one byte per character, every other character
    # read as a letter (the prefilter may only say yes too often, never too rarely).
    shape = b"s" + text.encode("utf-8", "surrogatepass").translate(_SPACED_SHAPE, _CONTINUATION)
    if not any(needle in shape for needle in _SPACED_NEEDS):
        return text
    return _SPACED.sub(_join_spaced, text)


def rot13(text: str) -> str:
    """``text`` with ASCII letters rotated by 13 places."""
    return text.encode("utf-8", "surrogatepass").translate(_ROT13).decode("utf-8", "surrogatepass")


def strip_invisible(text: str) -> tuple[str, list[int] | None]:
    """``text`` without invisible characters and tag characters, and where each kept
    character stood in ``text`` (``None`` when nothing was removed)."""
    if text.isascii() or not (_INVISIBLE_RE.search(text) or _TAG_RUN.search(text)):
        return text, None
    kept = [
        i
        for i, c in enumerate(text)
        if ord(c) not in INVISIBLE and not 0xE0000 <= ord(c) <= 0xE007F
    ]
    return "".join(text[i] for i in kept), kept


def _printable(decoded: bytes) -> str | None:
    try:
        text = decoded.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text:
        return None
    shown = sum(1 for c in text if c.isprintable() or c in "\n\r\t")
    return text if shown >= _PRINTABLE_SHARE * len(text) else None


def _from_base64(token: str) -> str | None:
    # Text of 12 or more bytes in base64 mixes cases; identifiers (snake_case, all
    # lower) do not, and are not worth decoding.
    if token.islower() or token.isupper() or len(token.rstrip("=")) % 4 == 1:
        return None
    body = token.rstrip("=").replace("-", "+").replace("_", "/")[:_MAX_TOKEN]
    try:
        raw = binascii.a2b_base64(body + "=" * (-len(body) % 4))
    except binascii.Error:
        return None
    return _printable(raw)


def _from_hex(token: str) -> str | None:
    digits = re.sub(r"\\x|[ :,]", "", token)[:_MAX_TOKEN]
    try:
        raw = bytes.fromhex(digits[: len(digits) - len(digits) % 2])
    except ValueError:
        return None
    return _printable(raw)


def decode_payloads(text: str, *, depth: int = 2) -> list[str]:
    """The base64 and hex payloads of ``text`` that decode to mostly printable text
    (bounded: :data:`MAX_PAYLOADS` tokens, :data:`MAX_DECODED` characters)."""
    found: list[str] = []
    budget = MAX_DECODED
    queue = [text]
    for _ in range(depth):
        next_queue: list[str] = []
        for source in queue:
            raw = _ascii(source)
            scans = []
            if _BASE64_NEEDS in raw.translate(_BASE64_SHAPE):
                scans.append((_BASE64, _from_base64))
            hexes = raw.translate(_HEX_SHAPE)
            if b"\\x" in raw or any(needle in hexes for needle in _HEX_NEEDS):
                scans.append((_HEX, _from_hex))
            for pattern, decoder in scans:
                for match in pattern.finditer(source):
                    if len(found) >= MAX_PAYLOADS or budget <= 0:
                        return found
                    decoded = decoder(match.group())
                    if decoded is None:
                        continue
                    decoded = decoded[:budget]
                    budget -= len(decoded)
                    found.append(decoded)
                    next_queue.append(decoded)
        queue = next_queue
        if not queue:
            break
    return found


@functools.lru_cache(maxsize=32)
def normalize(text: str) -> Normalized:
    """The views of ``text`` that detectors inspect (cached: guards of one chain share it).

    The first view (``text``) is the folded, collapsed text; ``decoded`` joins the
    decoded payloads (folded and collapsed in turn); ``rot13`` is the ROT13 of the
    first view, inspected in case the text asks the model to decode it.
    """
    folded = fold(inspected(text))
    primary = collapse_spaced(folded)
    views = [View("text", primary)]
    payloads = decode_payloads(folded)
    if payloads:
        views.append(View("decoded", collapse_spaced(fold("\n".join(payloads)))))
    views.append(View("rot13", rot13(primary)))
    return Normalized(text, tuple(views))
