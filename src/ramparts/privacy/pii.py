"""Personal data in text and in table cells: typed, validated, located.

Recognizers run most-certain first and claim what they match, so a card number is
never also a phone number and an NHS number never a phone number either:

1. values with a checksum or a strict structure: email, Ethereum (EIP-55) and
   Bitcoin (Base58Check, Bech32) addresses, IBAN (mod-97 and the country's length),
   payment cards (Luhn and a current issuer range, Mastercard 2221-2720 included;
   published test numbers excluded), US SSN (area, group and serial rules), UK NINO
   (prefix rules), MAC, IPv6, IPv4;
2. values that need their label: NHS numbers (mod-11), dates of birth, passport and
   medical record numbers after words that name them;
3. addresses (US and UK shapes), person names (a known first name and a capitalised
   word, an honorific, or a "name" label);
4. phone numbers last, confirmed by the ``phonenumbers`` library.

Tables get the same recognizers cell by cell, with the column's header as the label:
a ``dob`` column makes its dates dates of birth, a ``version`` column keeps
``4.31.24.13`` from being an IP address. :func:`column_hint` reads headers.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator
from typing import Any

from ramparts.core.records import record
from ramparts.privacy.checksums import (
    base58check_ok,
    bech32_ok,
    eip55_ok,
    iban_ok,
    luhn_ok,
    nhs_ok,
)
from ramparts.privacy.interface import Category, Claims, Detection, redaction_spans
from ramparts.privacy.lexicon import FIRST_NAMES, NAME_STOPWORDS, STREET_SUFFIXES, US_STATES

__all__ = ["KINDS", "PiiDetector", "PiiKind", "column_hint", "pii_detection"]


@record
class PiiKind:
    """One kind of personal data: its report title, severity and sensitivity class."""

    kind: str
    title: str
    severity: str
    sensitivity: str
    """``restricted`` (identifiers that enable fraud), ``confidential`` or ``internal``."""
    basis: str = ""
    """What confirmed the value, for the report."""

    @property
    def rule_id(self) -> str:
        """The report's rule id, e.g. ``RMP-PII-CREDIT-CARD``."""
        return "RMP-PII-" + self.kind.upper()


KINDS: dict[str, PiiKind] = {
    k.kind: k
    for k in (
        PiiKind(
            "credit-card",
            "payment card number",
            "high",
            "restricted",
            "Luhn check and a current issuer range",
        ),
        PiiKind(
            "iban",
            "bank account number (IBAN)",
            "high",
            "restricted",
            "mod-97 check and the country's IBAN length",
        ),
        PiiKind(
            "us-ssn",
            "US social security number",
            "high",
            "restricted",
            "area, group and serial rules",
        ),
        PiiKind(
            "uk-nino", "UK national insurance number", "high", "restricted", "HMRC prefix rules"
        ),
        PiiKind(
            "uk-nhs-number",
            "UK NHS number",
            "high",
            "restricted",
            "mod-11 check digit and its label",
        ),
        PiiKind("passport-number", "passport number", "high", "restricted", "its label"),
        PiiKind(
            "medical-record-number", "medical record number", "high", "restricted", "its label"
        ),
        PiiKind(
            "date-of-birth", "date of birth", "medium", "confidential", "a date with its label"
        ),
        PiiKind(
            "postal-address",
            "postal address",
            "medium",
            "confidential",
            "street, town and postcode shape",
        ),
        PiiKind(
            "person-name",
            "person's name",
            "medium",
            "confidential",
            "a known first name, an honorific or its label",
        ),
        PiiKind(
            "phone-number",
            "phone number",
            "medium",
            "confidential",
            "phone numbering plans (phonenumbers)",
        ),
        PiiKind("email", "email address", "medium", "confidential", "address syntax"),
        PiiKind(
            "bitcoin-address",
            "Bitcoin address",
            "medium",
            "confidential",
            "Base58Check or Bech32 checksum",
        ),
        PiiKind(
            "ethereum-address", "Ethereum address", "medium", "confidential", "EIP-55 checksum"
        ),
        PiiKind(
            "ipv4", "IPv4 address", "low", "internal", "address syntax (reserved ranges excluded)"
        ),
        PiiKind("ipv6", "IPv6 address", "low", "internal", "address syntax"),
        PiiKind("mac-address", "MAC address", "low", "internal", "hardware address syntax"),
    )
}
"""Every kind of personal data the detector reports, by name."""

# Published test numbers of card networks and payment providers: test data, not people.
_TEST_CARDS = frozenset(
    """
    4111111111111111 4242424242424242 4012888888881881 4000056655665556 5555555555554444
    5105105105105100 2223003122003222 378282246310005 371449635398431 6011111111111117
    6011000990139424 3530111333300000 3566002020360505 30569309025904 38520000023237
    4222222222222 4000000000000002 5200828282828210
    """.split()  # noqa: SIM905 - a list of numbers reads best as text
)
_SSN_SAMPLES = frozenset({"078051120", "219099999", "123456789"})
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:19|20)\d{2}|(?:19|20)\d{2}-\d{1,2}-\d{1,2}"
    r"|\d{1,2}(?:st|nd|rd|th)? " + _MONTHS + r",? (?:19|20)\d{2}"
    r"|" + _MONTHS + r" \d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d{2})"
)
_DATE_RE = re.compile(_DATE, re.IGNORECASE)
_UPPER = "A-ZÀ-ÖØ-Þ"
_LOWER = "a-zß-öø-ÿĀ-ž"
_CAP = "[" + _UPPER + "][" + _LOWER + "]+(?:[-'][" + _UPPER + "]?[" + _LOWER + "]+)?"


def _card_ok(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    if not 13 <= len(digits) <= 19 or not digits.isdigit() or digits in _TEST_CARDS:
        return False
    if len(set(digits)) < 4 or not luhn_ok(digits):
        return False
    return _issuer(digits, len(digits))


def _issuer(d: str, n: int) -> bool:
    """Whether the number sits in a current issuer range of its length."""
    two, four, six = int(d[:2]), int(d[:4]), int(d[:6])
    return (
        (d[0] == "4" and n in (13, 16, 19))
        or (51 <= two <= 55 and n == 16)
        or (2221 <= four <= 2720 and n == 16)
        or (two in (34, 37) and n == 15)
        or ((four == 6011 or 644 <= int(d[:3]) <= 649 or two == 65) and n in (16, 19))
        or (622126 <= six <= 622925 and n in (16, 19))
        or (3528 <= four <= 3589 and 16 <= n <= 19)
        or ((two in (36, 38, 39) or 300 <= int(d[:3]) <= 305) and 14 <= n <= 19)
        or (two == 62 and 16 <= n <= 19)
    )


def _ssn_ok(value: str) -> bool:
    digits = re.sub(r"[ -]", "", value)
    if len(digits) != 9 or not digits.isdigit() or digits in _SSN_SAMPLES:
        return False
    seps = set(re.findall(r"[ -]", value))
    if len(seps) > 1:
        return False
    area, group, serial = digits[:3], digits[3:5], digits[5:]
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


def _nino_ok(value: str) -> bool:
    v = value.replace(" ", "").upper()
    return len(v) == 9 and v[:2] not in _NINO_BAD_PREFIXES


def _ipv4_ok(value: str) -> bool:
    try:
        ip = ipaddress.IPv4Address(value)
    except ValueError:
        return False
    # Not a host anyone owns: unspecified, loopback, link-local (the cloud metadata
    # address), multicast, reserved, or a netmask.
    return not (
        ip.is_unspecified
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or value.startswith("255.")
    )


def _ipv6_ok(value: str) -> bool:
    if value.count(":") < 2 or value in ("::", "::1"):
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def _btc_ok(value: str) -> bool:
    return bech32_ok(value) if value[:3].lower() == "bc1" else base58check_ok(value)


def _email_ok(value: str) -> bool:
    domain = value.rsplit("@", 1)[-1].lower()
    return not domain.endswith(("example.com", "example.org", "example.net", ".invalid", ".test"))


def _name_ok(value: str) -> bool:
    words = value.split()
    if not 2 <= len(words) <= 4:
        return False
    return not any(w.lower().strip(".,") in NAME_STOPWORDS for w in words)


def _true(_: str) -> bool:
    return True


@record
class _Recognizer:
    kind: str
    pattern: re.Pattern[str]
    check: Callable[[str], bool] = _true
    needs: str = ""
    """Characters of which one must occur in the text (a cheap prefilter)."""


def _r(
    kind: str, pattern: str, check: Callable[[str], bool] = _true, needs: str = "", flags: int = 0
) -> _Recognizer:
    return _Recognizer(kind, re.compile(pattern, flags), check, needs)


# A value ends where its alphabet ends; a sentence's full stop may follow it.
_END = r"(?![\w-])(?!\.\w)"
_LABEL_GAP = r"(?i:\s*(?:number|no\.?|num|#|id))?(?i:\s*(?:is|was|:|=|-))?\s*[\"'`]?"
_NAME_CONTEXT = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Dr|Prof)\.? |(?i:(?:(?:full|patient|customer|employee|my|contact|"
    r"account) )?name(?: is)?|patient|customer|employee|contact|owner|on call|assignee|"
    r"reviewer|author|payee|recipient|attn|dear|signed|sincerely|regards|from|by)"
    r"\s*[:=,-]?\s*[\"'`]?)"
)

_TEXT_RECOGNIZERS: tuple[_Recognizer, ...] = (
    _r(
        "email",
        r"(?<![\w.+-])(?P<v>[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@[A-Za-z0-9-]+"
        r"(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24})(?![\w-])",
        _email_ok,
        "@",
    ),
    _r("ethereum-address", r"(?<![\w])(?P<v>0x[0-9a-fA-F]{40})(?![0-9a-fA-F])", eip55_ok, "x"),
    _r(
        "bitcoin-address",
        r"(?<![\w])(?P<v>[13][1-9A-HJ-NP-Za-km-z]{25,34}"
        r"|(?:bc1|BC1)[02-9ac-hj-np-zAC-HJ-NP-Z]{11,71})(?![\w])",
        _btc_ok,
    ),
    _r(
        "iban",
        r"(?<![\w])(?P<v>[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)" + _END,
        iban_ok,
    ),
    _r(
        "credit-card",
        r"(?<![\w.-])(?P<v>\d{4}(?:[ -]?\d{4}){2}[ -]?\d{1,7}|\d{4}[ -]?\d{6}[ -]?\d{4,5})" + _END,
        _card_ok,
    ),
    _r("us-ssn", r"(?<![\w.-])(?P<v>\d{3}-\d{2}-\d{4})" + _END, _ssn_ok, "-"),
    _r(
        "us-ssn",
        r"(?i:ssn|social security(?: number)?)"
        + _LABEL_GAP
        + r"(?P<v>\d{3}[ -]?\d{2}[ -]?\d{4})(?!\d)",
        _ssn_ok,
    ),
    _r(
        "uk-nino",
        r"(?<![\w])(?P<v>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D])" + _END,
        _nino_ok,
    ),
    _r(
        "uk-nhs-number",
        r"(?i:nhs)" + _LABEL_GAP + r"(?P<v>\d{3}[ -]?\d{3}[ -]?\d{4})(?!\d)",
        nhs_ok,
    ),
    _r(
        "mac-address",
        r"(?<![\w:-])(?P<v>[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\2){4}[0-9A-Fa-f]{2}"
        r"|[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4})(?![\w:-])",
    ),
    # Any run of hex digits and colons, judged by the ipaddress module.
    _r(
        "ipv6",
        r"(?<![\w:.])(?P<v>[0-9A-Fa-f]{0,4}:[0-9A-Fa-f:]{2,37})(?![\w:])(?!\.\d)",
        _ipv6_ok,
        ":",
    ),
    _r(
        "ipv4",
        r"(?<![\w.])(?<!version )(?<!v)(?<!build )(?P<v>(?:25[0-5]|2[0-4]\d|1?\d?\d)"
        r"(?:\.(?:25[0-5]|2[0-4]\d|1?\d?\d)){3})" + _END,
        _ipv4_ok,
        ".",
    ),
    _r(
        "date-of-birth",
        r"(?i:\bdob\b|date of birth|birth ?date|born(?: on)?|birthday|d\.o\.b\.?)"
        + _LABEL_GAP
        + r"(?P<v>"
        + _DATE
        + r")",
        flags=re.IGNORECASE,
    ),
    _r(
        "passport-number",
        r"(?i:passport)" + _LABEL_GAP + r"(?P<v>(?=[A-Z0-9]*\d)[A-Z0-9]{6,9})" + _END,
    ),
    _r(
        "medical-record-number",
        r"(?i:\bmrn\b|medical record)"
        + _LABEL_GAP
        + r"(?P<v>(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,14})"
        + _END,
    ),
    _r(
        "postal-address",
        r"(?<![\w])(?P<v>\d{1,6} (?:"
        + _CAP
        + r" ){1,3}(?:"
        + STREET_SUFFIXES
        + r")\.?(?:,? (?:Apt|Suite|Unit|Flat|#) ?[\w-]+)?,? (?:"
        + _CAP
        + r" ?){1,3},? (?:(?:"
        + US_STATES
        + r") \d{5}(?:-\d{4})?|[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}))(?![\w])",
    ),
    _r(
        "person-name",
        r"(?<![\w])" + _NAME_CONTEXT + r"(?P<v>" + _CAP + r"(?: " + _CAP + r"){1,2})(?![\w])",
        _name_ok,
    ),
)
# A name in a name column: one to four capitalised words, with the particles of
# many naming traditions (van, de la, bin, al-) between them.
_PERSON_VALUE = re.compile(
    _CAP
    + r"(?:[ ,]+(?:(?:van|von|der|den|de|del|della|da|di|du|la|le|al|bin|ibn|binti)[ -]+)*"
    + _CAP
    + r"){0,3}\.?"
)
_FIRST_NAME_PAIR = re.compile(r"(?<![\w@.])(?P<v>" + _CAP + r"(?: " + _CAP + r"){1,2})(?![\w@])")
_PHONE_CANDIDATE = re.compile(
    r"(?<![\w+.])(?P<v>\+\d(?:[ ().-]{0,2}\d){6,17}|\(\d{2,5}\) ?\d{2,4}[ .-]?\d{3,4}"
    r"|\d{2}(?:[ .-]\d{2}){4}|\d{2,5}[ -]\d{2,4}[ -]?\d{3,4}(?:[ -]\d{2,4})?|0\d{9,10}"
    r"|\d{3}\.\d{3}\.\d{4})" + _END
)
_PHONE_REGIONS = ("US", "GB", "DE", "FR", "IN")
_NAMED_VALUE = re.compile(
    r"(?P<k>[A-Za-z_][\w.-]{0,40})\\?[\"']?[ \t]*(?::|=|:=)[ \t]*\\?[\"']"
    r"(?P<v>[^\"'\\\n]{1,200})\\?[\"']"
)
_VERSION_LABEL = re.compile(r"(?i:version|driver|build|release|firmware|\bver\b)[\w\"' :=]*$")
_PHONE_LABEL = re.compile(r"(?i:phone|mobile|tel\b|call|cell|whatsapp|fax|contact)")
# Shapes of other identifiers that a phone parser would accept: an SSN, card-style
# groups of four, and long digit runs with no country code.
_NOT_PHONE = re.compile(
    r"\d{3}-\d{2}-\d{4}|\d{4}(?:[ -]\d{4}){2,}[ -]?\d*|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{13,}"
)


class _Phones:
    """The ``phonenumbers`` library, imported on first use (it is large)."""

    def __init__(self) -> None:
        self._lib: Any = None

    def valid(self, candidate: str, *, labelled: bool = False) -> bool:
        """Whether ``candidate`` is a valid number in a likely region; with a label
        ("phone", a phone column) a number of possible length is enough."""
        if self._lib is None:
            import phonenumbers  # noqa: PLC0415 (start-up time)

            self._lib = phonenumbers
        lib = self._lib
        digits = sum(c.isdigit() for c in candidate)
        if not 7 <= digits <= 15:
            return False
        regions = (None,) if candidate.startswith("+") else _PHONE_REGIONS
        for region in regions:
            try:
                number = lib.parse(candidate, region)
            except lib.NumberParseException:
                continue
            if lib.is_valid_number(number) or (labelled and lib.is_possible_number(number)):
                return True
        return False


_PHONES = _Phones()


_Span = tuple[str | None, int, int, str]
"""(kind, start, end, value); a ``None`` kind claims a span without reporting it."""


def _named_values(text: str) -> Iterator[_Span]:
    """Values whose name says what they are: ``"dob": "04/03/1994"``, ``version = ...``."""
    if "=" not in text and ":" not in text:
        return
    for m in _NAMED_VALUE.finditer(text):
        hint = column_hint(m.group("k"))
        value = m.group("v")
        if hint == "none":
            yield None, m.start("v"), m.end("v"), value
            continue
        for kind in _HINT_KINDS.get(hint, (hint,)) if hint is not None else ():
            if _confirms(kind, value):
                yield kind, m.start("v"), m.end("v"), value
                break


def _recognized(text: str) -> Iterator[_Span]:
    for rec in _TEXT_RECOGNIZERS:
        if rec.needs and not any(c in text for c in rec.needs):
            continue
        for m in rec.pattern.finditer(text):
            value = m.group("v")
            if rec.kind == "ipv4" and _VERSION_LABEL.search(
                text, max(0, m.start() - 32), m.start()
            ):
                continue  # driver_version = "9.7.19.159"
            if rec.check(value):
                yield rec.kind, m.start("v"), m.end("v"), value


def _first_name_pairs(text: str) -> Iterator[_Span]:
    for m in _FIRST_NAME_PAIR.finditer(text):
        value = m.group("v")
        if value.split()[0].lower() in FIRST_NAMES and _name_ok(value):
            yield "person-name", m.start("v"), m.end("v"), value


def _phone_numbers(text: str) -> Iterator[_Span]:
    # Digit runs shaped like cards or account numbers (even invalid ones) are not
    # phone numbers, nor is any part of them.
    blocked = Claims([m.span() for m in _NOT_PHONE.finditer(text)])
    for m in _PHONE_CANDIDATE.finditer(text):
        value = m.group("v")
        start, end = m.span("v")
        if blocked.overlaps(start, end):
            continue
        if _NOT_PHONE.fullmatch(value) or _DATE_RE.fullmatch(value):
            continue
        labelled = _PHONE_LABEL.search(text, max(0, m.start() - 24), m.start()) is not None
        if _PHONES.valid(value, labelled=labelled):
            yield "phone-number", start, end, value


class PiiDetector:
    """Typed personal data in free text, and in table cells with a column hint."""

    def detect(self, text: str) -> list[Detection]:
        """Every personal value in ``text``, ordered by position, overlaps resolved."""
        # ramparts' own redaction marks are never findings (a rescan comes back clean).
        taken = Claims(redaction_spans(text))
        found: list[Detection] = []
        for kind, start, end, value in self._spans(text):
            if taken.overlaps(start, end):
                continue
            taken.add(start, end)
            if kind is not None:  # None: a value its name says is not personal
                found.append(pii_detection(kind, start, end, value))
        found.sort(key=lambda d: d.start)
        return found

    def _spans(self, text: str) -> Iterator[_Span]:
        yield from _named_values(text)
        yield from _recognized(text)
        yield from _first_name_pairs(text)
        yield from _phone_numbers(text)

    def detect_value(self, value: str, hint: str | None) -> list[Detection]:
        """Personal data in one table cell whose column header suggests ``hint``.

        A hinted kind is confirmed by the value's own shape or checksum; a value that
        fails it, or a column without a hint, is read as free text (a ``note`` column
        that holds an email address still yields it). ``hint`` ``"none"`` (a version
        or hash column) turns the cell off.
        """
        stripped = value.strip()
        if not stripped or hint == "none":
            return []
        offset = value.find(stripped)
        for kind in _HINT_KINDS.get(hint, (hint,)) if hint is not None else ():
            if _confirms(kind, stripped):
                return [pii_detection(kind, offset, offset + len(stripped), stripped)]
        return self.detect(value)


def pii_detection(kind: str, start: int, end: int, value: str) -> Detection:
    """The detection of a ``kind`` value at ``start:end``."""
    info = KINDS[kind]
    return Detection(
        rule_id=info.rule_id,
        kind=kind,
        title=info.title,
        category=Category.PII,
        start=start,
        end=end,
        value=value,
        severity=info.severity,
        confidence="high",
    )


_VALUE_CHECKS: dict[str, Callable[[str], bool]] = {
    "credit-card": _card_ok,
    "iban": iban_ok,
    "us-ssn": lambda v: bool(re.fullmatch(r"\d{3}[ -]?\d{2}[ -]?\d{4}", v)) and _ssn_ok(v),
    "uk-nino": lambda v: (
        bool(re.fullmatch(r"[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]", v))
        and _nino_ok(v)
    ),
    "uk-nhs-number": lambda v: bool(re.fullmatch(r"\d{3}[ -]?\d{3}[ -]?\d{4}", v)) and nhs_ok(v),
    "email": lambda v: bool(re.fullmatch(r"[^@\s]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}", v)),
    "phone-number": lambda v: (
        bool(re.fullmatch(r"[+\d(][\d ().-]{5,20}", v)) and _PHONES.valid(v, labelled=True)
    ),
    "ipv4": _ipv4_ok,
    "ipv6": _ipv6_ok,
    "mac-address": lambda v: bool(
        re.fullmatch(r"[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}", v)
    ),
    "bitcoin-address": _btc_ok,
    "ethereum-address": lambda v: bool(re.fullmatch(r"0x[0-9a-fA-F]{40}", v)) and eip55_ok(v),
    "date-of-birth": lambda v: bool(_DATE_RE.fullmatch(v)),
    "passport-number": lambda v: bool(re.fullmatch(r"(?=[A-Z0-9]*\d)[A-Z0-9]{6,9}", v)),
    "medical-record-number": lambda v: bool(
        re.fullmatch(r"(?=[A-Z0-9-]*\d)[A-Z0-9][A-Z0-9-]{4,14}", v)
    ),
    "person-name": lambda v: bool(_PERSON_VALUE.fullmatch(v)),
    "postal-address": lambda v: (
        bool(re.search(r"\d", v) and re.search(r"[A-Za-z]{3}", v)) and len(v) >= 8
    ),
}


def _confirms(hint: str, value: str) -> bool:
    check = _VALUE_CHECKS.get(hint)
    return check is not None and check(value)


# Hints whose values may be one of several kinds.
_HINT_KINDS = {
    "national-id": ("us-ssn", "uk-nino", "uk-nhs-number"),
    "ipv4": ("ipv4", "ipv6"),
    "ipv6": ("ipv6", "ipv4"),
}

# Header words -> the kind their values should have; "none" turns recognizers off,
# "national-id" accepts any of the national identifiers.
_HEADER_HINTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), kind)
    for pattern, kind in (
        (r"(?:^|_)(?:version|build|release|sha\d*|hash|checksum|digest|uuid|guid)(?:_|$)", "none"),
        (r"(?:^|_)(?:ip|ipv4|ip_address|client_ip|remote_addr|src_ip|dst_ip)$", "ipv4"),
        (r"(?:^|_)ipv6(?:_|$)", "ipv6"),
        (r"(?:^|_)mac(?:_address)?$", "mac-address"),
        (r"e_?mail", "email"),
        (r"(?:^|_)(?:phone|mobile|tel|telephone|cell|fax)(?:_|$)", "phone-number"),
        (r"(?:^|_)(?:dob|birth_?date|date_of_birth|birthday|born)(?:_|$)", "date-of-birth"),
        (r"passport", "passport-number"),
        (r"(?:^|_)(?:mrn|medical_record(?:_number)?)(?:_|$)", "medical-record-number"),
        (r"(?:^|_)nhs(?:_|$)", "uk-nhs-number"),
        (r"(?:^|_)(?:ssn|social_security(?:_number)?)(?:_|$)", "us-ssn"),
        (r"(?:^|_)(?:nino|ni_number|national_insurance(?:_number)?)(?:_|$)", "uk-nino"),
        (r"(?:^|_)(?:national_id|nat_id|tax_id|id_number|identity_number)$", "national-id"),
        (r"(?:^|_)iban(?:_|$)", "iban"),
        (
            r"(?:^|_)(?:card(?:_number|_no)?|cc(?:_number)?|pan|credit_card(?:_number)?)$",
            "credit-card",
        ),
        (r"(?:^|_)(?:btc|bitcoin)(?:_|$)", "bitcoin-address"),
        (r"(?:^|_)(?:eth|ethereum|wallet)(?:_|$)", "ethereum-address"),
        (
            (
                r"^(?:name|full_?name|first_?name|last_?name|surname|given_?name|family_?name|"
                r"middle_?name|(?:customer|patient|employee|user|contact|person|account|holder|"
                r"owner|card_holder)_?name|payee|payer|beneficiary|recipient|sender|holder|"
                r"account_holder|cardholder|owner|assignee|reviewer|author|employee|customer|"
                r"patient|contact|next_of_kin|emergency_contact)$"
            ),
            "person-name",
        ),
        (
            r"(?:^|_)(?:home_|mailing_|postal_|street_|billing_|shipping_)?address$|^street$",
            "postal-address",
        ),
    )
)


def column_hint(header: str) -> str | None:
    """The kind a column's values should have, from its header (``None``: no hint)."""
    key = re.sub(r"[^a-z0-9]+", "_", header.strip().lower()).strip("_")
    if not key:
        return None
    for pattern, kind in _HEADER_HINTS:
        if pattern.search(key):
            return kind
    return None
